//! The `WHERE`, `ORDER BY` and keyset parts of task listings.

use sqlx::{QueryBuilder, Sqlite};
use todo_core::page::{Cursor, Sort, SortField, SortValue, TaskFilter};
use todo_core::time::to_sortable_text as ts;

/// What "no due date" sorts as: after every real date.
const NO_DUE: &str = "9999-12-31T23:59:59.999999Z";

/// The sort key expression; each has an index on `(user_id, <expression>, id)`.
pub fn sort_expression(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created_at",
        SortField::DueAt => "COALESCE(due_key, '9999-12-31T23:59:59.999999Z')",
        SortField::Priority => "priority",
        SortField::Title => "title COLLATE NOCASE",
        SortField::Position => "position",
    }
}

/// `WHERE` for a filter; always scoped to the user.
pub fn push_filter(qb: &mut QueryBuilder<Sqlite>, user_id: &str, filter: &TaskFilter) {
    qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
    if let Some(completed) = filter.status.completed() {
        qb.push(" AND completed = ").push_bind(completed);
    }
    if !filter.priorities.is_empty() {
        qb.push(" AND priority IN (");
        let mut list = qb.separated(", ");
        for priority in &filter.priorities {
            list.push_bind(priority.rank());
        }
        qb.push(")");
    }
    for tag in &filter.tags {
        qb.push(" AND id IN (SELECT tt.task_id FROM task_tags tt JOIN tags t ON t.id = tt.tag_id WHERE t.user_id = ");
        qb.push_bind(user_id.to_owned())
            .push(" AND t.name_key = ")
            .push_bind(tag.clone())
            .push(")");
    }
    if !filter.search.is_empty() {
        qb.push(" AND id IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ");
        qb.push_bind(match_expression(user_id, &filter.search))
            .push(")");
    }
    if let Some(before) = &filter.due_before {
        qb.push(" AND due_key < ").push_bind(ts(before));
    }
    if let Some(after) = &filter.due_after {
        qb.push(" AND due_key >= ").push_bind(ts(after));
    }
    if let Some(now) = &filter.overdue_at {
        qb.push(" AND completed = 0 AND due_key < ")
            .push_bind(ts(now));
    }
}

/// An FTS5 query: the owner's rows (the owner column holds SQLite's `hex(user_id)`), and every
/// term as a prefix in the title or description. Terms are letters and digits only (see
/// `todo_core::page::search_terms`); quoting keeps them literal anyway.
fn match_expression(user_id: &str, terms: &[String]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let owner: String = user_id.bytes().map(|b| format!("{b:02X}")).collect();
    let mut expression = format!("owner:{owner}");
    for term in terms {
        expression.push_str(&format!(" AND {{title description}}:{}*", quote(term)));
    }
    expression
}

/// ` ORDER BY …` for a sort, ties broken by id in the same direction.
pub fn order_by(sort: &Sort) -> String {
    let dir = if sort.descending { "DESC" } else { "ASC" };
    format!(" ORDER BY {} {dir}, id {dir}", sort_expression(sort.field))
}

/// Whether the filter selects through search or tags (see `list_matches`).
pub fn is_selective(filter: &TaskFilter) -> bool {
    !filter.search.is_empty() || !filter.tags.is_empty()
}

/// Keyset condition on `expression` (the sort key, or a column holding it), order, limit.
pub fn push_page(
    qb: &mut QueryBuilder<Sqlite>,
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
            SortValue::Time(Some(at)) => qb.push_bind(ts(at)),
            SortValue::Time(None) => qb.push_bind(NO_DUE),
            SortValue::Int(n) => qb.push_bind(*n),
            SortValue::Text(text) => qb.push_bind(text.clone()),
        };
        qb.push(", ").push_bind(after.id).push(")");
    }
    qb.push(format_args!(
        " ORDER BY {expression} {dir}, id {dir} LIMIT "
    ));
    qb.push_bind(i64::from(limit));
}
