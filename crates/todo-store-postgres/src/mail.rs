//! Queued email, password resets and email confirmations on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::Result;
use todo_core::mail::MailStore;
use todo_core::user::UserId;

use crate::events::JOBS_CHANNEL;
use crate::{PostgresStore, sql};

#[async_trait]
impl MailStore for PostgresStore {
    async fn enqueue_mail(
        &self,
        user_id: &UserId,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // One statement: the job and the wake-up of every replica's worker commit together.
        let sql = "WITH queued AS (INSERT INTO jobs (kind, user_id, payload, run_at) \
                       VALUES ('email', $1, $2, $3) RETURNING id) \
                   SELECT pg_notify($4, '') FROM queued";
        let values = [
            user_id.into(),
            payload.into(),
            now.into(),
            JOBS_CHANNEL.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn mail_payload(&self, job_id: i64) -> Result<Option<String>> {
        let sql = "SELECT payload FROM jobs WHERE id = $1 AND kind = 'email'";
        sql::scalar::<Option<String>>(&self.pool, sql, [job_id.into()])
            .await
            .map(Option::flatten)
    }

    async fn insert_password_reset(
        &self,
        token_hash: &str,
        user_id: &UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        let values = [
            token_hash.into(),
            user_id.into(),
            now.into(),
            expires_at.into(),
        ];
        sql::run(&self.pool, sql, values).await?;
        // Spent and expired resets are of no more use.
        let sql = "DELETE FROM password_resets WHERE expires_at <= $1";
        sql::run(&self.pool, sql, [now.into()]).await.map(drop)
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>> {
        let sql = "UPDATE password_resets SET used_at = $2 \
                   WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                   RETURNING user_id";
        let id = sql::scalar::<String>(&self.pool, sql, [token_hash.into(), now.into()]).await?;
        Ok(id.map(UserId::new))
    }

    async fn insert_email_verification(
        &self,
        token_hash: &str,
        user_id: &UserId,
        email: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        per_hour: u32,
    ) -> Result<bool> {
        let sql = "INSERT INTO email_verifications \
                   (token_hash, user_id, email, created_at, expires_at) \
                   SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM email_verifications \
                       WHERE user_id = $2 AND created_at > $6) < $7";
        let values = [
            token_hash.into(),
            user_id.into(),
            email.into(),
            now.into(),
            expires_at.into(),
            (now - Duration::hours(1)).into(),
            i64::from(per_hour).into(),
        ];
        let stored = sql::run(&self.pool, sql, values).await? > 0;
        // Expired links are of no more use.
        let sql = "DELETE FROM email_verifications WHERE expires_at <= $1";
        sql::run(&self.pool, sql, [now.into()]).await?;
        Ok(stored)
    }

    async fn use_email_verification(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>> {
        // One statement: the link is spent and (only for the address it was sent to) the
        // address confirmed together.
        let sql = "WITH used AS (UPDATE email_verifications SET used_at = $2 \
                       WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
                       RETURNING user_id, email), \
                   confirmed AS (UPDATE users u \
                       SET email_verified_at = COALESCE(u.email_verified_at, $2) \
                       FROM used WHERE u.id = used.user_id AND u.email = used.email \
                       RETURNING u.id) \
                   SELECT id FROM confirmed";
        let id = sql::scalar::<String>(&self.pool, sql, [token_hash.into(), now.into()]).await?;
        Ok(id.map(UserId::new))
    }

    async fn mark_email_verified(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $2) \
                   WHERE id = $1";
        sql::run(&self.pool, sql, [user_id.into(), now.into()])
            .await
            .map(drop)
    }
}
