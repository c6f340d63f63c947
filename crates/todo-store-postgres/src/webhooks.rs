//! Webhooks on PostgreSQL: the user's targets, and what a delivery job needs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use todo_core::Result;
use todo_core::ids::{ProjectId, UserId};
use todo_core::jobs::Job;
use todo_core::webhooks::{Delivery, Webhook, WebhookId, WebhookStore};
use todo_store_sql::tree::numbered;
use todo_store_sql::{EventRow, WEBHOOK_COLUMNS, WebhookRow};

use crate::rows::{db_error, decode};
use crate::{PostgresStore, sql, tx};

#[async_trait]
impl WebhookStore for PostgresStore {
    async fn insert_webhook(
        &self,
        user_id: &UserId,
        url: &str,
        secret: &str,
        project: Option<ProjectId>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>> {
        // Under the user's lock (taken first, across replicas): no other insert commits
        // between this statement's count and its insert.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let sql = format!(
            "INSERT INTO webhooks (user_id, url, secret, created_at, project_id) \
             SELECT $1, $2, $3, $4, $6 \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE user_id = $1) < $5 \
             RETURNING {WEBHOOK_COLUMNS}"
        );
        let values = [
            user_id.into(),
            url.into(),
            secret.into(),
            now.into(),
            limit.into(),
            project.into(),
        ];
        let inserted = sql::row::<WebhookRow, _>(&mut *tx, sql, values).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(inserted)
    }

    async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = $1 ORDER BY id");
        sql::rows::<WebhookRow, _>(&self.pool, sql, [user_id.into()]).await
    }

    async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<bool> {
        let sql = "DELETE FROM webhooks WHERE user_id = $1 AND id = $2";
        let done = sql::run(&self.pool, sql, [user_id.into(), id.into()]).await?;
        Ok(done > 0)
    }

    async fn delivery(&self, job: &Job) -> Result<Option<Delivery>> {
        let (Some(webhook_id), Some(event_id)) = (job.webhook_id, job.event_id) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {WEBHOOK_COLUMNS}, secret FROM webhooks \
             WHERE user_id = $1 AND id = $2 AND disabled_at IS NULL"
        );
        let Some(hook) = sql::query(sql, [(&job.user_id).into(), webhook_id.into()])?
            .try_map(|row: PgRow| Ok((decode::<WebhookRow>(&row)?, row.try_get::<String, _>(7)?)))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let sql = numbered(&todo_store_sql::sharing::EVENT);
        let event = sql::row::<EventRow, _>(&self.pool, sql, [event_id.into()]).await?;
        Ok(event.map(|event| Delivery {
            webhook: hook.0.into(),
            secret: hook.1,
            event,
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
        let sql = "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN $3::text IS NULL THEN 0 \
                     ELSE consecutive_failures + 1 END, \
                 last_error = $3, \
                 disabled_at = CASE WHEN $3::text IS NOT NULL AND consecutive_failures + 1 >= $5 \
                     THEN COALESCE(disabled_at, $4) ELSE disabled_at END \
             WHERE user_id = $1 AND id = $2";
        let values = [
            user_id.into(),
            id.into(),
            error.into(),
            now.into(),
            disable_after.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }
}
