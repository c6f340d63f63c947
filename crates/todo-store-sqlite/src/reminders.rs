//! A task's reminder rows and their jobs on SQLite, as `todo_core::planning` plans them.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::planning::ReminderWrites;
use todo_core::task::TaskId;
use todo_core::time::to_sortable_text as ts;

use crate::rows::db_error;
use crate::sql;

/// Writes a plan's reminder rows, each reminder that is to fire with a job at its moment.
pub(crate) fn write(
    conn: &Connection,
    user_id: &UserId,
    task_id: TaskId,
    writes: &ReminderWrites,
) -> Result<()> {
    for id in &writes.delete {
        sql::execute(
            conn,
            "DELETE FROM reminders WHERE user_id = ?1 AND id = ?2",
            (user_id, id),
        )
        .map_err(db_error)?;
    }
    for (id, at) in &writes.moved {
        sql::execute(
            conn,
            "UPDATE reminders SET remind_at = ?1, sent_at = NULL WHERE user_id = ?2 AND id = ?3",
            (ts(at), user_id, id),
        )
        .map_err(db_error)?;
        queue_reminder(conn, user_id, *id, *at)?;
    }
    for row in &writes.insert {
        let id: i64 = sql::one(
            conn,
            "INSERT INTO reminders (user_id, task_id, remind_at, minutes_before, sent_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            (
                user_id,
                task_id,
                ts(&row.remind_at),
                row.minutes_before,
                row.sent_at.as_ref().map(ts),
            ),
            |row| row.get(0),
        )
        .map_err(db_error)?
        .ok_or_else(|| todo_core::Error::internal("insert returned no row"))?;
        if let Some(at) = row.job_at() {
            queue_reminder(conn, user_id, id, at)?;
        }
    }
    Ok(())
}

fn queue_reminder(
    conn: &Connection,
    user_id: &UserId,
    reminder_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    sql::execute(
        conn,
        "INSERT INTO jobs (kind, user_id, reminder_id, run_at) VALUES ('reminder', ?1, ?2, ?3)",
        (user_id, reminder_id, ts(&at)),
    )
    .map_err(db_error)?;
    Ok(())
}
