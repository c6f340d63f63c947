//! Events, reminders, jobs and webhooks on PostgreSQL. Events are written in the transaction
//! of the change; `pg_notify` inside it wakes every replica's listener on commit (and never
//! for a rolled-back change). Notifications carry no payload but the user id: readers read
//! the table, so order and resumption come from event ids.

use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use todo_core::Result;
use todo_core::events::{Event, EventId, EventStore, EventType, Signal};
use todo_core::ids::UserId;
use todo_core::jobs::{Job, JobId, JobKind, JobStore};
use todo_core::planning::ReminderWrites;
use todo_core::task::TaskId;
use todo_core::webhooks::{Delivery, Webhook, WebhookId, WebhookStore};
use tokio::sync::broadcast;

use todo_store_sql::{
    EVENT_COLUMNS, EventRow, JOB_COLUMNS, JobRow, WEBHOOK_COLUMNS, WebhookRow, WebhookSecretRow,
    db_error, reminder_task_data,
};

use crate::tx;
use crate::{PostgresStore, select_task};

pub const EVENTS_CHANNEL: &str = "todo_events";
pub const JOBS_CHANNEL: &str = "todo_jobs";

/// The wake-up channel of one store, fed by one LISTEN connection started on first use.
pub(crate) struct Signals {
    sender: broadcast::Sender<Signal>,
    started: OnceLock<()>,
}

impl Signals {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            sender: broadcast::channel(1024).0,
            started: OnceLock::new(),
        })
    }
}

