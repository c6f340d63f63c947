//! PostgreSQL's dialect of the SQL built at run time (partial updates, listings:
//! `todo_store_sql`), its values bound as native types, and running a statement with its
//! values into the shared row types.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{Arguments, PgExecutor, Postgres};
use todo_core::{Error, Result};
use todo_store_sql::{Dialect, FromColumns, Search, Sql, Value};

use crate::rows::{TASK_COLUMNS, db_error, decode};

/// PostgreSQL's side of the SQL both backends build at run time.
pub(crate) const DIALECT: Dialect = Dialect {
    numbered_placeholders: true,
    task_columns: TASK_COLUMNS,
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
    query(text, values)
}

/// `text` with `values` bound to `$1`, `$2`, … in order.
pub(crate) fn query(
    text: impl Into<String>,
    values: impl IntoIterator<Item = Value>,
) -> Result<Query<'static, Postgres, PgArguments>> {
    let mut arguments = PgArguments::default();
    for value in values {
        match value {
            Value::Bool(v) => arguments.add(v),
            Value::SmallInt(v) => arguments.add(v),
            Value::Int(v) => arguments.add(v),
            Value::Text(v) => arguments.add(v),
            Value::Time(v) => arguments.add(v),
            Value::Date(v) => arguments.add(v),
            Value::Local(v) => arguments.add(v),
        }
        .map_err(Error::internal)?;
    }
    Ok(sqlx::query_with(
        sqlx::AssertSqlSafe(text.into()),
        arguments,
    ))
}

/// The first row of `text` (with `values`), read as `R` and mapped to `T`.
pub(crate) async fn row<'e, R, T>(
    executor: impl PgExecutor<'e>,
    text: impl Into<String>,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<T>>
where
    R: FromColumns + Into<T> + Send + Unpin,
{
    let row = query(text, values)?
        .try_map(|row| decode::<R>(&row))
        .fetch_optional(executor)
        .await
        .map_err(db_error)?;
    Ok(row.map(Into::into))
}

/// Every row of `text` (with `values`), read as `R` and mapped to `T`.
pub(crate) async fn rows<'e, R, T>(
    executor: impl PgExecutor<'e>,
    text: impl Into<String>,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<T>>
where
    R: FromColumns + Into<T> + Send + Unpin,
{
    let rows = query(text, values)?
        .try_map(|row| decode::<R>(&row))
        .fetch_all(executor)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The first column of the first row of `text` (with `values`), if there is a row.
pub(crate) async fn scalar<'e, T>(
    executor: impl PgExecutor<'e>,
    text: impl Into<String>,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<T>>
where
    T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres> + Send + Unpin,
{
    query(text, values)?
        .try_map(|row: sqlx::postgres::PgRow| sqlx::Row::try_get(&row, 0))
        .fetch_optional(executor)
        .await
        .map_err(db_error)
}

/// Runs `text` (with `values`); how many rows it changed.
pub(crate) async fn run<'e>(
    executor: impl PgExecutor<'e>,
    text: impl Into<String>,
    values: impl IntoIterator<Item = Value>,
) -> Result<u64> {
    let done = query(text, values)?
        .execute(executor)
        .await
        .map_err(db_error)?;
    Ok(done.rows_affected())
}
