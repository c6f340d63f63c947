//! Web Push (RFC 8030, RFC 8291 aes128gcm, RFC 8292 VAPID): a browser's subscriptions, and
//! the port the server's sender implements ([`Pusher`]). See docs/email.md, "Web Push".

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Todo;
use crate::user::UserId;

/// A browser's subscription: where its push service takes messages for it, and the keys its
/// messages are encrypted to (base64url, as the browser gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: DateTime<Utc>,
}

/// Why a push was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushFailure {
    /// The push service says the subscription is gone (404 or 410): it is dropped.
    Gone,
    /// Anything else: retried with backoff.
    Failed(String),
}

/// Sends one encrypted, VAPID-signed message to a subscription's push service.
#[async_trait]
pub trait Pusher: Send + Sync {
    /// The VAPID public key (uncompressed P-256 point, base64url) browsers subscribe with.
    fn public_key(&self) -> &str;
    async fn push(
        &self,
        subscription: &PushSubscription,
        payload: &[u8],
    ) -> std::result::Result<(), PushFailure>;
}

impl Todo {
    /// Sends Web Push through `pusher` (the VAPID keys are the server's).
    pub fn with_pusher(mut self, pusher: Option<Arc<dyn Pusher>>) -> Self {
        self.pusher = pusher;
        self
    }

    pub fn pusher(&self) -> Option<&Arc<dyn Pusher>> {
        self.pusher.as_ref()
    }

    /// Whether reminders are pushed to subscribed browsers.
    pub fn sends_push(&self) -> bool {
        self.pusher.is_some()
    }
}
