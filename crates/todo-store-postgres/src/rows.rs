//! PostgreSQL rows → the shared row types of `todo-store-sql` (which map them to domain types),
//! and sqlx errors → domain errors.
//!
//! Rows are read by position, in the order of the column lists (`todo_store_sql`'s, and the
//! task columns below): sqlx's derived `FromRow` finds each column by name (a hash lookup and
//! a string comparison) and checks its type before decoding; for a page of 50 tasks that was
//! most of the time spent decoding. Debug builds (the tests) still check every column's type;
//! release builds skip the check.

use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};
use todo_core::Error;
use todo_store_sql::{
    ApiKeyRow, ConversationRow, CredentialRow, EventRow, IMPORT_CONFLICT, JobRow, MessageRow,
    TAG_CONFLICT, TagRow, TaskRow, USER_CONFLICT, UserRow, WebhookRow,
};

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

pub(crate) fn user_conflict(err: sqlx::Error) -> Error {
    conflict(USER_CONFLICT)(err)
}

pub(crate) fn import_conflict(err: sqlx::Error) -> Error {
    conflict(IMPORT_CONFLICT)(err)
}

pub(crate) fn tag_conflict(err: sqlx::Error) -> Error {
    conflict(TAG_CONFLICT)(err)
}

fn get<'r, T>(row: &'r PgRow, index: usize) -> sqlx::Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    if cfg!(debug_assertions) {
        row.try_get(index)
    } else {
        row.try_get_unchecked(index)
    }
}

/// A task row with its tag names and reminders as JSON arrays (tags sorted without regard to
/// case; each NULL when there are none), in the order [`task`] reads them. An aggregate
/// with `ORDER BY` starts a sort every time it runs, rows or not: the `EXISTS` probes run it
/// only for tasks that have tags or reminders (most have neither).
pub(crate) const TASK_COLUMNS: &str = "id, user_id, title, description, completed, completed_at, \
     priority, due_at, due_date, recurrence, recurrence_mode, parent_id, position, created_at, \
     updated_at, \
     CASE WHEN EXISTS (SELECT FROM task_tags tt \
             WHERE tt.user_id = tasks.user_id AND tt.task_id = tasks.id) THEN \
         (SELECT json_agg(t.name ORDER BY t.name_key)::text FROM task_tags tt \
             JOIN tags t ON t.user_id = tt.user_id AND t.id = tt.tag_id \
             WHERE tt.user_id = tasks.user_id AND tt.task_id = tasks.id) END AS tags, \
     CASE WHEN EXISTS (SELECT FROM reminders r \
             WHERE r.user_id = tasks.user_id AND r.task_id = tasks.id) THEN \
         (SELECT json_agg(json_build_object('id', r.id, 'remind_at', r.remind_at, \
             'minutes_before', r.minutes_before, 'sent_at', r.sent_at) ORDER BY r.remind_at, r.id)::text \
         FROM reminders r WHERE r.user_id = tasks.user_id AND r.task_id = tasks.id) END AS reminders";
/// `TASK_COLUMNS` for a row just inserted, which has no tags or reminders yet (they are linked
/// after it, and the row is read again then).
pub(crate) const INSERTED_TASK_COLUMNS: &str = "id, user_id, title, description, completed, \
     completed_at, priority, due_at, due_date, recurrence, recurrence_mode, parent_id, position, \
     created_at, updated_at, NULL::text AS tags, NULL::text AS reminders";
/// How many columns `TASK_COLUMNS` has: a listing's total follows them.
pub(crate) const TASK_COLUMN_COUNT: usize = 17;

/// `TASK_COLUMNS` (or `INSERTED_TASK_COLUMNS`).
pub(crate) fn task(row: &PgRow) -> sqlx::Result<TaskRow> {
    Ok(TaskRow {
        id: get(row, 0)?,
        user_id: get(row, 1)?,
        title: get(row, 2)?,
        description: get(row, 3)?,
        completed: get(row, 4)?,
        completed_at: get(row, 5)?,
        priority: get(row, 6)?,
        due_at: get(row, 7)?,
        due_date: get(row, 8)?,
        recurrence: get(row, 9)?,
        recurrence_mode: get(row, 10)?,
        parent_id: get(row, 11)?,
        position: get(row, 12)?,
        created_at: get(row, 13)?,
        updated_at: get(row, 14)?,
        tags: get(row, 15)?,
        reminders: get(row, 16)?,
    })
}

