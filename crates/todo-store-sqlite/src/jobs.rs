//! The job queue on SQLite: claims with leases, reminders fired once, retries.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::Result;
use todo_core::events::{Event, EventType};
use todo_core::ids::TaskId;
use todo_core::jobs::{Job, JobId, JobKind, JobStore};
use todo_core::time::to_sortable_text as ts;
use todo_store_sql::{JOB_COLUMNS, JobRow, reminder_task_data};

use crate::rows::{db_error, decode, opt_time};
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
        self.write(move |conn| {
            // One statement in a write transaction: processes sharing the file take turns.
            let sql = format!(
                "UPDATE jobs SET locked_until = ?2, attempts = attempts + 1 WHERE id IN ( \
                     SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= ?1 \
                         AND (locked_until IS NULL OR locked_until <= ?1) AND kind = ?4 \
                     ORDER BY run_at LIMIT ?3) \
                 RETURNING {JOB_COLUMNS}"
            );
            let tx = savepoint(conn)?;
            let rows = sql::all(
                &tx,
                &sql,
                (
                    ts(&now),
                    ts(&(now + lease)),
                    i64::from(limit),
                    kind.as_str(),
                ),
                decode::<JobRow>,
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(rows.into_iter().filter_map(JobRow::into_job).collect())
        })
        .await
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

    async fn fire_reminder(&self, job: &Job, now: DateTime<Utc>) -> Result<Option<Event>> {
        let (job, user_id) = (job.clone(), job.user_id.clone());
        self.write_announcing(&user_id, move |conn| {
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
                let id =
                    events::record(&tx, &job.user_id, EventType::Reminder, task_id, &data, now)?;
                event = Some(Event {
                    id,
                    event_type: EventType::Reminder,
                    task_id,
                    task_data: serde_json::from_str(&data).unwrap_or_default(),
                    user_id: job.user_id.clone(),
                    timestamp: now,
                });
            }
            sql::execute(
                &tx,
                "UPDATE jobs SET done_at = ?2, locked_until = NULL WHERE id = ?1",
                (job.id, ts(&now)),
            )
            .map_err(db_error)?;
            tx.commit().map_err(db_error)?;
            Ok(event)
        })
        .await
    }

    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()> {
        let error = error.map(str::to_owned);
        self.write(move |conn| {
            sql::execute(
                conn,
                "UPDATE jobs SET done_at = ?2, locked_until = NULL, last_error = ?3 \
                 WHERE id = ?1",
                (id, ts(&now), &error),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()> {
        let error = error.to_owned();
        self.write(move |conn| {
            sql::execute(
                conn,
                "UPDATE jobs SET run_at = ?2, locked_until = NULL, last_error = ?3 WHERE id = ?1",
                (id, ts(&run_at), &error),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>) -> Result<()> {
        self.write(move |conn| {
            sql::execute(
                conn,
                "UPDATE jobs SET run_at = ?2, locked_until = NULL, \
                     attempts = MAX(attempts - 1, 0) WHERE id = ?1 AND done_at IS NULL",
                (id, ts(&run_at)),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        self.write(move |conn| {
            let done = sql::execute(conn, "DELETE FROM jobs WHERE done_at < ?1", [ts(&before)])
                .map_err(db_error)?;
            Ok(done as u64)
        })
        .await
    }
}
