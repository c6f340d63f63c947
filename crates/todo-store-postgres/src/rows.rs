//! PostgreSQL rows → the shared row types of `todo-store-sql` (which read them by position and
//! map them to domain types), and sqlx errors → domain errors.
//!
//! Not sqlx's derived `FromRow`: it finds each column by name (a hash lookup and a string
//! comparison) and checks its type before decoding; for a page of 50 tasks that was most of
//! the time spent decoding. Debug builds (the tests) still check every column's type; release
//! builds skip the check.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Decode, Row, Type};
use todo_core::Error;
use todo_store_sql::{Columns, FromColumns};

/// sqlx failures are internal: the detail is logged, never shown to clients. Failures to reach
/// the database (a restart, a full pool, a lost connection) are `Unavailable`: the request
/// changed nothing and may be retried.
pub(crate) fn db_error(err: sqlx::Error) -> Error {
    if is_unavailable(&err) {
        Error::Unavailable(err.into())
    } else {
        Error::internal(err)
    }
}

fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // PostgreSQL: connection exceptions (08…), shutting down or starting (57P01–57P03).
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Maps a unique violation to `Error::Conflict(message)` (the messages are shared with
/// SQLite: `todo_store_sql::USER_CONFLICT`, …), anything else as [`db_error`].
pub(crate) fn conflict(message: &'static str) -> impl Fn(sqlx::Error) -> Error {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::Conflict(message.into()),
        _ => db_error(err),
    }
}

fn get<'r, T>(row: &'r PgRow, index: usize) -> sqlx::Result<T>
where
    T: Decode<'r, sqlx::Postgres> + Type<sqlx::Postgres>,
{
    if cfg!(debug_assertions) {
        row.try_get(index)
    } else {
        row.try_get_unchecked(index)
    }
}

/// A task row with its tag names and reminders as JSON arrays (tags sorted without regard to
/// case; each NULL when there are none), in the order `todo_store_sql::TaskRow` reads them. An aggregate
/// with `ORDER BY` starts a sort every time it runs, rows or not: the `EXISTS` probes run it
/// only for tasks that have tags or reminders (most have neither).
pub(crate) const TASK_COLUMNS: &str = concat!(
    todo_store_sql::task_row_columns!(),
    ", CASE WHEN EXISTS (SELECT FROM task_tags tt WHERE tt.task_id = tasks.id \
             AND tt.user_id = {viewer}) THEN \
         (SELECT json_agg(t.name ORDER BY t.name_key)::text FROM task_tags tt \
             JOIN tags t ON t.user_id = tt.user_id AND t.id = tt.tag_id \
             WHERE tt.task_id = tasks.id AND tt.user_id = {viewer}) END AS tags, \
     CASE WHEN EXISTS (SELECT FROM reminders r WHERE r.task_id = tasks.id \
             AND r.user_id = {viewer}) THEN \
         (SELECT json_agg(json_build_object('id', r.id, 'remind_at', r.remind_at, \
             'minutes_before', r.minutes_before, 'sent_at', r.sent_at) ORDER BY r.remind_at, r.id)::text \
         FROM reminders r WHERE r.task_id = tasks.id AND r.user_id = {viewer}) END AS reminders"
);
/// `TASK_COLUMNS` for a row just inserted, which has no tags or reminders yet (they are linked
/// after it, and the row is read again then).
pub(crate) const INSERTED_TASK_COLUMNS: &str = concat!(
    todo_store_sql::task_row_columns!(),
    ", NULL::text AS tags, NULL::text AS reminders"
);

/// Reads a row into one of the shared row types.
pub(crate) fn decode<T: FromColumns>(row: &PgRow) -> sqlx::Result<T> {
    T::from_columns(&Postgres(row))
}

struct Postgres<'a>(&'a PgRow);

impl Columns for Postgres<'_> {
    type Error = sqlx::Error;
    fn bool(&self, i: usize) -> sqlx::Result<bool> {
        get(self.0, i)
    }
    fn small(&self, i: usize) -> sqlx::Result<i16> {
        get(self.0, i)
    }
    fn int(&self, i: usize) -> sqlx::Result<i32> {
        get(self.0, i)
    }
    fn big(&self, i: usize) -> sqlx::Result<i64> {
        get(self.0, i)
    }
    fn opt_big(&self, i: usize) -> sqlx::Result<Option<i64>> {
        get(self.0, i)
    }
    fn text(&self, i: usize) -> sqlx::Result<String> {
        get(self.0, i)
    }
    fn opt_text(&self, i: usize) -> sqlx::Result<Option<String>> {
        get(self.0, i)
    }
    fn time(&self, i: usize) -> sqlx::Result<DateTime<Utc>> {
        get(self.0, i)
    }
    fn opt_time(&self, i: usize) -> sqlx::Result<Option<DateTime<Utc>>> {
        get(self.0, i)
    }
    fn opt_date(&self, i: usize) -> sqlx::Result<Option<NaiveDate>> {
        get(self.0, i)
    }
    fn opt_local(&self, i: usize) -> sqlx::Result<Option<NaiveDateTime>> {
        get(self.0, i)
    }
}
