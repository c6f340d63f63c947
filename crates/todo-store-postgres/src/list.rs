//! Task listings: the `WHERE`, `ORDER BY` and keyset parts, and the page with its total.

use sqlx::{PgPool, Postgres, QueryBuilder};
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::page::{Cursor, Sort, SortField, SortValue, TaskFilter, TaskQuery};
use todo_core::store::TaskSlice;
use todo_store_sql::db_error;

use crate::rows::{CountedTask, TASK_COLUMNS};

/// Up to `limit` tasks of the query and the total of its filter.
pub async fn page(
    pool: &PgPool,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    if is_selective(&query.filter) {
        return matches(pool, user_id, query, limit).await;
    }
    // The total rides along as an uncorrelated subquery (computed once): one round trip for
    // the page and its total.
    let mut qb = QueryBuilder::<Postgres>::new(format!(
        "SELECT {TASK_COLUMNS}, (SELECT COUNT(*) FROM tasks"
    ));
    push_filter(&mut qb, user_id, &query.filter);
    qb.push(") AS total FROM tasks");
    let sort_key = sort_expression(query.sort.field);
    if query.filter == TaskFilter::default() {
        // Every task of the user, in order: an index scan on `(user_id, <sort key>, id)` stops
        // after the page's rows, and the tag and reminder subqueries run for those rows only
        // (PostgreSQL evaluates costly output columns after the `LIMIT`).
        push_filter(&mut qb, user_id, &query.filter);
        push_page(&mut qb, sort_key, &query.sort, query.after.as_ref(), limit);
    } else {
        // The page's ids come from an index alone; the full rows (with their tags) are built
        // for those ids only, never for every candidate row before sorting.
        qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
        qb.push(" AND id IN (SELECT id FROM tasks");
        push_filter(&mut qb, user_id, &query.filter);
        push_page(&mut qb, sort_key, &query.sort, query.after.as_ref(), limit);
        qb.push(")").push(order_by(&query.sort));
    }
    counted_page(pool, user_id, query, qb).await
}

async fn count(pool: &PgPool, user_id: &UserId, filter: &TaskFilter) -> Result<u64> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM tasks");
    push_filter(&mut qb, user_id, filter);
    let count: i64 = qb
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Search and tag filters select a set that must be found before it can be sorted: find it
/// once, then take both the page and the total from it.
async fn matches(
    pool: &PgPool,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    let mut qb = QueryBuilder::<Postgres>::new("WITH matches AS MATERIALIZED (SELECT id, ");
    qb.push(sort_expression(query.sort.field))
        .push(" AS k FROM tasks");
    push_filter(&mut qb, user_id, &query.filter);
    qb.push(format!(
        ") SELECT {TASK_COLUMNS}, (SELECT COUNT(*) FROM matches) AS total FROM tasks WHERE user_id = "
    ));
    qb.push_bind(user_id.to_owned());
    qb.push(" AND id IN (SELECT id FROM matches WHERE TRUE");
    push_page(&mut qb, "k", &query.sort, query.after.as_ref(), limit);
    qb.push(")").push(order_by(&query.sort));
    counted_page(pool, user_id, query, qb).await
}

/// Runs a page's statement, whose rows carry the total.
async fn counted_page(
    pool: &PgPool,
    user_id: &UserId,
    query: &TaskQuery,
    mut statement: QueryBuilder<Postgres>,
) -> Result<TaskSlice> {
    let rows = statement
        .build_query_as::<CountedTask>()
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
    let total = match rows.first() {
        Some(row) => u64::try_from(row.total).unwrap_or_default(),
        // Past the last page the rows cannot carry the total.
        None if query.after.is_some() => count(pool, user_id, &query.filter).await?,
        None => 0,
    };
    Ok(TaskSlice {
        tasks: rows.into_iter().map(|row| row.task.into()).collect(),
        total,
    })
}

/// The sort key expression; each has an index on `(user_id, <expression>, id)`.
fn sort_expression(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created_at",
        SortField::DueAt => "COALESCE(due_key, 'infinity'::timestamptz)",
        SortField::Priority => "priority",
        SortField::Title => "lower(title)",
        SortField::Position => "position",
    }
}

/// `WHERE` for a filter; always scoped to the user.
fn push_filter(qb: &mut QueryBuilder<Postgres>, user_id: &UserId, filter: &TaskFilter) {
    qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
    if let Some(completed) = filter.status.completed() {
        qb.push(" AND completed = ").push_bind(completed);
    }
    if !filter.priorities.is_empty() {
        let ranks: Vec<i16> = filter.priorities.iter().map(|p| p.rank()).collect();
        qb.push(" AND priority = ANY(").push_bind(ranks).push(")");
    }
    // `id = ANY(ARRAY(…))` looks the tagged ids up by key; an `IN (…)` semi-join tends to be
    // planned as a walk over every task of the user.
    for tag in &filter.tags {
        qb.push(" AND id = ANY(ARRAY(SELECT tt.task_id FROM task_tags tt JOIN tags t ON t.user_id = tt.user_id AND t.id = tt.tag_id WHERE tt.user_id = ");
        qb.push_bind(user_id.to_owned())
            .push(" AND t.name_key = ")
            .push_bind(tag.clone())
            .push("))");
    }
    if !filter.search.is_empty() {
        qb.push(" AND search @@ to_tsquery('simple', ")
            .push_bind(ts_query(&filter.search))
            .push(")");
    }
    if let Some(before) = filter.due_before {
        qb.push(" AND due_key < ").push_bind(before);
    }
    if let Some(after) = filter.due_after {
        qb.push(" AND due_key >= ").push_bind(after);
    }
    if let Some(now) = filter.overdue_at {
        qb.push(" AND NOT completed AND due_key < ").push_bind(now);
    }
}

/// `a:* & b:*`: every term as a prefix. Terms are letters and digits only (see
/// `todo_core::page::search_terms`), so they cannot carry tsquery syntax.
fn ts_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// ` ORDER BY …` for a sort, ties broken by id in the same direction.
fn order_by(sort: &Sort) -> String {
    let dir = if sort.descending { "DESC" } else { "ASC" };
    format!(" ORDER BY {} {dir}, id {dir}", sort_expression(sort.field))
}

/// Whether the filter selects through search or tags (see `list_matches`).
fn is_selective(filter: &TaskFilter) -> bool {
    !filter.search.is_empty() || !filter.tags.is_empty()
}

/// Keyset condition on `expression` (the sort key, or a column holding it), order, limit.
fn push_page(
    qb: &mut QueryBuilder<Postgres>,
    expression: &str,
    sort: &Sort,
    after: Option<&Cursor>,
    limit: u32,
) {
    let (cmp, dir) = if sort.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(after) = after {
        qb.push(format_args!(" AND ({expression}, id) {cmp} ("));
        match &after.key {
            SortValue::Time(Some(at)) => qb.push_bind(*at),
            SortValue::Time(None) => qb.push("'infinity'::timestamptz"),
            SortValue::Int(n) if sort.field == SortField::Priority => {
                qb.push_bind(i16::try_from(*n).unwrap_or_default())
            }
            SortValue::Int(n) => qb.push_bind(*n),
            SortValue::Text(text) => qb.push("lower(").push_bind(text.clone()).push(")"),
        };
        qb.push(", ").push_bind(after.id).push(")");
    }
    // The limit is written into the text: a generic plan for a bound `LIMIT $n` is costed as if
    // it took a tenth of the rows, and may sort them all instead of walking an index in order.
    qb.push(format_args!(
        " ORDER BY {expression} {dir}, id {dir} LIMIT {limit}"
    ));
}
