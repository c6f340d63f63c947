//! Events, reminders, jobs and webhooks on SQLite. Events are written in the transaction of
//! the change; one process owns the file, so wake-ups go through an in-process channel that
//! the store signals after each commit. SQLite has one writer at a time, so event ids are
//! committed in order.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{Sqlite, Transaction};
use todo_core::Result;
use todo_core::events::{Event, EventId, EventStore, EventType, Signal};
use todo_core::jobs::{Job, JobId, JobStore};
use todo_core::reminders::NewReminder;
use todo_core::task::TaskId;
use todo_core::time::to_sortable_text as ts;
use todo_core::webhooks::{Delivery, Webhook, WebhookId, WebhookStore};
use tokio::sync::broadcast;

use todo_store_sql::{
    EVENT_COLUMNS, EventRow, JOB_COLUMNS, JobRow, WEBHOOK_COLUMNS, WebhookRow, WebhookSecretRow,
    db_error, reminder_task_data,
};

use crate::{SqliteStore, select_task};

/// Writes one event in the change's transaction, queues a delivery to each of the user's
/// active webhooks. The caller signals listeners after the commit.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: &str,
    kind: EventType,
    task_id: TaskId,
    task_data: &str,
    now: DateTime<Utc>,
) -> Result<EventId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (user_id, event_type, task_id, task_data, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(task_id)
    .bind(task_data)
    .bind(ts(&now))
    .fetch_one(&mut **tx)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
         SELECT 'webhook', user_id, ?2, id, ?3 FROM webhooks \
         WHERE user_id = ?1 AND disabled_at IS NULL",
    )
    .bind(user_id)
    .bind(id)
    .bind(ts(&now))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(id)
}

async fn queue_reminder(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: &str,
    reminder_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, user_id, reminder_id, run_at) VALUES ('reminder', ?1, ?2, ?3)",
    )
    .bind(user_id)
    .bind(reminder_id)
    .bind(ts(&at))
    .execute(&mut **tx)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// `remind_at`, `minutes_before` and `sent_at` of a reminder that has fired.
type Fired = (DateTime<Utc>, Option<i64>, Option<DateTime<Utc>>);

