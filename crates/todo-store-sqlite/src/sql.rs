//! Running statements through each connection's statement cache, and SQL built at run time
//! (partial updates, listings): text with `?` placeholders and its values in order. The same
//! shape of request gives the same text, so `prepare_cached` finds the statement again.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Params, Row, params_from_iter};

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

#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            values: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// A placeholder, bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Self {
        self.text.push('?');
        self.values.push(value.into());
        self
    }

    pub fn execute(&self, conn: &Connection) -> rusqlite::Result<usize> {
        execute(conn, &self.text, params_from_iter(&self.values))
    }

    pub fn one<T>(
        &self,
        conn: &Connection,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Option<T>> {
        one(conn, &self.text, params_from_iter(&self.values), map)
    }

    pub fn all<T>(
        &self,
        conn: &Connection,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        all(conn, &self.text, params_from_iter(&self.values), map)
    }
}
