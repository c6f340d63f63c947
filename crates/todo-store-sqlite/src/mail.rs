//! Queued email, password resets and email confirmations on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use todo_core::Result;
use todo_core::mail::MailStore;
use todo_core::user::UserId;

use crate::rows::db_error;
use crate::{SqliteStore, savepoint, sql};

#[async_trait]
impl MailStore for SqliteStore {
    async fn enqueue_mail(
        &self,
        user_id: &UserId,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let values = [user_id.into(), payload.into(), now.into()];
        // Announcing: the job workers wake for it.
        self.write_announcing(move |conn| {
            let sql =
                "INSERT INTO jobs (kind, user_id, payload, run_at) VALUES ('email', ?1, ?2, ?3)";
            sql::run(conn, sql, values).map(drop)
        })
        .await
    }

    async fn mail_payload(&self, job_id: i64) -> Result<Option<String>> {
        self.read(move |conn| {
            sql::scalar::<Option<String>>(
                conn,
                "SELECT payload FROM jobs WHERE id = ?1 AND kind = 'email'",
                [job_id.into()],
            )
            .map(Option::flatten)
        })
        .await
    }

    async fn insert_password_reset(
        &self,
        token_hash: &str,
        user_id: &UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let values = [
            token_hash.into(),
            user_id.into(),
            now.into(),
            expires_at.into(),
        ];
        self.write(move |conn| {
            let sql = "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
                       VALUES (?1, ?2, ?3, ?4)";
            sql::run(conn, sql, values)?;
            // Spent and expired resets are of no more use.
            let sql = "DELETE FROM password_resets WHERE expires_at <= ?1";
            sql::run(conn, sql, [now.into()]).map(drop)
        })
        .await
    }

    async fn use_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>> {
        let values = [token_hash.into(), now.into()];
        self.write(move |conn| {
            let sql = "UPDATE password_resets SET used_at = ?2 \
                       WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 \
                       RETURNING user_id";
            sql::scalar::<String>(conn, sql, values).map(|id| id.map(UserId::new))
        })
        .await
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
        let values = [
            token_hash.into(),
            user_id.into(),
            email.into(),
            now.into(),
            expires_at.into(),
            (now - Duration::hours(1)).into(),
            i64::from(per_hour).into(),
        ];
        self.write(move |conn| {
            let sql = "INSERT INTO email_verifications \
                       (token_hash, user_id, email, created_at, expires_at) \
                       SELECT ?1, ?2, ?3, ?4, ?5 WHERE (SELECT count(*) FROM email_verifications \
                           WHERE user_id = ?2 AND created_at > ?6) < ?7";
            let stored = sql::run(conn, sql, values)? > 0;
            // Expired links are of no more use.
            let sql = "DELETE FROM email_verifications WHERE expires_at <= ?1";
            sql::run(conn, sql, [now.into()])?;
            Ok(stored)
        })
        .await
    }

    async fn use_email_verification(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>> {
        let values = [token_hash.into(), now.into()];
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let sql = "UPDATE email_verifications SET used_at = ?2 \
                       WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 \
                       RETURNING user_id";
            let Some(user_id) = sql::scalar::<String>(&tx, sql, values.clone())? else {
                return Ok(None);
            };
            // Only the address the link was sent to is confirmed by it.
            let sql = "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?2) \
                       WHERE id = (SELECT user_id FROM email_verifications WHERE token_hash = ?1) \
                         AND email = (SELECT email FROM email_verifications WHERE token_hash = ?1)";
            let confirmed = sql::run(&tx, sql, values)?;
            tx.commit().map_err(db_error)?;
            Ok((confirmed > 0).then(|| UserId::new(user_id)))
        })
        .await
    }

    async fn mark_email_verified(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<()> {
        let values = [user_id.into(), now.into()];
        self.write(move |conn| {
            let sql = "UPDATE users SET email_verified_at = COALESCE(email_verified_at, ?2) \
                       WHERE id = ?1";
            sql::run(conn, sql, values).map(drop)
        })
        .await
    }
}