/// `todo_store_sql::USER_COLUMNS` (six columns; a password hash may follow).
pub(crate) fn user(row: &PgRow) -> sqlx::Result<UserRow> {
    Ok(UserRow {
        id: get(row, 0)?,
        email: get(row, 1)?,
        name: get(row, 2)?,
        timezone: get(row, 3)?,
        created_at: get(row, 4)?,
        updated_at: get(row, 5)?,
    })
}

/// `todo_store_sql::API_KEY_COLUMNS`.
pub(crate) fn api_key(row: &PgRow) -> sqlx::Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: get(row, 0)?,
        user_id: get(row, 1)?,
        name: get(row, 2)?,
        prefix: get(row, 3)?,
        scopes: get(row, 4)?,
        created_at: get(row, 5)?,
        last_used_at: get(row, 6)?,
        expires_at: get(row, 7)?,
        revoked_at: get(row, 8)?,
    })
}

/// Columns of `tags t` and its task count (see `tags::TAG_SELECT`).
pub(crate) fn tag(row: &PgRow) -> sqlx::Result<TagRow> {
    Ok(TagRow {
        id: get(row, 0)?,
        name: get(row, 1)?,
        color: get(row, 2)?,
        created_at: get(row, 3)?,
        task_count: get(row, 4)?,
    })
}

/// `todo_store_sql::CONVERSATION_COLUMNS`.
pub(crate) fn conversation(row: &PgRow) -> sqlx::Result<ConversationRow> {
    Ok(ConversationRow {
        id: get(row, 0)?,
        user_id: get(row, 1)?,
        title: get(row, 2)?,
        created_at: get(row, 3)?,
        updated_at: get(row, 4)?,
    })
}

/// `todo_store_sql::MESSAGE_COLUMNS`.
pub(crate) fn message(row: &PgRow) -> sqlx::Result<MessageRow> {
    Ok(MessageRow {
        id: get(row, 0)?,
        role: get(row, 1)?,
        content: get(row, 2)?,
        tool_calls: get(row, 3)?,
        tool_call_id: get(row, 4)?,
        created_at: get(row, 5)?,
    })
}

/// `todo_store_sql::CREDENTIAL_COLUMNS`.
pub(crate) fn credential(row: &PgRow) -> sqlx::Result<CredentialRow> {
    Ok(CredentialRow {
        user_id: get(row, 0)?,
        api_key_ciphertext: get(row, 1)?,
        key_hint: get(row, 2)?,
        model: get(row, 3)?,
        created_at: get(row, 4)?,
        updated_at: get(row, 5)?,
    })
}

/// `todo_store_sql::EVENT_COLUMNS`.
pub(crate) fn event(row: &PgRow) -> sqlx::Result<EventRow> {
    Ok(EventRow {
        id: get(row, 0)?,
        user_id: get(row, 1)?,
        event_type: get(row, 2)?,
        task_id: get(row, 3)?,
        task_data: get(row, 4)?,
        created_at: get(row, 5)?,
    })
}

/// `todo_store_sql::JOB_COLUMNS`.
pub(crate) fn job(row: &PgRow) -> sqlx::Result<JobRow> {
    Ok(JobRow {
        id: get(row, 0)?,
        kind: get(row, 1)?,
        user_id: get(row, 2)?,
        reminder_id: get(row, 3)?,
        event_id: get(row, 4)?,
        webhook_id: get(row, 5)?,
        attempts: get(row, 6)?,
    })
}

/// `todo_store_sql::WEBHOOK_COLUMNS` (six columns; a secret may follow).
pub(crate) fn webhook(row: &PgRow) -> sqlx::Result<WebhookRow> {
    Ok(WebhookRow {
        id: get(row, 0)?,
        url: get(row, 1)?,
        created_at: get(row, 2)?,
        consecutive_failures: get(row, 3)?,
        disabled_at: get(row, 4)?,
        last_error: get(row, 5)?,
    })
}
