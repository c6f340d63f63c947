//! Running statements through each connection's statement cache, and SQLite's dialect of the
//! SQL built at run time (partial updates, listings: `todo_store_sql`), with its values bound
//! in order. The same shape of request gives the same text, so `prepare_cached` finds the
//! statement again.

use rusqlite::types::{FromSql, Value as SqliteValue};
use rusqlite::{Connection, OptionalExtension, Params, Row, params_from_iter};
use todo_core::Result;
use todo_core::time::to_sortable_text as ts;
use todo_store_sql::{Dialect, FromColumns, Search, Sql, Value};

use crate::rows::{TASK_COLUMNS, date_text, db_error, decode};

/// Runs a statement that returns no rows; how many rows it changed.
pub(crate) fn execute(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// The first row, if any (for `INSERT`/`UPDATE … RETURNING`, SQLite makes every change on
/// the first step).
pub(crate) fn one<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnOnce(&Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    conn.prepare_cached(sql)?.query_row(params, map).optional()
}

/// Every row.
pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    map: impl FnMut(&Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut statement = conn.prepare_cached(sql)?;
    statement.query_map(params, map)?.collect()
}

/// SQLite's side of the SQL both backends build at run time (`todo_store_sql`).
pub(crate) const DIALECT: Dialect = Dialect {
    numbered_placeholders: false,
    task_columns: TASK_COLUMNS,
    no_due: "'9999-12-31T23:59:59.999999Z'",
    title_sort: "title COLLATE NOCASE",
    title_cursor: ("", ""),
    open: "completed = 0",
    tag_filter: [
        " AND id IN (SELECT tt.task_id FROM task_tags tt JOIN tags t ON t.id = tt.tag_id \
         WHERE t.user_id = ",
        " AND t.name_key = ",
        ")",
    ],
    search: Search::Fts5,
};

/// A value as SQLite stores it: moments as fixed-width RFC 3339 text, days as `YYYY-MM-DD`.
fn value(value: &Value) -> SqliteValue {
    match value {
        Value::Bool(v) => SqliteValue::Integer(i64::from(*v)),
        Value::SmallInt(v) => SqliteValue::Integer(i64::from(*v)),
        Value::Int(v) => v.map_or(SqliteValue::Null, SqliteValue::Integer),
        Value::Text(v) => v.clone().map_or(SqliteValue::Null, SqliteValue::Text),
        Value::Time(v) => v
            .as_ref()
            .map_or(SqliteValue::Null, |at| SqliteValue::Text(ts(at))),
        Value::Date(v) => v.map_or(SqliteValue::Null, |d| SqliteValue::Text(date_text(d))),
        Value::Local(v) => v.map_or(SqliteValue::Null, |l| {
            SqliteValue::Text(l.format(todo_core::time::LOCAL_FORMAT).to_string())
        }),
    }
}

/// The first row of `text` (with `values`), read as `R` and mapped to `T`.
pub(crate) fn row<R, T>(
    conn: &Connection,
    text: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<T>>
where
    R: FromColumns + Into<T>,
{
    let params = params_from_iter(values.into_iter().map(|v| value(&v)));
    let row = one(conn, text, params, decode::<R>).map_err(db_error)?;
    Ok(row.map(Into::into))
}

/// Every row of `text` (with `values`), read as `R` and mapped to `T`.
pub(crate) fn rows<R, T>(
    conn: &Connection,
    text: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Vec<T>>
where
    R: FromColumns + Into<T>,
{
    let params = params_from_iter(values.into_iter().map(|v| value(&v)));
    let rows = all(conn, text, params, decode::<R>).map_err(db_error)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The first column of the first row of `text` (with `values`), if there is a row.
pub(crate) fn scalar<T: FromSql>(
    conn: &Connection,
    text: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<Option<T>> {
    let params = params_from_iter(values.into_iter().map(|v| value(&v)));
    one(conn, text, params, |row| row.get(0)).map_err(db_error)
}

/// [`scalar`] with its own reading of a failure (a unique violation, say).
pub(crate) fn scalar_or<T: FromSql>(
    conn: &Connection,
    text: &str,
    values: impl IntoIterator<Item = Value>,
    error: impl FnOnce(rusqlite::Error) -> todo_core::Error,
) -> Result<Option<T>> {
    let params = params_from_iter(values.into_iter().map(|v| value(&v)));
    one(conn, text, params, |row| row.get(0)).map_err(error)
}

/// Runs `text` (with `values`); how many rows it changed.
pub(crate) fn run(
    conn: &Connection,
    text: &str,
    values: impl IntoIterator<Item = Value>,
) -> Result<usize> {
    let params = params_from_iter(values.into_iter().map(|v| value(&v)));
    execute(conn, text, params).map_err(db_error)
}

/// Runs SQL built at run time, its values bound in order.
pub(crate) trait Run {
    fn execute(&self, conn: &Connection) -> rusqlite::Result<usize>;
    fn one<T>(
        &self,
        conn: &Connection,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Option<T>>;
    fn all<T>(
        &self,
        conn: &Connection,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>>;
}

impl Run for Sql {
    fn execute(&self, conn: &Connection) -> rusqlite::Result<usize> {
        execute(
            conn,
            self.text(),
            params_from_iter(self.values().iter().map(value)),
        )
    }

    fn one<T>(
        &self,
        conn: &Connection,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Option<T>> {
        let params = params_from_iter(self.values().iter().map(value));
        one(conn, self.text(), params, map)
    }

    fn all<T>(
        &self,
        conn: &Connection,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let params = params_from_iter(self.values().iter().map(value));
        all(conn, self.text(), params, map)
    }
}
