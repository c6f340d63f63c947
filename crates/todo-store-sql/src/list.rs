//! Task listings: the filter, the order and the keyset cursor, and the statements built from
//! them that both backends run (each adds the page statement its planner likes best).

use todo_core::ids::UserId;
use todo_core::page::{
    AssigneeFilter, Cursor, ParentFilter, Sort, SortField, SortValue, TaskFilter, TaskQuery,
};

use crate::sql::{Dialect, Search, Sql};

/// Whether the filter selects through search or tags (see [`matches`]).
pub fn is_selective(filter: &TaskFilter) -> bool {
    !filter.search.is_empty() || !filter.tags.is_empty()
}

/// How many of the user's tasks match the filter (an index-only count for status, priority
/// and due filters).
pub fn count(dialect: &Dialect, user_id: &UserId, filter: &TaskFilter) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT COUNT(*) FROM tasks");
    push_filter(&mut sql, dialect, user_id, filter);
    sql
}

/// Search and tag filters select a set that must be found before it can be sorted: find it
/// once, then take both the page (task rows) and the total (the column after them) from it.
pub fn matches(dialect: &Dialect, user_id: &UserId, query: &TaskQuery, limit: u32) -> Sql {
    let mut sql = Sql::new(dialect, "WITH matches AS MATERIALIZED (SELECT id, ");
    sql.push(&sort_expression(dialect, query.sort.field))
        .push(" AS k FROM tasks");
    push_filter(&mut sql, dialect, user_id, &query.filter);
    sql.push(") SELECT ")
        .push_task_columns(dialect.task_columns, user_id)
        .push(
            ", (SELECT COUNT(*) FROM matches) AS total FROM tasks \
             WHERE id IN (SELECT id FROM matches WHERE TRUE",
        );
    push_page(
        &mut sql,
        dialect,
        "k",
        &query.sort,
        query.after.as_ref(),
        limit,
    );
    sql.push(")").push(&order_by(dialect, &query.sort));
    sql
}

/// ` WHERE id IN (SELECT id FROM tasks <filter> <page>) ORDER BY …`: the page's ids come
/// from an index alone; the full rows (with their tags) are built for those ids only, never
/// for every candidate row before sorting.
pub fn push_page_by_id(
    sql: &mut Sql,
    dialect: &Dialect,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) {
    sql.push(" WHERE id IN (SELECT id FROM tasks");
    push_filter(sql, dialect, user_id, &query.filter);
    push_page(
        sql,
        dialect,
        &sort_expression(dialect, query.sort.field),
        &query.sort,
        query.after.as_ref(),
        limit,
    );
    sql.push(")").push(&order_by(dialect, &query.sort));
}

/// The sort key expression; each has an index on `(project_id, <expression>, id)`.
pub fn sort_expression(dialect: &Dialect, field: SortField) -> String {
    match field {
        SortField::CreatedAt => "created_at".into(),
        SortField::DueAt => format!("COALESCE(due_key, {})", dialect.no_due),
        SortField::Priority => "priority".into(),
        SortField::Title => dialect.title_sort.into(),
        SortField::Position => "position".into(),
        SortField::CompletedAt => format!("COALESCE(completed_at, {})", dialect.no_due),
    }
}