/// Replaces a task's reminders, each with a job at its moment.
pub(crate) async fn replace_reminders(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: &str,
    task_id: TaskId,
    reminders: &[NewReminder],
    anchor: Option<DateTime<Utc>>,
) -> Result<()> {
    // A reminder that stays as it was and has fired keeps its `sent_at`: editing the list
    // must not fire it again.
    let fired: Vec<Fired> = sqlx::query_as(
        "SELECT remind_at, minutes_before, sent_at FROM reminders \
         WHERE user_id = ?1 AND task_id = ?2 AND sent_at IS NOT NULL",
    )
    .bind(user_id)
    .bind(task_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM reminders WHERE user_id = ?1 AND task_id = ?2")
        .bind(user_id)
        .bind(task_id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
    for reminder in reminders {
        let Some(at) = reminder.moment(anchor) else {
            continue;
        };
        let sent_at = fired
            .iter()
            .find(|(r, m, _)| *r == at && *m == reminder.minutes_before())
            .and_then(|(_, _, sent)| *sent);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO reminders (user_id, task_id, remind_at, minutes_before, sent_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .bind(user_id)
        .bind(task_id)
        .bind(ts(&at))
        .bind(reminder.minutes_before())
        .bind(sent_at.as_ref().map(ts))
        .fetch_one(&mut **tx)
        .await
        .map_err(db_error)?;
        if sent_at.is_some() {
            continue;
        }
        queue_reminder(tx, user_id, id, at).await?;
    }
    Ok(())
}

/// The due moved: relative reminders move with it (and may fire again), or go with it.
pub(crate) async fn retime_reminders(
    tx: &mut Transaction<'static, Sqlite>,
    user_id: &str,
    task_id: TaskId,
    anchor: Option<DateTime<Utc>>,
) -> Result<()> {
    let Some(anchor) = anchor else {
        sqlx::query(
            "DELETE FROM reminders WHERE user_id = ?1 AND task_id = ?2 AND minutes_before IS NOT NULL",
        )
        .bind(user_id)
        .bind(task_id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        return Ok(());
    };
    let relative: Vec<(i64, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT id, minutes_before, remind_at FROM reminders \
         WHERE user_id = ?1 AND task_id = ?2 AND minutes_before IS NOT NULL",
    )
    .bind(user_id)
    .bind(task_id)
    .fetch_all(&mut **tx)
    .await
    .map_err(db_error)?;
    for (id, minutes, was) in &relative {
        let at = anchor - Duration::minutes(*minutes);
        if at == *was {
            // The due did not really move: a reminder that fired stays fired.
            continue;
        }
        sqlx::query(
            "UPDATE reminders SET remind_at = ?1, sent_at = NULL WHERE user_id = ?2 AND id = ?3",
        )
        .bind(ts(&at))
        .bind(user_id)
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(db_error)?;
        queue_reminder(tx, user_id, *id, at).await?;
    }
    Ok(())
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_after(&self, user_id: &str, after: EventId, limit: u32) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
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

    async fn last_event_id(&self, user_id: &str) -> Result<EventId> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events WHERE user_id = ?1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(id.unwrap_or(0))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM events WHERE created_at < ?1")
            .bind(ts(&before))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Job>> {
        // One statement in a write transaction: processes sharing the file take turns.
        let sql = format!(
            "UPDATE jobs SET locked_until = ?2, attempts = attempts + 1 WHERE id IN ( \
                 SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= ?1 \
                     AND (locked_until IS NULL OR locked_until <= ?1) \
                 ORDER BY run_at LIMIT ?3) \
             RETURNING {JOB_COLUMNS}"
        );
        let mut tx = self.write().await?;
        let rows = sqlx::query_as::<_, JobRow>(sqlx::AssertSqlSafe(sql))
            .bind(ts(&now))
            .bind(ts(&(now + lease)))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(rows.into_iter().filter_map(JobRow::into_job).collect())
    }

    async fn next_job_at(&self) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar(
            "SELECT MIN(MAX(run_at, COALESCE(locked_until, run_at))) FROM jobs WHERE done_at IS NULL",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn fire_reminder(&self, job: &Job, now: DateTime<Utc>) -> Result<Option<Event>> {
        let mut tx = self.write().await?;
        let fired: Option<(i64, i64)> = match job.reminder_id {
            Some(reminder_id) => sqlx::query_as(
                "UPDATE reminders SET sent_at = ?3 \
                 WHERE user_id = ?1 AND id = ?2 AND sent_at IS NULL AND remind_at <= ?3 \
                     AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = reminders.task_id AND t.completed = 0) \
                 RETURNING id, task_id",
            )
            .bind(&job.user_id)
            .bind(reminder_id)
            .bind(ts(&now))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?,
            None => None,
        };
        let mut event = None;
        if let Some((reminder_id, task_id)) = fired
            && let Some(task) = select_task(&mut *tx, &job.user_id, task_id).await?
        {
            let data = reminder_task_data(&task, reminder_id);
            let id = record(
                &mut tx,
                &job.user_id,
                EventType::Reminder,
                task_id,
                &data,
                now,
            )
            .await?;
            event = Some(Event {
                id,
                event_type: EventType::Reminder,
                task_id,
                task_data: serde_json::from_str(&data).unwrap_or_default(),
                user_id: job.user_id.clone(),
                timestamp: now,
            });
        }
        sqlx::query("UPDATE jobs SET done_at = ?2, locked_until = NULL WHERE id = ?1")
            .bind(job.id)
            .bind(ts(&now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        if let Some(event) = &event {
            self.wake(&event.user_id);
        }
        Ok(event)
    }

    async fn finish_job(&self, id: JobId, now: DateTime<Utc>, error: Option<&str>) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET done_at = ?2, locked_until = NULL, last_error = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(ts(&now))
        .bind(error)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn retry_job(&self, id: JobId, run_at: DateTime<Utc>, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET run_at = ?2, locked_until = NULL, last_error = ?3 WHERE id = ?1",
        )
        .bind(id)
        .bind(ts(&run_at))
        .bind(error)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM jobs WHERE done_at < ?1")
            .bind(ts(&before))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook(
        &self,
        user_id: &str,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<Webhook> {
        let sql = format!(
            "INSERT INTO webhooks (user_id, url, secret, created_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING {WEBHOOK_COLUMNS}"
        );
        sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(url)
            .bind(secret)
            .bind(ts(&now))
            .fetch_one(&self.writer)
            .await
            .map(Into::into)
            .map_err(db_error)
    }

    async fn list_webhooks(&self, user_id: &str) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ?1 ORDER BY id");
        let rows = sqlx::query_as::<_, WebhookRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_webhook(&self, user_id: &str, id: WebhookId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE user_id = ?1 AND id = ?2")
            .bind(user_id)
            .bind(id)
            .execute(&self.writer)
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
             WHERE user_id = ?1 AND id = ?2 AND disabled_at IS NULL"
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
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id = ?2");
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
        user_id: &str,
        id: WebhookId,
        error: Option<&str>,
        now: DateTime<Utc>,
        disable_after: i32,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN ?3 IS NULL THEN 0 ELSE consecutive_failures + 1 END, \
                 last_error = ?3, \
                 disabled_at = CASE WHEN ?3 IS NOT NULL AND consecutive_failures + 1 >= ?5 \
                     THEN COALESCE(disabled_at, ?4) ELSE disabled_at END \
             WHERE user_id = ?1 AND id = ?2",
        )
        .bind(user_id)
        .bind(id)
        .bind(error)
        .bind(ts(&now))
        .bind(disable_after)
        .execute(&self.writer)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
