//! A task's reminder rows and their jobs on SQLite, as `todo_core::planning` plans them.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::ids::UserId;
use todo_core::planning::ReminderWrites;
use todo_core::reminders::ReminderId;
use todo_core::task::TaskId;
use todo_core::{Error, Result};

use crate::sql;

/// Writes a plan's reminder rows, each reminder that is to fire with a job at its moment.
pub(crate) fn write(
    conn: &Connection,
    user_id: &UserId,
    task_id: TaskId,
    writes: &ReminderWrites,
) -> Result<()> {
    for id in &writes.delete {
        let sql = "DELETE FROM reminders WHERE user_id = ?1 AND id = ?2";
        sql::run(conn, sql, [user_id.into(), (*id).into()])?;
    }
    for (id, at) in &writes.moved_past {
        let sql = "UPDATE reminders SET remind_at = ?1 WHERE user_id = ?2 AND id = ?3";
        sql::run(conn, sql, [(*at).into(), user_id.into(), (*id).into()])?;
    }
    for (id, at) in &writes.moved {
        let sql =
            "UPDATE reminders SET remind_at = ?1, sent_at = NULL WHERE user_id = ?2 AND id = ?3";
        sql::run(conn, sql, [(*at).into(), user_id.into(), (*id).into()])?;
        queue(conn, user_id, *id, *at)?;
    }
    for row in &writes.insert {
        let sql = "INSERT INTO reminders (user_id, task_id, remind_at, minutes_before, sent_at) \
                   VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
        let values = [
            user_id.into(),
            task_id.into(),
            row.remind_at.into(),
            row.minutes_before.into(),
            row.sent_at.into(),
        ];
        let id: ReminderId = sql::scalar(conn, sql, values)?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        if let Some(at) = row.job_at() {
            queue(conn, user_id, id, at)?;
        }
    }
    Ok(())
}

/// A job that fires the reminder at `at`.
fn queue(conn: &Connection, user_id: &UserId, id: ReminderId, at: DateTime<Utc>) -> Result<()> {
    let sql =
        "INSERT INTO jobs (kind, user_id, reminder_id, run_at) VALUES ('reminder', ?1, ?2, ?3)";
    sql::run(conn, sql, [user_id.into(), id.into(), at.into()]).map(drop)
}
