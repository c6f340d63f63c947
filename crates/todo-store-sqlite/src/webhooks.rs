//! Webhooks on SQLite: the user's targets, and what a delivery job needs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::ids::{ProjectId, UserId};
use todo_core::jobs::Job;
use todo_core::webhooks::{Delivery, Webhook, WebhookId, WebhookStore};
use todo_store_sql::{EventRow, WEBHOOK_COLUMNS, WebhookRow};

use crate::rows::{db_error, decode};
use crate::{SqliteStore, sql};

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook(
        &self,
        user_id: &UserId,
        url: &str,
        secret: &str,
        project: Option<ProjectId>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>> {
        // The count and the insert are one statement of the one writer: nothing comes between.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!(
            "INSERT INTO webhooks (user_id, url, secret, created_at, project_id) \
             SELECT ?1, ?2, ?3, ?4, ?6 \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE user_id = ?1) < ?5 \
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
        self.write(move |conn| sql::row::<WebhookRow, _>(conn, &sql, values))
            .await
    }

    async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE user_id = ?1 ORDER BY id");
        let values = [user_id.into()];
        self.read(move |conn| sql::rows::<WebhookRow, _>(conn, &sql, values))
            .await
    }

    async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<bool> {
        let sql = "DELETE FROM webhooks WHERE user_id = ?1 AND id = ?2";
        let values = [user_id.into(), id.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(|done| done > 0))
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
                Ok((decode::<WebhookRow>(row)?, row.get::<_, String>(7)?))
            })
            .map_err(db_error)?;
            let Some(hook) = hook else {
                return Ok(None);
            };
            let sql = &todo_store_sql::sharing::EVENT;
            let event = sql::row::<EventRow, _>(conn, sql, [event_id.into()])?;
            Ok(event.map(|event| Delivery {
                webhook: hook.0.into(),
                secret: hook.1,
                event,
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
        let sql = "UPDATE webhooks SET \
                 consecutive_failures = CASE WHEN ?3 IS NULL THEN 0 \
                     ELSE consecutive_failures + 1 END, \
                 last_error = ?3, \
                 disabled_at = CASE WHEN ?3 IS NOT NULL AND consecutive_failures + 1 >= ?5 \
                     THEN COALESCE(disabled_at, ?4) ELSE disabled_at END \
             WHERE user_id = ?1 AND id = ?2";
        let values = [
            user_id.into(),
            id.into(),
            error.into(),
            now.into(),
            disable_after.into(),
        ];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }
}
