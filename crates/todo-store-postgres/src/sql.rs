//! PostgreSQL's dialect of the SQL built at run time (partial updates, listings:
//! `todo_store_sql`), and its values bound as native types.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Arguments, Postgres};
use todo_core::{Error, Result};
use todo_store_sql::{Dialect, Search, Sql, Value};

use crate::rows::TASK_COLUMNS;

/// PostgreSQL's side of the SQL both backends build at run time.
pub(crate) const DIALECT: Dialect = Dialect {
    numbered_placeholders: true,
    task_columns: TASK_COLUMNS,
    page_owner: "user_id",
    no_due: "'infinity'::timestamptz",
    title_sort: "lower(title)",
    title_cursor: ("lower(", ")"),
    open: "NOT completed",
    // `id = ANY(ARRAY(…))` looks the tagged ids up by key; an `IN (…)` semi-join tends to be
    // planned as a walk over every task of the user.
    tag_filter: [
        " AND id = ANY(ARRAY(SELECT tt.task_id FROM task_tags tt JOIN tags t \
         ON t.user_id = tt.user_id AND t.id = tt.tag_id WHERE tt.user_id = ",
        " AND t.name_key = ",
        "))",
    ],
    search: Search::TsQuery,
};

/// The statement, its values bound in order; run it like any `sqlx::query`.
pub(crate) fn bound(sql: Sql) -> Result<Query<'static, Postgres, PgArguments>> {
    let (text, values) = sql.into_parts();
    let mut arguments = PgArguments::default();
    for value in values {
        match value {
            Value::Bool(v) => arguments.add(v),
            Value::SmallInt(v) => arguments.add(v),
            Value::Int(v) => arguments.add(v),
            Value::Text(v) => arguments.add(v),
            Value::Time(v) => arguments.add(v),
            Value::Date(v) => arguments.add(v),
        }
        .map_err(Error::internal)?;
    }
    Ok(sqlx::query_with(sqlx::AssertSqlSafe(text), arguments))
}
