//! Task listings: the `WHERE`, `ORDER BY` and keyset parts, and the page with its total,
//! read in one snapshot.

use rusqlite::Connection;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::page::{Cursor, Sort, SortField, SortValue, TaskFilter, TaskQuery};
use todo_core::store::TaskSlice;
use todo_core::time::to_sortable_text as ts;

use crate::rows::{TASK_COLUMN_COUNT, TASK_COLUMNS, db_error, task};
use crate::sql::Sql;

/// The page's rows by their ids (`IN` follows), still scoped to the owner; the unary `+`
/// keeps the owner's index out of the plan, where it would scan every task of the owner.
const OWNED_PAGE: &str = "WHERE +user_id = ";

/// What "no due date" sorts as: after every real date.
const NO_DUE: &str = "9999-12-31T23:59:59.999999Z";

/// Up to `limit` tasks of the query and the total of its filter, from one read transaction
/// (so the total counts the snapshot the page came from).
pub fn page(
    conn: &mut Connection,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    let tx = conn.transaction().map_err(db_error)?;
    let slice = if is_selective(&query.filter) {
        matches(&tx, user_id, query, limit)?
    } else {
        // The page's ids come from an index alone; the full rows (with their tags) are built
        // for those ids only, never for every candidate row before sorting (`OWNED_PAGE`).
        let mut sql = Sql::new(format!("SELECT {TASK_COLUMNS} FROM tasks {OWNED_PAGE}"));
        sql.bind(user_id.to_owned());
        sql.push(" AND id IN (SELECT id FROM tasks");
        push_filter(&mut sql, user_id, &query.filter);
        push_page(
            &mut sql,
            sort_expression(query.sort.field),
            &query.sort,
            query.after.as_ref(),
            limit,
        );
        sql.push(")").push(&order_by(&query.sort));
        let rows = sql.all(&tx, task).map_err(db_error)?;
        TaskSlice {
            tasks: rows.into_iter().map(Into::into).collect(),
            total: count(&tx, user_id, &query.filter)?,
        }
    };
    tx.commit().map_err(db_error)?;
    Ok(slice)
}

/// How many of the user's tasks match the filter: an index-only count for status, priority
/// and due filters.
fn count(conn: &Connection, user_id: &UserId, filter: &TaskFilter) -> Result<u64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM tasks");
    push_filter(&mut sql, user_id, filter);
    let count: i64 = sql
        .one(conn, |row| row.get(0))
        .map_err(db_error)?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or_default())
}

/// Search and tag filters select a set that must be found before it can be sorted: find it
/// once, then take both the page and the total from it.
fn matches(
    conn: &Connection,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    let mut sql = Sql::new("WITH matches AS MATERIALIZED (SELECT id, ");
    sql.push(sort_expression(query.sort.field))
        .push(" AS k FROM tasks");
    push_filter(&mut sql, user_id, &query.filter);
    sql.push(&format!(
        ") SELECT {TASK_COLUMNS}, (SELECT COUNT(*) FROM matches) AS total FROM tasks {OWNED_PAGE}"
    ));
    sql.bind(user_id.to_owned());
    sql.push(" AND id IN (SELECT id FROM matches WHERE TRUE");
    push_page(&mut sql, "k", &query.sort, query.after.as_ref(), limit);
    sql.push(")").push(&order_by(&query.sort));
    let rows = sql
        .all(conn, |row| {
            Ok((task(row)?, row.get::<_, i64>(TASK_COLUMN_COUNT)?))
        })
        .map_err(db_error)?;
    let total = match rows.first() {
        Some((_, total)) => u64::try_from(*total).unwrap_or_default(),
        // Past the last page the rows cannot carry the total.
        None if query.after.is_some() => count(conn, user_id, &query.filter)?,
        None => 0,
    };
    Ok(TaskSlice {
        tasks: rows.into_iter().map(|(row, _)| row.into()).collect(),
        total,
    })
}

/// The sort key expression; each has an index on `(user_id, <expression>, id)`.
fn sort_expression(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created_at",
        SortField::DueAt => "COALESCE(due_key, '9999-12-31T23:59:59.999999Z')",
        SortField::Priority => "priority",
        SortField::Title => "title COLLATE NOCASE",
        SortField::Position => "position",
    }
}

/// `WHERE` for a filter; always scoped to the user.
fn push_filter(sql: &mut Sql, user_id: &UserId, filter: &TaskFilter) {
    sql.push(" WHERE user_id = ").bind(user_id.to_owned());
    if let Some(completed) = filter.status.completed() {
        sql.push(" AND completed = ").bind(completed);
    }
    if !filter.priorities.is_empty() {
        sql.push(" AND priority IN (");
        for (i, priority) in filter.priorities.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(priority.rank());
        }
        sql.push(")");
    }
    for tag in &filter.tags {
        sql.push(" AND id IN (SELECT tt.task_id FROM task_tags tt JOIN tags t ON t.id = tt.tag_id WHERE t.user_id = ");
        sql.bind(user_id.to_owned())
            .push(" AND t.name_key = ")
            .bind(tag.clone())
            .push(")");
    }
    if !filter.search.is_empty() {
        sql.push(" AND id IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ");
        sql.bind(match_expression(user_id, &filter.search))
            .push(")");
    }
    if let Some(before) = &filter.due_before {
        sql.push(" AND due_key < ").bind(ts(before));
    }
    if let Some(after) = &filter.due_after {
        sql.push(" AND due_key >= ").bind(ts(after));
    }
    if let Some(now) = &filter.overdue_at {
        sql.push(" AND completed = 0 AND due_key < ").bind(ts(now));
    }
}

/// An FTS5 query: the owner's rows (the owner column holds SQLite's `hex(user_id)`), and every
/// term as a prefix in the title or description. Terms are letters and digits only (see
/// `todo_core::page::search_terms`); quoting keeps them literal anyway.
fn match_expression(user_id: &UserId, terms: &[String]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let owner: String = user_id
        .as_str()
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut expression = format!("owner:{owner}");
    for term in terms {
        expression.push_str(&format!(" AND {{title description}}:{}*", quote(term)));
    }
    expression
}

/// ` ORDER BY …` for a sort, ties broken by id in the same direction.
fn order_by(sort: &Sort) -> String {
    let dir = if sort.descending { "DESC" } else { "ASC" };
    format!(" ORDER BY {} {dir}, id {dir}", sort_expression(sort.field))
}

/// Whether the filter selects through search or tags (see `matches`).
fn is_selective(filter: &TaskFilter) -> bool {
    !filter.search.is_empty() || !filter.tags.is_empty()
}

/// Keyset condition on `expression` (the sort key, or a column holding it), order, limit.
fn push_page(sql: &mut Sql, expression: &str, sort: &Sort, after: Option<&Cursor>, limit: u32) {
    let (cmp, dir) = if sort.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(after) = after {
        sql.push(&format!(" AND ({expression}, id) {cmp} ("));
        match &after.key {
            SortValue::Time(Some(at)) => sql.bind(ts(at)),
            SortValue::Time(None) => sql.bind(NO_DUE.to_owned()),
            SortValue::Int(n) => sql.bind(*n),
            SortValue::Text(text) => sql.bind(text.clone()),
        };
        sql.push(", ").bind(after.id).push(")");
    }
    // The limit is written into the text, not bound: SQLite plans `LIMIT ?` with the bound
    // value, so rebinding it makes every execution prepare the statement again (perf showed
    // the parser and planner in each listing). Pages use a handful of limits, each cached.
    sql.push(&format!(
        " ORDER BY {expression} {dir}, id {dir} LIMIT {limit}"
    ));
}
