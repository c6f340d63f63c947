//! Web Push subscriptions on PostgreSQL, and what a `push` job needs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::events::Event;
use todo_core::ids::PushSubscriptionId;
use todo_core::jobs::Job;
use todo_core::push::{PushStore, PushSubscription, Subscribed};
use todo_core::user::UserId;
use todo_store_sql::tree::numbered;
use todo_store_sql::{EventRow, PUSH_SUBSCRIPTION_COLUMNS as COLUMNS, PushSubscriptionRow};

use crate::rows::db_error;
use crate::{PostgresStore, sql, tx};

#[async_trait]
impl PushStore for PostgresStore {
    async fn upsert_push_subscription(
        &self,
        user_id: &UserId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Subscribed>> {
        // Under the user's lock (taken first, across replicas): no other subscription of
        // theirs commits between the count and the insert.
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let sql = format!(
            "UPDATE push_subscriptions SET p256dh = $3, auth = $4 \
             WHERE user_id = $1 AND endpoint = $2 RETURNING {COLUMNS}"
        );
        let values = [user_id.into(), endpoint.into(), p256dh.into(), auth.into()];
        let kept = sql::row::<PushSubscriptionRow, PushSubscription>(&mut *tx, sql, values).await?;
        let subscribed = if let Some(kept) = kept {
            Some(Subscribed {
                subscription: kept.into(),
                created: false,
            })
        } else {
            let sql = "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1";
            let count = sql::scalar::<i64>(&mut *tx, sql, [user_id.into()])
                .await?
                .unwrap_or(0);
            if count >= limit {
                None
            } else {
                // Another account's subscription of this endpoint (the browser profile
                // changed hands) becomes this user's; a race for one endpoint ends on the
                // unique index, the later writer taking it.
                let sql = format!(
                    "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, \
                         p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, \
                         created_at = EXCLUDED.created_at \
                     RETURNING {COLUMNS}"
                );
                let values = [
                    user_id.into(),
                    endpoint.into(),
                    p256dh.into(),
                    auth.into(),
                    now.into(),
                ];
                sql::row::<PushSubscriptionRow, PushSubscription>(&mut *tx, sql, values)
                    .await?
                    .map(|s| Subscribed {
                        subscription: s.into(),
                        created: true,
                    })
            }
        };
        tx.commit().await.map_err(db_error)?;
        Ok(subscribed)
    }

    async fn list_push_subscriptions(&self, user_id: &UserId) -> Result<Vec<PushSubscription>> {
        let sql =
            format!("SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY id");
        sql::rows::<PushSubscriptionRow, _>(&self.pool, sql, [user_id.into()]).await
    }

    async fn delete_push_subscription(
        &self,
        user_id: &UserId,
        id: PushSubscriptionId,
    ) -> Result<bool> {
        let sql = "DELETE FROM push_subscriptions WHERE user_id = $1 AND id = $2";
        let done = sql::run(&self.pool, sql, [user_id.into(), id.into()]).await?;
        Ok(done > 0)
    }

    async fn push_delivery(&self, job: &Job) -> Result<Option<(PushSubscription, Event)>> {
        let (Some(subscription_id), Some(event_id)) = (job.subscription_id, job.event_id) else {
            return Ok(None);
        };
        let sql =
            format!("SELECT {COLUMNS} FROM push_subscriptions WHERE id = $1 AND user_id = $2");
        let values = [subscription_id.into(), (&job.user_id).into()];
        let Some(subscription) =
            sql::row::<PushSubscriptionRow, PushSubscription>(&self.pool, sql, values).await?
        else {
            return Ok(None);
        };
        let sql = numbered(&todo_store_sql::sharing::EVENT);
        let event = sql::row::<EventRow, Event>(&self.pool, sql, [event_id.into()]).await?;
        Ok(event.map(|event| (subscription, event)))
    }

    async fn drop_push_subscription(&self, id: PushSubscriptionId) -> Result<()> {
        let sql = "DELETE FROM push_subscriptions WHERE id = $1";
        sql::run(&self.pool, sql, [id.into()]).await.map(drop)
    }
}