/// ` WHERE …` for a filter; always scoped to the projects the user is a member of (the
/// archived ones only when the filter names one).
pub fn push_filter(sql: &mut Sql, dialect: &Dialect, user_id: &UserId, filter: &TaskFilter) {
    match filter.project {
        Some(project) => {
            sql.push(" WHERE project_id = ").bind(project);
            sql.push(" AND project_id IN (SELECT project_id FROM project_members WHERE user_id = ")
                .bind(user_id)
                .push(")");
        }
        None => {
            sql.push(" WHERE project_id IN (")
                .push(OPEN_PROJECTS)
                .bind(user_id)
                .push(" AND NOT p.archived)");
        }
    }
    if let Some(section) = filter.section {
        sql.push(" AND section_id = ").bind(section);
    }
    match &filter.assignee {
        Some(AssigneeFilter::Me) => {
            sql.push(" AND assignee_id = ").bind(user_id);
        }
        Some(AssigneeFilter::User(assignee)) => {
            sql.push(" AND assignee_id = ").bind(assignee);
        }
        Some(AssigneeFilter::Nobody) => {
            sql.push(" AND assignee_id IS NULL");
        }
        None => {}
    }
    match filter.parent {
        Some(ParentFilter::None) => {
            sql.push(" AND parent_id IS NULL");
        }
        Some(ParentFilter::Of(parent)) => {
            sql.push(" AND parent_id = ").bind(parent);
        }
        None => {}
    }
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
    let [before_owner, before_key, after_key] = dialect.tag_filter;
    for tag in &filter.tags {
        sql.push(before_owner).bind(user_id);
        sql.push(before_key).bind(tag.as_str()).push(after_key);
    }
    if !filter.search.is_empty() {
        match dialect.search {
            Search::Fts5 => sql
                .push(" AND id IN (SELECT rowid FROM tasks_fts WHERE tasks_fts MATCH ")
                .bind(fts5_query(&filter.search))
                .push(")"),
            Search::TsQuery => sql
                .push(" AND search @@ to_tsquery('simple', ")
                .bind(ts_query(&filter.search))
                .push(")"),
        };
    }
    if let Some(before) = filter.due_before {
        sql.push(" AND due_key < ").bind(before);
    }
    if let Some(after) = filter.due_after {
        sql.push(" AND due_key >= ").bind(after);
    }
    if let Some(now) = filter.overdue_at {
        sql.push(&format!(" AND {} AND due_key < ", dialect.open))
            .bind(now);
    }
}

/// An FTS5 query: every term as a prefix in the title or description (the rows are scoped
/// to the user's projects outside it). Terms are letters and digits only (see
/// `todo_core::page::search_terms`); quoting keeps them literal anyway.
fn fts5_query(terms: &[String]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    terms
        .iter()
        .map(|term| format!("{{title description}}:{}*", quote(term)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A tsquery, `a:* & b:*`: every term as a prefix. Terms are letters and digits only, so they
/// cannot carry tsquery syntax.
fn ts_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("{t}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The projects a listing without a project filter reads: the user's that are not archived.
pub const OPEN_PROJECTS: &str = "SELECT m.project_id FROM project_members m \
     JOIN projects p ON p.id = m.project_id WHERE m.user_id = ";

/// ` ORDER BY …` for a sort, ties broken by id in the same direction.
pub fn order_by(dialect: &Dialect, sort: &Sort) -> String {
    let dir = if sort.descending { "DESC" } else { "ASC" };
    format!(
        " ORDER BY {} {dir}, id {dir}",
        sort_expression(dialect, sort.field)
    )
}

/// The keyset condition on `expression` (the sort key, or a column holding it), the order and
/// the limit.
pub fn push_page(
    sql: &mut Sql,
    dialect: &Dialect,
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
        sql.push(&format!(" AND ({expression}, id) {cmp} ("));
        match &after.key {
            SortValue::Time(Some(at)) => sql.bind(*at),
            SortValue::Time(None) => sql.push(dialect.no_due),
            // The column's own type: a wider one can keep PostgreSQL off the index.
            SortValue::Int(n) if sort.field == SortField::Priority => {
                sql.bind(i16::try_from(*n).unwrap_or_default())
            }
            SortValue::Int(n) => sql.bind(*n),
            SortValue::Text(text) => {
                let (open, close) = dialect.title_cursor;
                sql.push(open).bind(text.as_str()).push(close)
            }
        };
        sql.push(", ").bind(after.id).push(")");
    }
    // The limit is written into the text, not bound. SQLite plans `LIMIT ?` with the bound
    // value, so rebinding it makes every execution prepare the statement again; PostgreSQL
    // costs a generic plan's bound `LIMIT $n` as if it took a tenth of the rows, and may sort
    // them all instead of walking an index in order. Pages use a handful of limits.
    sql.push(&format!(
        " ORDER BY {expression} {dir}, id {dir} LIMIT {limit}"
    ));
}
