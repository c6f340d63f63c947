//! Channels, the daily digest's schedule and reminder emails on PostgreSQL. Every write that
//! touches a user's digest job holds the user's row lock first, so across replicas they run
//! one after another and each sees what the one before it committed.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use todo_core::Result;
use todo_core::jobs::Job;
use todo_core::notify::{
    ChannelChanges, Channels, DigestHour, DigestUser, NotifyStore, ReminderSource, digest_run_at,
};
use todo_core::user::UserId;

use crate::PostgresStore;
use crate::events::JOBS_CHANNEL;
use crate::rows::db_error;

type ChannelRow = (bool, bool, bool, Option<i16>);

fn channels(row: ChannelRow) -> Channels {
    Channels {
        in_app: row.0,
        email: row.1,
        push: row.2,
        digest_hour: row.3.and_then(|h| DigestHour::new(i64::from(h)).ok()),
    }
}

/// Replaces the user's pending digest job with the one their settings call for at `now`,
/// under the user's row lock, and wakes the workers.
async fn replace_digest(conn: &mut PgConnection, user: &UserId, now: DateTime<Utc>) -> Result<()> {
    let settings: Option<(Option<i16>, String, Option<NaiveDate>)> = sqlx::query_as(
        "SELECT digest_hour, timezone, digest_sent_on FROM users WHERE id = $1 FOR UPDATE",
    )
    .bind(user)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM jobs WHERE user_id = $1 AND kind = 'digest' AND done_at IS NULL")
        .bind(user)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if let Some((hour, zone, sent_on)) = settings
        && let Some(at) = digest_run_at(hour.map(i64::from), &zone, sent_on, now)
    {
        sqlx::query(
            "WITH queued AS (INSERT INTO jobs (kind, user_id, run_at) \
                 VALUES ('digest', $1, $2) RETURNING id) \
             SELECT pg_notify($3, '') FROM queued",
        )
        .bind(user)
        .bind(at)
        .bind(JOBS_CHANNEL)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

#[async_trait]
impl NotifyStore for PostgresStore {
    async fn channels(&self, user_id: &UserId) -> Result<Option<Channels>> {
        let row: Option<ChannelRow> = sqlx::query_as(
            "SELECT notify_in_app, notify_email, notify_push, digest_hour FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(channels))
    }

    async fn update_channels(
        &self,
        user_id: &UserId,
        changes: &ChannelChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Channels>> {
        let hour = changes.digest_hour.map(|h| h.map(|h| i16::from(h.get())));
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The update takes the row lock that `replace_digest` needs.
        let row: Option<ChannelRow> = sqlx::query_as(
            "UPDATE users SET notify_in_app = COALESCE($2, notify_in_app), \
                 notify_email = COALESCE($3, notify_email), \
                 notify_push = COALESCE($4, notify_push), \
                 digest_hour = CASE WHEN $5 THEN $6 ELSE digest_hour END \
             WHERE id = $1 \
             RETURNING notify_in_app, notify_email, notify_push, digest_hour",
        )
        .bind(user_id)
        .bind(changes.in_app)
        .bind(changes.email)
        .bind(changes.push)
        .bind(hour.is_some())
        .bind(hour.flatten())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        if hour.is_some() {
            replace_digest(&mut tx, user_id, now).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(Some(channels(row)))
    }

    async fn reschedule_digest(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        replace_digest(&mut tx, user_id, now).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn digest_job_at(&self, user_id: &UserId) -> Result<Option<DateTime<Utc>>> {
        sqlx::query_scalar(
            "SELECT run_at FROM jobs WHERE user_id = $1 AND kind = 'digest' AND done_at IS NULL \
             ORDER BY run_at LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn digest_user(&self, user_id: &UserId) -> Result<Option<DigestUser>> {
        type Row = (Option<String>, String, Option<i16>, Option<NaiveDate>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT email, timezone, digest_hour, digest_sent_on FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(|(email, timezone, hour, sent_on)| DigestUser {
            email,
            timezone,
            digest_hour: hour.and_then(|h| DigestHour::new(i64::from(h)).ok()),
            sent_on,
        }))
    }

    async fn finish_digest(
        &self,
        job: &Job,
        mail: Option<&str>,
        sent_on: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let user = &job.user_id;
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The user's row lock first, as every other write of their digest job takes it.
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
            .bind(user)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let finished = sqlx::query(
            "UPDATE jobs SET done_at = $2, locked_until = NULL WHERE id = $1 AND done_at IS NULL",
        )
        .bind(job.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected();
        if finished == 0 {
            // Replaced meanwhile (the hour or zone changed): nothing is written.
            return Ok(false);
        }
        if let Some(payload) = mail {
            sqlx::query(
                "INSERT INTO jobs (kind, user_id, payload, run_at) VALUES ('email', $1, $2, $3)",
            )
            .bind(user)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query("UPDATE users SET digest_sent_on = $2 WHERE id = $1")
            .bind(user)
            .bind(sent_on)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        replace_digest(&mut tx, user, now).await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(JOBS_CHANNEL)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn reminder_source(&self, job: &Job) -> Result<Option<ReminderSource>> {
        let Some(event_id) = job.event_id else {
            return Ok(None);
        };
        let row: Option<(Option<String>, bool, String, String)> = sqlx::query_as(
            "SELECT u.email, u.notify_email, u.timezone, e.task_data \
             FROM users u JOIN events e ON e.user_id = u.id AND e.id = $2 \
             WHERE u.id = $1",
        )
        .bind(&job.user_id)
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(row.map(
            |(email, notify_email, timezone, task_data)| ReminderSource {
                email,
                notify_email,
                timezone,
                task_data,
            },
        ))
    }

    async fn opt_out_of_invitations(&self, email: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO mail_opt_outs (email, created_at) VALUES ($1, $2) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(email)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(db_error)
        .map(drop)
    }

    async fn opted_out_of_invitations(&self, email: &str) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM mail_opt_outs WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(found.is_some())
    }
}
