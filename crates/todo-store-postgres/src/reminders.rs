//! A task's reminder rows and their jobs on PostgreSQL, as `todo_core::planning` plans them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::planning::ReminderWrites;
use todo_core::task::TaskId;

use crate::events::JOBS_CHANNEL;
use crate::rows::db_error;

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
    for (id, at) in &writes.moved {
        sqlx::query(
            "UPDATE reminders SET remind_at = $1, sent_at = NULL WHERE user_id = $2 AND id = $3",
        )
        .bind(at)
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        queue_reminder(tx, user_id, *id, *at).await?;
    }
    for row in &writes.insert {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reminders (user_id, task_id, remind_at, minutes_before, sent_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(task_id)
        .bind(row.remind_at)
        .bind(row.minutes_before)
        .bind(row.sent_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if let Some(at) = row.job_at() {
            queue_reminder(tx, user_id, id, at).await?;
        }
    }
    if writes.queues_jobs() {
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(JOBS_CHANNEL)
            .execute(tx)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}

async fn queue_reminder(
    tx: &mut PgConnection,
    user_id: &UserId,
    reminder_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, user_id, reminder_id, run_at) VALUES ('reminder', $1, $2, $3)",
    )
    .bind(user_id)
    .bind(reminder_id)
    .bind(at)
    .execute(tx)
    .await
    .map_err(db_error)?;
    Ok(())
}
