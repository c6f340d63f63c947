//! Web Push subscriptions on SQLite, and what a `push` job needs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::events::Event;
use todo_core::ids::PushSubscriptionId;
use todo_core::jobs::Job;
use todo_core::push::{PushStore, PushSubscription, Subscribed};
use todo_core::user::UserId;
use todo_store_sql::{EventRow, PUSH_SUBSCRIPTION_COLUMNS as COLUMNS, PushSubscriptionRow};

use crate::{SqliteStore, sql};

#[async_trait]
impl PushStore for SqliteStore {
    async fn upsert_push_subscription(
        &self,
        user_id: &UserId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Subscribed>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (user_id, endpoint) = (user_id.clone(), endpoint.to_owned());
        let (p256dh, auth) = (p256dh.to_owned(), auth.to_owned());
        // One write of the one writer: nothing comes between the count and the insert.
        self.write(move |conn| {
            let sql = format!(
                "UPDATE push_subscriptions SET p256dh = ?3, auth = ?4 \
                 WHERE user_id = ?1 AND endpoint = ?2 RETURNING {COLUMNS}"
            );
            let values = [
                (&user_id).into(),
                (&endpoint).into(),
                (&p256dh).into(),
                (&auth).into(),
            ];
            let kept = sql::row::<PushSubscriptionRow, PushSubscription>(conn, &sql, values)?;
            if let Some(kept) = kept {
                return Ok(Some(Subscribed {
                    subscription: kept.into(),
                    created: false,
                }));
            }
            let sql = "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = ?1";
            let count = sql::scalar::<i64>(conn, sql, [(&user_id).into()])?.unwrap_or(0);
            if count >= limit {
                return Ok(None);
            }
            // Another account's subscription of this endpoint (the browser profile changed
            // hands) becomes this user's.
            let sql = format!(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, \
                     p256dh = excluded.p256dh, auth = excluded.auth, \
                     created_at = excluded.created_at \
                 RETURNING {COLUMNS}"
            );
            let values = [
                (&user_id).into(),
                endpoint.into(),
                p256dh.into(),
                auth.into(),
                now.into(),
            ];
            let stored = sql::row::<PushSubscriptionRow, PushSubscription>(conn, &sql, values)?;
            Ok(stored.map(|s| Subscribed {
                subscription: s.into(),
                created: true,
            }))
        })
        .await
    }

    async fn list_push_subscriptions(&self, user_id: &UserId) -> Result<Vec<PushSubscription>> {
        let sql =
            format!("SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = ?1 ORDER BY id");
        let values = [user_id.into()];
        self.read(move |conn| sql::rows::<PushSubscriptionRow, _>(conn, &sql, values))
            .await
    }

    async fn delete_push_subscription(
        &self,
        user_id: &UserId,
        id: PushSubscriptionId,
    ) -> Result<bool> {
        let sql = "DELETE FROM push_subscriptions WHERE user_id = ?1 AND id = ?2";
        let values = [user_id.into(), id.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(|done| done > 0))
            .await
    }

    async fn push_delivery(&self, job: &Job) -> Result<Option<(PushSubscription, Event)>> {
        let (Some(subscription_id), Some(event_id)) = (job.subscription_id, job.event_id) else {
            return Ok(None);
        };
        let user_id = job.user_id.clone();
        self.read(move |conn| {
            let sql =
                format!("SELECT {COLUMNS} FROM push_subscriptions WHERE id = ?1 AND user_id = ?2");
            let values = [subscription_id.into(), (&user_id).into()];
            let Some(subscription) = sql::row::<PushSubscriptionRow, _>(conn, &sql, values)? else {
                return Ok(None);
            };
            let sql = &todo_store_sql::sharing::EVENT;
            let event = sql::row::<EventRow, Event>(conn, sql, [event_id.into()])?;
            Ok(event.map(|event| (subscription, event)))
        })
        .await
    }

    async fn drop_push_subscription(&self, id: PushSubscriptionId) -> Result<()> {
        let sql = "DELETE FROM push_subscriptions WHERE id = ?1";
        self.write(move |conn| sql::run(conn, sql, [id.into()]).map(drop))
            .await
    }
}
