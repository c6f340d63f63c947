//! The `WHERE`, `ORDER BY` and keyset parts of task listings.

use sqlx::{Postgres, QueryBuilder};
use todo_core::ids::UserId;
use todo_core::page::{Cursor, Sort, SortField, SortValue, TaskFilter};

/// The sort key expression; each has an index on `(user_id, <expression>, id)`.
pub fn sort_expression(field: SortField) -> &'static str {
    match field {
        SortField::CreatedAt => "created_at",
        SortField::DueAt => "COALESCE(due_key, 'infinity'::timestamptz)",
        SortField::Priority => "priority",
        SortField::Title => "lower(title)",
        SortField::Position => "position",
    }
}

/// `WHERE` for a filter; always scoped to the user.
pub fn push_filter(qb: &mut QueryBuilder<Postgres>, user_id: &UserId, filter: &TaskFilter) {
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
