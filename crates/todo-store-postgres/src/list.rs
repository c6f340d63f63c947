//! Task listings: the page and its total in one statement. The filter, the order and the
//! cursor are `todo_store_sql::list`'s.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::page::{TaskFilter, TaskQuery};
use todo_core::store::TaskSlice;
use todo_store_sql::list::{
    OPEN_PROJECTS, count, is_selective, matches, order_by, push_filter, push_page, push_page_by_id,
    sort_expression,
};
use todo_store_sql::{Sql, TASK_COLUMN_COUNT, TaskRow};

use crate::rows::{TASK_COLUMNS, db_error, decode};
use crate::sql::{self, DIALECT, bound};

/// Up to `limit` tasks of the query and the total of its filter.
pub async fn page(
    pool: &PgPool,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    if is_selective(&query.filter) {
        return counted_page(
            pool,
            user_id,
            query,
            matches(&DIALECT, user_id, query, limit),
        )
        .await;
    }
    // The total rides along as an uncorrelated subquery (computed once): one round trip for
    // the page and its total.
    let mut sql = Sql::new(&DIALECT, "SELECT ");
    sql.push_task_columns(TASK_COLUMNS, user_id)
        .push(", (SELECT COUNT(*) FROM tasks");
    push_filter(&mut sql, &DIALECT, user_id, &query.filter);
    sql.push(") AS total FROM tasks");
    if query.filter == TaskFilter::default() {
        // Every task of the user's open projects, in order. Tasks of several projects cannot
        // come from one ordered index scan, so each project's first rows do (an index scan on
        // `(project_id, <sort key>, id)` that stops after the page's rows, in a lateral join),
        // and only those are merged and cut to the page; the full rows (tags, reminders) are
        // built for the page's ids alone.
        let key = sort_expression(&DIALECT, query.sort.field);
        sql.push(" WHERE id IN (SELECT t.id FROM (")
            .push(OPEN_PROJECTS)
            .bind(user_id)
            .push(" AND NOT p.archived) m CROSS JOIN LATERAL (SELECT id, ")
            .push(&key)
            .push(" AS k FROM tasks WHERE project_id = m.project_id");
        push_page(
            &mut sql,
            &DIALECT,
            &key,
            &query.sort,
            query.after.as_ref(),
            limit,
        );
        let dir = if query.sort.descending { "DESC" } else { "ASC" };
        sql.push(&format!(
            ") t ORDER BY t.k {dir}, t.id {dir} LIMIT {limit})"
        ));
        sql.push(&order_by(&DIALECT, &query.sort));
    } else {
        push_page_by_id(&mut sql, &DIALECT, user_id, query, limit);
    }
    counted_page(pool, user_id, query, sql).await
}

/// Runs a page's statement, whose rows carry the total after the task's columns.
async fn counted_page(
    pool: &PgPool,
    user_id: &UserId,
    query: &TaskQuery,
    statement: Sql,
) -> Result<TaskSlice> {
    let rows = bound(statement)?
        .try_map(|row: PgRow| {
            Ok((
                decode::<TaskRow>(&row)?,
                row.try_get::<i64, _>(TASK_COLUMN_COUNT)?,
            ))
        })
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    let total = match rows.first() {
        Some((_, total)) => u64::try_from(*total).unwrap_or_default(),
        // Past the last page the rows cannot carry the total.
        None if query.after.is_some() => {
            let (text, values) = count(&DIALECT, user_id, &query.filter).into_parts();
            let total: Option<i64> = sql::scalar(pool, text, values).await?;
            u64::try_from(total.unwrap_or(0)).unwrap_or_default()
        }
        None => 0,
    };
    Ok(TaskSlice {
        tasks: rows
            .into_iter()
            .map(|(row, _): (TaskRow, _)| row.into())
            .collect(),
        total,
    })
}
