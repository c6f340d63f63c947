//! The job queue on SQLite: claims with leases, reminders fired once, retries.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::Result;
use todo_core::events::{Activity, Event, EventType};
use todo_core::ids::TaskId;
use todo_core::jobs::{Job, JobId, JobKind, JobStore, Sends};
use todo_core::time::to_sortable_text as ts;
use todo_store_sql::{JOB_COLUMNS, JobRow, reminder_task_data};

use crate::rows::{db_error, opt_time};
use crate::tasks::select_task;
use crate::{SqliteStore, events, savepoint, sql};

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_jobs(
        &self,
        kind: JobKind,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>> {
        // One statement in a write transaction: processes sharing the file take turns.
        let sql = format!(
            "UPDATE jobs SET locked_until = ?2, attempts = attempts + 1 WHERE id IN ( \
                 SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= ?1 \
                     AND (locked_until IS NULL OR locked_until <= ?1) AND kind = ?4 \
                 ORDER BY run_at LIMIT ?3) \
             RETURNING {JOB_COLUMNS}"
        );
        let values = [
            now.into(),
            (now + lease).into(),
            i64::from(limit).into(),
            kind.as_str().into(),
        ];
        let rows = self
            .write(move |conn| sql::rows::<JobRow, JobRow>(conn, &sql, values))
            .await?;
        Ok(rows.into_iter().filter_map(JobRow::into_job).collect())
    }

    async fn next_job_at(&self, kind: JobKind) -> Result<Option<DateTime<Utc>>> {
        self.read(move |conn| {
            sql::one(
                conn,
                "SELECT MIN(MAX(run_at, COALESCE(locked_until, run_at))) FROM jobs \
                 WHERE done_at IS NULL AND kind = ?1",
                [kind.as_str()],
                |row| opt_time(row, 0),
            )
            .map(Option::flatten)
            .map_err(db_error)
        })
        .await
    }

    async fn fire_reminder(
        &self,
        job: &Job,
        sends: Sends,
        now: DateTime<Utc>,
    ) -> Result<Option<Event>> {
        let job = job.clone();
        self.write_announcing(move |conn| {
            let tx = savepoint(conn)?;
            let fired: Option<(i64, TaskId)> = match job.reminder_id {
                Some(reminder_id) => sql::one(
                    &tx,
                    "UPDATE reminders SET sent_at = ?3 \
                     WHERE user_id = ?1 AND id = ?2 AND sent_at IS NULL AND remind_at <= ?3 \
                         AND EXISTS (SELECT 1 FROM tasks t \
                             WHERE t.id = reminders.task_id AND t.completed = 0) \
                     RETURNING id, task_id",
                    (&job.user_id, reminder_id, ts(&now)),
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(db_error)?,
                None => None,
            };
            let mut event = None;
            if let Some((reminder_id, task_id)) = fired
                && let Some(task) = select_task(&tx, &job.user_id, task_id)?
            {
                let data = reminder_task_data(&task, reminder_id);
                let written = events::Written {
                    actor: &job.user_id,
                    activity: Activity::Reminder,
                    project: Some(task.project_id),
                    from_project: None,
                    task_id,
                    task_data: &data,
                    at: now,
                };
                let id = events::record(&tx, written)?;
                tx.execute(
                    "INSERT INTO jobs (kind, user_id, event_id, run_at) \
                     SELECT 'email', id, ?2, ?3 FROM users \
                     WHERE id = ?1 AND ?4 AND notify_email AND email IS NOT NULL",
                    (&job.user_id, id, ts(&now), sends.email),
                )
                .map_err(db_error)?;
                tx.execute(
                    "INSERT INTO jobs (kind, user_id, event_id, subscription_id, run_at) \
                     SELECT 'push', u.id, ?2, s.id, ?3 FROM users u \
                     JOIN push_subscriptions s ON s.user_id = u.id \
                     WHERE u.id = ?1 AND ?4 AND u.notify_push",
                    (&job.user_id, id, ts(&now), sends.push),
                )
                .map_err(db_error)?;
                event = Some(Event {
                    id,
                    event_type: EventType::Reminder,
                    action: Activity::Reminder,
                    project_id: Some(task.project_id),
                    task_id,
                    task_data: serde_json::from_str(&data).unwrap_or_default(),
                    user_id: job.user_id.clone(),
                    timestamp: now,
                });
            }
            let sql = "UPDATE jobs SET done_at = ?2, locked_until = NULL WHERE id = ?1";
            sql::run(&tx, sql, [job.id.into(), now.into()])?;
            tx.commit().map_err(db_error)?;
            Ok(event)
        })
        .await
    }

    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()> {
        let sql =
            "UPDATE jobs SET done_at = ?2, locked_until = NULL, last_error = ?3 WHERE id = ?1";
        let values = [id.into(), now.into(), error.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()> {
        let sql = "UPDATE jobs SET run_at = ?2, locked_until = NULL, last_error = ?3 WHERE id = ?1";
        let values = [id.into(), run_at.into(), error.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE jobs SET run_at = ?2, locked_until = NULL, \
                   attempts = MAX(attempts - 1, 0) WHERE id = ?1 AND done_at IS NULL";
        let values = [id.into(), run_at.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        let sql = "DELETE FROM jobs WHERE done_at < ?1";
        self.write(move |conn| sql::run(conn, sql, [before.into()]).map(|done| done as u64))
            .await
    }
}
