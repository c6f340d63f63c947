//! rusqlite rows → the shared row types of `todo-store-sql` (which read them by position and
//! map them to domain types), value encoding, and rusqlite errors → domain errors.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::Row;
use rusqlite::types::{Type, ValueRef};
use todo_core::Error;
use todo_store_sql::{Columns, FromColumns};

/// Database failures are internal: the detail is logged, never shown to clients. The lock
/// still held by another process after the busy timeout (SQLITE_BUSY and its extended codes,
/// SQLITE_LOCKED) is `Unavailable`: the request changed nothing and may be retried.
pub(crate) fn db_error(err: rusqlite::Error) -> Error {
    use rusqlite::ffi::ErrorCode;
    match err.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Unavailable(err.into()),
        _ => Error::internal(err),
    }
}

/// Maps a unique violation to `Error::Conflict(message)` (the messages are shared with
/// PostgreSQL: `todo_store_sql::USER_CONFLICT`, …), anything else as [`db_error`].
pub(crate) fn conflict(message: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |err| {
        let unique = err
            .sqlite_error()
            .map(|e| e.extended_code)
            .is_some_and(|code| {
                code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            });
        if unique {
            Error::Conflict(message.into())
        } else {
            db_error(err)
        }
    }
}

/// A date as stored: `YYYY-MM-DD` (what sqlx wrote).
pub(crate) fn date_text(date: NaiveDate) -> String {
    date.format("%F").to_string()
}

fn time_at(row: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let text = match row.get_ref(i)? {
        ValueRef::Null => return Ok(None),
        value => value.as_str()?,
    };
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// A timestamp stored as RFC 3339 text (`todo_core::time::to_sortable_text`).
pub(crate) fn time(row: &Row, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    time_at(row, i)?.ok_or(rusqlite::Error::InvalidColumnType(
        i,
        "timestamp".into(),
        Type::Null,
    ))
}

pub(crate) fn opt_time(row: &Row, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    time_at(row, i)
}

pub(crate) fn opt_date(row: &Row, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let text = match row.get_ref(i)? {
        ValueRef::Null => return Ok(None),
        value => value.as_str()?,
    };
    NaiveDate::parse_from_str(text, "%F")
        .map(Some)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// A task row with its tag names as a JSON array, sorted without regard to case, and its
/// reminders as a JSON array of objects (each NULL when there are none). An aggregate with
/// `ORDER BY` opens a temporary b-tree every time it runs, rows or not: the `EXISTS` probes
/// run it only for tasks that have tags or reminders (most have neither).
pub(crate) const TASK_COLUMNS: &str = concat!(
    todo_store_sql::task_row_columns!(),
    ", CASE WHEN EXISTS (SELECT 1 FROM task_tags tt WHERE tt.task_id = tasks.id \
             AND tt.user_id = {viewer}) THEN \
         (SELECT json_group_array(t.name ORDER BY t.name_key) FROM task_tags tt \
             JOIN tags t ON t.id = tt.tag_id \
             WHERE tt.task_id = tasks.id AND tt.user_id = {viewer}) END AS tags, \
     CASE WHEN EXISTS (SELECT 1 FROM reminders r WHERE r.task_id = tasks.id \
             AND r.user_id = {viewer}) THEN \
         (SELECT json_group_array(json_object('id', r.id, 'remind_at', r.remind_at, \
             'minutes_before', r.minutes_before, 'sent_at', r.sent_at) ORDER BY r.remind_at, r.id) \
         FROM reminders r WHERE r.task_id = tasks.id AND r.user_id = {viewer}) END AS reminders"
);

/// Reads a row into one of the shared row types.
pub(crate) fn decode<T: FromColumns>(row: &Row) -> rusqlite::Result<T> {
    T::from_columns(&SqliteRow(row))
}

struct SqliteRow<'a, 'r>(&'a Row<'r>);

impl Columns for SqliteRow<'_, '_> {
    type Error = rusqlite::Error;
    fn bool(&self, i: usize) -> rusqlite::Result<bool> {
        self.0.get(i)
    }
    fn small(&self, i: usize) -> rusqlite::Result<i16> {
        self.0.get(i)
    }
    fn int(&self, i: usize) -> rusqlite::Result<i32> {
        self.0.get(i)
    }
    fn big(&self, i: usize) -> rusqlite::Result<i64> {
        self.0.get(i)
    }
    fn opt_big(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.0.get(i)
    }
    fn text(&self, i: usize) -> rusqlite::Result<String> {
        self.0.get(i)
    }
    fn opt_text(&self, i: usize) -> rusqlite::Result<Option<String>> {
        self.0.get(i)
    }
    fn time(&self, i: usize) -> rusqlite::Result<DateTime<Utc>> {
        time(self.0, i)
    }
    fn opt_time(&self, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
        opt_time(self.0, i)
    }
    fn opt_date(&self, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
        opt_date(self.0, i)
    }
    fn opt_local(&self, i: usize) -> rusqlite::Result<Option<NaiveDateTime>> {
        let text = match self.0.get_ref(i)? {
            ValueRef::Null => return Ok(None),
            value => value.as_str()?,
        };
        NaiveDateTime::parse_from_str(text, todo_core::time::LOCAL_FORMAT)
            .map(Some)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
    }
}
