//! rusqlite rows → the shared row types of `todo-store-sql` (which map them to domain types),
//! value encoding, and rusqlite errors → domain errors.
//!
//! Rows are read by column index, in the order of the column lists next to each decoder:
//! looking columns up by name costs a string comparison per column per row.

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Row;
use rusqlite::types::{Type, ValueRef};
use todo_core::Error;
use todo_store_sql::{
    ApiKeyRow, ConversationRow, CredentialRow, EventRow, JobRow, MessageRow, TagRow, TaskRow,
    UserRow, WebhookRow,
};

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

/// `USER_COLUMNS` from column `at` on.
pub(crate) fn user_at(row: &Row, at: usize) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: row.get(at)?,
        email: row.get(at + 1)?,
        name: row.get(at + 2)?,
        timezone: row.get(at + 3)?,
        created_at: time(row, at + 4)?,
        updated_at: time(row, at + 5)?,
    })
}

pub(crate) fn user(row: &Row) -> rusqlite::Result<UserRow> {
    user_at(row, 0)
}

pub(crate) fn api_key(row: &Row) -> rusqlite::Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        name: row.get(2)?,
        prefix: row.get(3)?,
        scopes: row.get(4)?,
        created_at: time(row, 5)?,
        last_used_at: opt_time(row, 6)?,
        expires_at: opt_time(row, 7)?,
        revoked_at: opt_time(row, 8)?,
    })
}

/// A task row with its tag names as a JSON array, sorted without regard to case, and its
/// reminders as a JSON array of objects (each NULL when there are none). An aggregate with
/// `ORDER BY` opens a temporary b-tree every time it runs, rows or not: the `EXISTS` probes
/// run it only for tasks that have tags or reminders (most have neither).
pub(crate) const TASK_COLUMNS: &str = "id, user_id, title, description, completed, \
     completed_at, priority, due_at, due_date, recurrence, recurrence_mode, parent_id, position, \
     created_at, updated_at, \
     CASE WHEN EXISTS (SELECT 1 FROM task_tags tt WHERE tt.task_id = tasks.id) THEN \
         (SELECT json_group_array(t.name ORDER BY t.name_key) FROM task_tags tt \
             JOIN tags t ON t.id = tt.tag_id WHERE tt.task_id = tasks.id) END AS tags, \
     CASE WHEN EXISTS (SELECT 1 FROM reminders r WHERE r.task_id = tasks.id) THEN \
         (SELECT json_group_array(json_object('id', r.id, 'remind_at', r.remind_at, \
             'minutes_before', r.minutes_before, 'sent_at', r.sent_at) ORDER BY r.remind_at, r.id) \
         FROM reminders r WHERE r.task_id = tasks.id) END AS reminders";
/// How many columns `TASK_COLUMNS` has: a listing's total follows them.
pub(crate) const TASK_COLUMN_COUNT: usize = 17;

pub(crate) fn task(row: &Row) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        title: row.get(2)?,
        description: row.get(3)?,
        completed: row.get(4)?,
        completed_at: opt_time(row, 5)?,
        priority: row.get(6)?,
        due_at: opt_time(row, 7)?,
        due_date: opt_date(row, 8)?,
        recurrence: row.get(9)?,
        recurrence_mode: row.get(10)?,
        parent_id: row.get(11)?,
        position: row.get(12)?,
        created_at: time(row, 13)?,
        updated_at: time(row, 14)?,
        tags: row.get(15)?,
        reminders: row.get(16)?,
    })
}

/// Columns of `tags t` and its task count (see `tags::TAG_SELECT`).
pub(crate) fn tag(row: &Row) -> rusqlite::Result<TagRow> {
    Ok(TagRow {
        id: row.get(0)?,
        name: row.get(1)?,
        color: row.get(2)?,
        created_at: time(row, 3)?,
        task_count: row.get(4)?,
    })
}

pub(crate) fn conversation(row: &Row) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        title: row.get(2)?,
        created_at: time(row, 3)?,
        updated_at: time(row, 4)?,
    })
}

pub(crate) fn message(row: &Row) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: row.get(0)?,
        role: row.get(1)?,
        content: row.get(2)?,
        tool_calls: row.get(3)?,
        tool_call_id: row.get(4)?,
        created_at: time(row, 5)?,
    })
}

pub(crate) fn credential(row: &Row) -> rusqlite::Result<CredentialRow> {
    Ok(CredentialRow {
        user_id: row.get(0)?,
        api_key_ciphertext: row.get(1)?,
        key_hint: row.get(2)?,
        model: row.get(3)?,
        created_at: time(row, 4)?,
        updated_at: time(row, 5)?,
    })
}

/// `todo_store_sql::EVENT_COLUMNS`.
pub(crate) fn event(row: &Row) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        id: row.get(0)?,
        user_id: row.get(1)?,
        event_type: row.get(2)?,
        task_id: row.get(3)?,
        task_data: row.get(4)?,
        created_at: time(row, 5)?,
    })
}

/// `todo_store_sql::JOB_COLUMNS`.
pub(crate) fn job(row: &Row) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        user_id: row.get(2)?,
        reminder_id: row.get(3)?,
        event_id: row.get(4)?,
        webhook_id: row.get(5)?,
        attempts: row.get(6)?,
    })
}

/// `todo_store_sql::WEBHOOK_COLUMNS` (six columns; a secret may follow).
pub(crate) fn webhook(row: &Row) -> rusqlite::Result<WebhookRow> {
    Ok(WebhookRow {
        id: row.get(0)?,
        url: row.get(1)?,
        created_at: time(row, 2)?,
        consecutive_failures: row.get(3)?,
        disabled_at: opt_time(row, 4)?,
        last_error: row.get(5)?,
    })
}
