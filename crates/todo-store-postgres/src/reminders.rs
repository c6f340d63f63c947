//! A task's reminder rows and their jobs on PostgreSQL, as `todo_core::planning` plans them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use todo_core::ids::UserId;
use todo_core::planning::ReminderWrites;
use todo_core::reminders::ReminderId;
use todo_core::task::TaskId;
use todo_core::{Error, Result};

use crate::events::JOBS_CHANNEL;
use crate::rows::db_error;
use crate::sql;

/// Writes a plan's reminder rows, each reminder that is to fire with a job at its moment, and
/// wakes the job workers when there is a new job.
pub(crate) async fn write(
    tx: &mut PgConnection,
    user_id: &UserId,
    task_id: TaskId,
    writes: &ReminderWrites,
) -> Result<()> {
    if !writes.delete.is_empty() {
        sqlx::query("DELETE FROM reminders WHERE user_id = $1 AND id = ANY($2)")
            .bind(user_id)
            .bind(&writes.delete)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    for (id, at) in &writes.moved_past {
        let sql = "UPDATE reminders SET remind_at = $1 WHERE user_id = $2 AND id = $3";
        sql::run(&mut *tx, sql, [(*at).into(), user_id.into(), (*id).into()]).await?;
    }
    for (id, at) in &writes.moved {
        let sql =
            "UPDATE reminders SET remind_at = $1, sent_at = NULL WHERE user_id = $2 AND id = $3";
        sql::run(&mut *tx, sql, [(*at).into(), user_id.into(), (*id).into()]).await?;
        queue(tx, user_id, *id, *at).await?;
    }
    for row in &writes.insert {
        let sql = "INSERT INTO reminders (user_id, task_id, remind_at, minutes_before, sent_at) \
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let values = [
            user_id.into(),
            task_id.into(),
            row.remind_at.into(),
            row.minutes_before.into(),
            row.sent_at.into(),
        ];
        let id: ReminderId = sql::scalar(&mut *tx, sql, values)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        if let Some(at) = row.job_at() {
            queue(tx, user_id, id, at).await?;
        }
    }
    if writes.queues_jobs() {
        sql::run(tx, "SELECT pg_notify($1, '')", [JOBS_CHANNEL.into()]).await?;
    }
    Ok(())
}

/// A job that fires the reminder at `at`.
async fn queue(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: ReminderId,
    at: DateTime<Utc>,
) -> Result<()> {
    let sql =
        "INSERT INTO jobs (kind, user_id, reminder_id, run_at) VALUES ('reminder', $1, $2, $3)";
    sql::run(tx, sql, [user_id.into(), id.into(), at.into()])
        .await
        .map(drop)
}
