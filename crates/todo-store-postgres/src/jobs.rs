//! The job queue on PostgreSQL: claims with leases (`SKIP LOCKED` across replicas),
//! reminders fired once, retries.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::Result;
use todo_core::events::{Activity, Event, EventType};
use todo_core::ids::TaskId;
use todo_core::jobs::{Job, JobId, JobKind, JobStore, Sends};
use todo_store_sql::{JOB_COLUMNS, JobRow, reminder_task_data};

use crate::events::JOBS_CHANNEL;
use crate::rows::db_error;
use crate::tasks::select_task;
use crate::{PostgresStore, events, sql, tx};

#[async_trait]
impl JobStore for PostgresStore {
    async fn claim_jobs(
        &self,
        kind: JobKind,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>> {
        // SKIP LOCKED: replicas claiming at once take different jobs instead of waiting.
        let sql = format!(
            "UPDATE jobs SET locked_until = $2, attempts = attempts + 1 WHERE id IN ( \
                 SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $1 \
                     AND (locked_until IS NULL OR locked_until <= $1) AND kind = $4 \
                 ORDER BY run_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING {JOB_COLUMNS}"
        );
        let values = [
            now.into(),
            (now + lease).into(),
            i64::from(limit).into(),
            kind.as_str().into(),
        ];
        let rows = sql::rows::<JobRow, JobRow>(&self.pool, sql, values).await?;
        Ok(rows.into_iter().filter_map(JobRow::into_job).collect())
    }

    async fn next_job_at(&self, kind: JobKind) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar(
            "SELECT MIN(GREATEST(run_at, COALESCE(locked_until, run_at))) FROM jobs \
             WHERE done_at IS NULL AND kind = $1",
        )
        .bind(kind.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn fire_reminder(
        &self,
        job: &Job,
        sends: Sends,
        now: DateTime<Utc>,
    ) -> Result<Option<Event>> {
        let user = &job.user_id;
        let mut tx = tx::begin(&self.pool, user).await?;
        let fired: Option<(i64, TaskId)> = match job.reminder_id {
            Some(reminder_id) => sqlx::query_as(
                "UPDATE reminders r SET sent_at = $3 FROM tasks t \
                 WHERE r.user_id = $1 AND r.id = $2 AND r.sent_at IS NULL \
                     AND r.remind_at <= $3 \
                     AND t.id = r.task_id AND NOT t.completed \
                 RETURNING r.id, r.task_id",
            )
            .bind(user)
            .bind(reminder_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?,
            None => None,
        };
        let mut event = None;
        if let Some((reminder_id, task_id)) = fired
            && let Some(task) = select_task(&mut *tx, user, task_id).await?
        {
            let data = reminder_task_data(&task, reminder_id);
            let written = events::Written {
                actor: user,
                activity: Activity::Reminder,
                project: Some(task.project_id),
                from_project: None,
                task_id,
                task_data: &data,
                at: now,
            };
            let id = events::record(&mut tx, written).await?;
            sqlx::query(
                "WITH u AS (SELECT id, email, notify_email, notify_push FROM users WHERE id = $1), \
                 mail AS (INSERT INTO jobs (kind, user_id, event_id, run_at) \
                     SELECT 'email', u.id, $2, $3 FROM u \
                     WHERE $4 AND u.notify_email AND u.email IS NOT NULL RETURNING 1), \
                 pushes AS (INSERT INTO jobs (kind, user_id, event_id, subscription_id, run_at) \
                     SELECT 'push', u.id, $2, s.id, $3 FROM u \
                     JOIN push_subscriptions s ON s.user_id = u.id WHERE $5 AND u.notify_push \
                     RETURNING 1) \
                 SELECT pg_notify($6, '') \
                 WHERE EXISTS (SELECT 1 FROM mail) OR EXISTS (SELECT 1 FROM pushes)",
            )
            .bind(user)
            .bind(id)
            .bind(now)
            .bind(sends.email)
            .bind(sends.push)
            // Every replica's email and push lanes wake at commit (as SQLite's announcing write
            // does); else they wait for their next look.
            .bind(JOBS_CHANNEL)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
            event = Some(Event {
                id,
                event_type: EventType::Reminder,
                action: Activity::Reminder,
                project_id: Some(task.project_id),
                task_id,
                task_data: serde_json::from_str(&data).unwrap_or_default(),
                user_id: user.clone(),
                timestamp: now,
            });
        }
        let sql = "UPDATE jobs SET done_at = $2, locked_until = NULL WHERE id = $1";
        sql::run(&mut *tx, sql, [job.id.into(), now.into()]).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(event)
    }

    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()> {
        let sql =
            "UPDATE jobs SET done_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1";
        let values = [id.into(), now.into(), error.into()];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()> {
        let sql = "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1";
        let values = [id.into(), run_at.into(), error.into()];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE jobs SET run_at = $2, locked_until = NULL, \
                   attempts = GREATEST(attempts - 1, 0) WHERE id = $1 AND done_at IS NULL";
        sql::run(&self.pool, sql, [id.into(), run_at.into()])
            .await
            .map(drop)
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        sql::run(
            &self.pool,
            "DELETE FROM jobs WHERE done_at < $1",
            [before.into()],
        )
        .await
    }
}