async fn listen(pool: PgPool, sender: broadcast::Sender<Signal>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                tokio::time::sleep(StdDuration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen_all([EVENTS_CHANNEL, JOBS_CHANNEL]).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(StdDuration::from_secs(1)).await;
            continue;
        }
        // Whatever was committed while we were not listening is read on this resync.
        let _ = sender.send(Signal::Resync);
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) => {
                    let signal = if note.channel() == EVENTS_CHANNEL {
                        Signal::Events {
                            user_id: note.payload().into(),
                        }
                    } else {
                        Signal::Jobs
                    };
                    let _ = sender.send(signal);
                }
                // The connection dropped; `try_recv` reconnects on the next call, and
                // notifications sent meanwhile are lost: tell readers to look again.
                Ok(None) => {
                    let _ = sender.send(Signal::Resync);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                    tokio::time::sleep(StdDuration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

/// Writes one event in the change's transaction, with a delivery job for each of the user's
/// webhooks that is not disabled, and notifies listeners (PostgreSQL delivers notifications
/// on commit, never for a rollback); the event's id. Writers of one user hold the user's lock
/// (`tx::begin`), so a user's event ids commit in order.
pub(crate) async fn record(
    tx: &mut PgConnection,
    user_id: &UserId,
    kind: EventType,
    task_id: TaskId,
    task_data: &str,
    at: DateTime<Utc>,
) -> Result<EventId> {
    let (id, _): (i64, bool) = sqlx::query_as(
        "WITH event AS (INSERT INTO events (user_id, event_type, task_id, task_data, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at), \
         queued AS (INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
             SELECT 'webhook', w.user_id, event.id, w.id, event.created_at FROM webhooks w, event \
             WHERE w.user_id = $1 AND w.disabled_at IS NULL RETURNING 1), \
         woken AS (SELECT pg_notify($6, $1) \
             UNION ALL SELECT pg_notify($7, '') WHERE EXISTS (SELECT 1 FROM queued)) \
         SELECT event.id, (SELECT COUNT(*) FROM woken) > 0 FROM event",
        // (The second column is unused: it makes PostgreSQL evaluate `woken`, which a
        // statement that does not read it would skip.)
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(task_id)
    .bind(task_data)
    .bind(at)
    .bind(EVENTS_CHANNEL)
    .bind(JOBS_CHANNEL)
    .fetch_one(tx)
    .await
    .map_err(db_error)?;
    Ok(id)
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

/// Writes a plan's reminder rows, each reminder that is to fire with a job at its moment, and
/// wakes the job workers when there is a new job.
pub(crate) async fn write_reminders(
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

#[async_trait]
impl EventStore for PostgresStore {
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(id.unwrap_or(0))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM events WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        let receiver = self.signals.sender.subscribe();
        self.signals.started.get_or_init(|| {
            tokio::spawn(listen(self.pool.clone(), self.signals.sender.clone()));
        });
        receiver
    }
}

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
        let rows = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(now + lease)
            .bind(i64::from(limit))
            .bind(kind.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
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

    async fn fire_reminder(&self, job: &Job, now: DateTime<Utc>) -> Result<Option<Event>> {
        let user = &job.user_id;
        let mut tx = tx::begin(&self.pool, user).await?;
        let fired: Option<(i64, TaskId)> = match job.reminder_id {
            Some(reminder_id) => sqlx::query_as(
                "UPDATE reminders r SET sent_at = $3 FROM tasks t \
                 WHERE r.user_id = $1 AND r.id = $2 AND r.sent_at IS NULL \
                     AND r.remind_at <= $3 \
                     AND t.user_id = r.user_id AND t.id = r.task_id AND NOT t.completed \
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
            let id = record(&mut tx, user, EventType::Reminder, task_id, &data, now).await?;
            event = Some(Event {
                id,
                event_type: EventType::Reminder,
                task_id,
                task_data: serde_json::from_str(&data).unwrap_or_default(),
                user_id: user.clone(),
                timestamp: now,
            });
        }
        sqlx::query("UPDATE jobs SET done_at = $2, locked_until = NULL WHERE id = $1")
            .bind(job.id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(event)
    }

    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET done_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(now)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(run_at)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn postpone_job(&self, id: JobId, run_at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = $2, locked_until = NULL, \
                 attempts = GREATEST(attempts - 1, 0) WHERE id = $1 AND done_at IS NULL",
        )
        .bind(id)
        .bind(run_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE done_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn insert_webhook(
        &self,
        user_id: &UserId,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>> {
        // Under the user's lock (taken first, across replicas): no other insert commits
        // between this statement's count and its insert.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let sql = format!(
            "INSERT INTO webhooks (user_id, url, secret, created_at) \
             SELECT $1, $2, $3, $4 \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE user_id = $1) < $5 \
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let inserted = sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(url)
            .bind(secret)
            .bind(now)
            .bind(limit)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(inserted.map(Into::into))
    }

    async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY id");
        let rows = sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn delivery(&self, job: &Job) -> Result<Option<Delivery>> {
        let (Some(webhook_id), Some(event_id)) = (job.webhook_id, job.event_id) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS}, secret FROM webhooks \
             WHERE user_id = $1 AND id = $2 AND disabled_at IS NULL"
        );
        let Some(hook) = sqlx::query_as::<_, WebhookSecretRow>(sqlx::AssertSqlSafe(sql))
            .bind(&job.user_id)
            .bind(webhook_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND id = $2");
        let event = sqlx::query_as::<_, EventRow>(sqlx::AssertSqlSafe(sql))
            .bind(&job.user_id)
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(event.map(|event| Delivery {
            webhook: hook.webhook.into(),
            secret: hook.secret,
            event: event.into(),
        }))
    }

    async fn record_delivery(
        &self,
        user_id: &UserId,
        id: WebhookId,
        error: Option<&str>,
        now: DateTime<Utc>,
        disable_after: i32,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN $3::text IS NULL THEN 0 ELSE consecutive_failures + 1 END, \
                 last_error = $3, \
                 disabled_at = CASE WHEN $3::text IS NOT NULL AND consecutive_failures + 1 >= $5 \
                     THEN COALESCE(disabled_at, $4) ELSE disabled_at END \
             WHERE user_id = $1 AND id = $2",
        )
        .bind(user_id)
        .bind(id)
        .bind(error)
        .bind(now)
        .bind(disable_after)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
