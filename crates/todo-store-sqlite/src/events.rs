//! Events, reminders, jobs and webhooks on SQLite. Events are written in the transaction of
//! the change; one process owns the file, so wake-ups go through an in-process channel that
//! the store signals after each commit. SQLite has one writer at a time, so event ids are
//! committed in order.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::events::{Event, EventId, EventStore, EventType, Signal};
use todo_core::ids::UserId;
use todo_core::jobs::{Job, JobId, JobKind, JobStore};
use todo_core::planning::ReminderWrites;
use todo_core::task::TaskId;
use todo_core::time::to_sortable_text as ts;
use todo_core::webhooks::{Delivery, Webhook, WebhookId, WebhookStore};
use tokio::sync::broadcast;

use todo_store_sql::{
    EVENT_COLUMNS, JOB_COLUMNS, JobRow, WEBHOOK_COLUMNS, WebhookSecretRow, reminder_task_data,
};

use crate::rows::{self, db_error, opt_time};
use crate::{SqliteStore, savepoint, select_task, sql};

/// Writes one event in the change's transaction, queues a delivery to each of the user's
/// active webhooks. The caller signals listeners after the commit.
pub(crate) fn record(
    conn: &Connection,
    user_id: &UserId,
    kind: EventType,
    task_id: TaskId,
    task_data: &str,
    now: DateTime<Utc>,
) -> Result<EventId> {
    let id: i64 = sql::one(
        conn,
        "INSERT INTO events (user_id, event_type, task_id, task_data, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        (user_id, kind.as_str(), task_id, task_data, ts(&now)),
        |row| row.get(0),
    )
    .map_err(db_error)?
    .ok_or_else(|| todo_core::Error::internal("insert returned no row"))?;
    sql::execute(
        conn,
        "INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
         SELECT 'webhook', user_id, ?2, id, ?3 FROM webhooks \
         WHERE user_id = ?1 AND disabled_at IS NULL",
        (user_id, id, ts(&now)),
    )
    .map_err(db_error)?;
    Ok(id)
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

/// Writes a plan's reminder rows, each reminder that is to fire with a job at its moment.
pub(crate) fn write_reminders(
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

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            // The limit in the text, as in listings: a bound one re-prepares at every call.
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id > ?2 \
                 ORDER BY id LIMIT {limit}"
            );
            let rows = sql::all(conn, &sql, (&user_id, after), rows::event).map_err(db_error)?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
        .await
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let id: Option<i64> = sql::one(
                conn,
                "SELECT MAX(id) FROM events WHERE user_id = ?1",
                [&user_id],
                |row| row.get(0),
            )
            .map_err(db_error)?
            .flatten();
            Ok(id.unwrap_or(0))
        })
        .await
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "DELETE FROM events WHERE created_at < ?1",
                [ts(&before)],
            )
            .map_err(db_error)?;
            Ok(done as u64)
        })
        .await
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }
}

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
                rows::job,
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
                let id = record(&tx, &job.user_id, EventType::Reminder, task_id, &data, now)?;
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

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook(
        &self,
        user_id: &UserId,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>> {
        let (user_id, url, secret) = (user_id.to_owned(), url.to_owned(), secret.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The count and the insert are one statement of the one writer: nothing comes between.
        self.write(move |conn| {
            let sql = format!(
                "INSERT INTO webhooks (user_id, url, secret, created_at) \
                 SELECT ?1, ?2, ?3, ?4 \
                 WHERE (SELECT COUNT(*) FROM webhooks WHERE user_id = ?1) < ?5 \
                 RETURNING {WEBHOOK_COLUMNS}"
            );
            sql::one(
                conn,
                &sql,
                (&user_id, &url, &secret, ts(&now), limit),
                rows::webhook,
            )
            .map(|row| row.map(Into::into))
            .map_err(db_error)
        })
        .await
    }

    async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let sql =
                format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ?1 ORDER BY id");
            let rows = sql::all(conn, &sql, [&user_id], rows::webhook).map_err(db_error)?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
        .await
    }

    async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "DELETE FROM webhooks WHERE user_id = ?1 AND id = ?2",
                (&user_id, id),
            )
            .map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }

    async fn delivery(&self, job: &Job) -> Result<Option<Delivery>> {
        let (Some(webhook_id), Some(event_id)) = (job.webhook_id, job.event_id) else {
            return Ok(None);
        };
        let user_id = job.user_id.clone();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {WEBHOOK_COLUMNS}, secret FROM webhooks \
                 WHERE user_id = ?1 AND id = ?2 AND disabled_at IS NULL"
            );
            let hook = sql::one(conn, &sql, (&user_id, webhook_id), |row| {
                Ok(WebhookSecretRow {
                    webhook: rows::webhook(row)?,
                    secret: row.get(6)?,
                })
            })
            .map_err(db_error)?;
            let Some(hook) = hook else {
                return Ok(None);
            };
            let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id = ?2");
            let event =
                sql::one(conn, &sql, (&user_id, event_id), rows::event).map_err(db_error)?;
            Ok(event.map(|event| Delivery {
                webhook: hook.webhook.into(),
                secret: hook.secret,
                event: event.into(),
            }))
        })
        .await
    }

    async fn record_delivery(
        &self,
        user_id: &UserId,
        id: WebhookId,
        error: Option<&str>,
        now: DateTime<Utc>,
        disable_after: i32,
    ) -> Result<()> {
        let (user_id, error) = (user_id.to_owned(), error.map(str::to_owned));
        self.write(move |conn| {
            sql::execute(
                conn,
                "UPDATE webhooks SET \
                     consecutive_failures = CASE WHEN ?3 IS NULL THEN 0 \
                         ELSE consecutive_failures + 1 END, \
                     last_error = ?3, \
                     disabled_at = CASE WHEN ?3 IS NOT NULL AND consecutive_failures + 1 >= ?5 \
                         THEN COALESCE(disabled_at, ?4) ELSE disabled_at END \
                 WHERE user_id = ?1 AND id = ?2",
                (&user_id, id, &error, ts(&now), disable_after),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }
}
