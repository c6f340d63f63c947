//! Web Push (RFC 8030, RFC 8291 aes128gcm, RFC 8292 VAPID): a browser's subscriptions, what a
//! fired reminder pushes to each, and the port the server's sender implements ([`Pusher`]).
//! See docs/push.md.
//!
//! - An endpoint is one browser profile: subscribing it again, from the same account or
//!   another, moves it to the subscribing account and replaces its keys.
//! - Endpoints follow the webhook address rules ([`crate::webhooks::check_target`]), and are
//!   `https` unless the operator allows private networks.
//! - A reminder's push is a `push` job per subscription, written with the reminder's event
//!   ([`crate::jobs::Sends`]); the worker sends it, retried with backoff, and a push service
//!   that answers 404 or 410 drops the subscription.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::ids::{PushSubscriptionId, TaskId};
use crate::jobs::Job;
use crate::time::now;
use crate::user::UserId;

/// The longest endpoint accepted, in bytes.
pub const ENDPOINT_MAX_BYTES: usize = 2048;
/// Subscriptions one user may have (browsers and devices).
pub const MAX_SUBSCRIPTIONS_PER_USER: usize = 20;
/// A pushed title is cut to this many characters (the whole payload stays far under the
/// 4 KB a push service takes).
pub const TITLE_MAX_CHARS: usize = 120;
/// An uncompressed P-256 point (RFC 8291 §3.2), base64url: 87 characters (88 padded).
const P256DH_BYTES: usize = 65;
const P256DH_MAX_CHARS: usize = 88;
/// The authentication secret (RFC 8291 §3.2): 16 bytes, 22 characters (24 padded).
const AUTH_BYTES: usize = 16;
const AUTH_MAX_CHARS: usize = 24;

/// A browser's subscription: where its push service takes messages for it, and the keys its
/// messages are encrypted to (base64url, as the browser gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: PushSubscriptionId,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: DateTime<Utc>,
}

/// A subscription as the API shows it: its keys are not echoed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub id: PushSubscriptionId,
    /// The push service URL the browser gave.
    pub endpoint: String,
    pub created_at: DateTime<Utc>,
}

impl From<PushSubscription> for Subscription {
    fn from(s: PushSubscription) -> Self {
        Self {
            id: s.id,
            endpoint: s.endpoint,
            created_at: s.created_at,
        }
    }
}

/// What `PushSubscription.toJSON()` gives in a browser.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionInput {
    /// The push service URL: absolute `https` (plain `http` only where the server allows
    /// private networks).
    #[schema(format = "uri", max_length = 2048)]
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, an uncompressed point (65 bytes), base64url.
    #[schema(max_length = 88)]
    pub p256dh: String,
    /// The browser's authentication secret (16 bytes), base64url.
    #[schema(max_length = 24)]
    pub auth: String,
}

/// A subscription stored, and whether it is new to its user (else the same endpoint was
/// already theirs and only its keys were replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    pub subscription: Subscription,
    pub created: bool,
}

/// What a reminder pushes (docs/push.md): read by the web app's service worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub task_id: TaskId,
    pub title: String,
    pub body: String,
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

#[async_trait]
pub trait PushStore {
    /// Stores `endpoint` as `user_id`'s with these keys: a new subscription, or the endpoint's
    /// existing one (moved to this user if it was another's) with its keys replaced. `None`
    /// when the user already has `limit` subscriptions and this endpoint is not one of them.
    /// Calls at the same time, from any replica, never take a user past `limit`.
    async fn upsert_push_subscription(
        &self,
        user_id: &UserId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Subscribed>>;
    /// The user's subscriptions, oldest first.
    async fn list_push_subscriptions(&self, user_id: &UserId) -> Result<Vec<PushSubscription>>;
    /// Deletes one of the user's subscriptions; `false` when they have no such one.
    async fn delete_push_subscription(
        &self,
        user_id: &UserId,
        id: PushSubscriptionId,
    ) -> Result<bool>;
    /// The subscription (still the job's user's) and the event a `push` job names; `None` when
    /// either is gone.
    async fn push_delivery(&self, job: &Job) -> Result<Option<(PushSubscription, Event)>>;
    /// Drops a subscription its push service says is gone.
    async fn drop_push_subscription(&self, id: PushSubscriptionId) -> Result<()>;
}

/// Decodes base64url (padding tolerated) into exactly `len` bytes.
fn decode_key(raw: &str, len: usize, max_chars: usize) -> std::result::Result<Vec<u8>, String> {
    // Measured before trimming, as the schema's `maxLength` measures it.
    if raw.len() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    let raw = raw.trim();
    let bytes = URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .map_err(|_| "must be base64url".to_owned())?;
    if bytes.len() != len {
        return Err(format!("must encode {len} bytes, not {}", bytes.len()));
    }
    Ok(bytes)
}

/// The browser's public key, checked to be a point on P-256, in canonical base64url.
pub fn check_p256dh(raw: &str) -> std::result::Result<String, String> {
    let bytes = decode_key(raw, P256DH_BYTES, P256DH_MAX_CHARS)?;
    let not_a_point = || "must be an uncompressed P-256 public key".to_owned();
    if bytes.first() != Some(&0x04) {
        return Err(not_a_point());
    }
    let key =
        aws_lc_rs::agreement::UnparsedPublicKey::new(&aws_lc_rs::agreement::ECDH_P256, &bytes);
    aws_lc_rs::agreement::ParsedPublicKey::try_from(&key).map_err(|_| not_a_point())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The browser's authentication secret, in canonical base64url.
pub fn check_auth(raw: &str) -> std::result::Result<String, String> {
    decode_key(raw, AUTH_BYTES, AUTH_MAX_CHARS).map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
}

/// `text` cut to `max` characters, an ellipsis marking the cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What a reminder event pushes: the task's id and (cut) title, and its due as the body —
/// the wall-clock time of a timed due, the day of an all-day one — or else "Reminder".
pub fn payload(event: &Event) -> Payload {
    let data = &event.task_data;
    let title = data["title"].as_str().unwrap_or("Reminder");
    let due = data["due_local"]
        .as_str()
        .and_then(|local| chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").ok())
        .map(|local| format!("Due {}", local.format("%Y-%m-%d %H:%M")))
        .or_else(|| {
            data["due_date"]
                .as_str()
                .map(|day| format!("Due {}", cut(day, 10)))
        });
    Payload {
        task_id: event.task_id,
        title: cut(title, TITLE_MAX_CHARS),
        body: due.unwrap_or_else(|| "Reminder".into()),
    }
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

    /// The VAPID public key browsers subscribe with; `None` when the server does not push.
    pub fn push_public_key(&self) -> Option<&str> {
        self.pusher.as_deref().map(Pusher::public_key)
    }

    /// Stores a browser's subscription for `user_id` (see [`PushStore::upsert_push_subscription`]).
    pub async fn subscribe_push(
        &self,
        user_id: &UserId,
        input: SubscriptionInput,
    ) -> Result<Subscribed> {
        let mut errors = Vec::new();
        let endpoint = self.check_endpoint(&input.endpoint).await;
        let p256dh = check_p256dh(&input.keys.p256dh);
        let auth = check_auth(&input.keys.auth);
        if let Err(e) = &endpoint {
            errors.push(crate::error::FieldError::new("endpoint", e));
        }
        if let Err(e) = &p256dh {
            errors.push(crate::error::FieldError::new("keys.p256dh", e));
        }
        if let Err(e) = &auth {
            errors.push(crate::error::FieldError::new("keys.auth", e));
        }
        let (Ok(endpoint), Ok(p256dh), Ok(auth)) = (endpoint, p256dh, auth) else {
            return Err(Error::Validation(errors));
        };
        self.store
            .upsert_push_subscription(
                user_id,
                &endpoint,
                &p256dh,
                &auth,
                now(),
                MAX_SUBSCRIPTIONS_PER_USER,
            )
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "a user may have at most {MAX_SUBSCRIPTIONS_PER_USER} push subscriptions: \
                     delete one first"
                ))
            })
    }

    /// An endpoint as the webhook address rules allow it, and `https` unless private networks
    /// are allowed (a development push service on loopback).
    async fn check_endpoint(&self, raw: &str) -> std::result::Result<String, String> {
        if raw.len() > ENDPOINT_MAX_BYTES {
            return Err(format!("must be at most {ENDPOINT_MAX_BYTES} bytes"));
        }
        let allow_private = self.allows_private_webhooks();
        let url = crate::webhooks::check_target(raw, allow_private).await?;
        if url.scheme() != "https" && !allow_private {
            return Err("must be an https URL".into());
        }
        Ok(url.into())
    }

    pub async fn list_push_subscriptions(&self, user_id: &UserId) -> Result<Vec<Subscription>> {
        let all = self.store.list_push_subscriptions(user_id).await?;
        Ok(all.into_iter().map(Subscription::from).collect())
    }

    pub async fn delete_push_subscription(
        &self,
        user_id: &UserId,
        id: PushSubscriptionId,
    ) -> Result<()> {
        if self.store.delete_push_subscription(user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("push subscription"))
        }
    }

    /// Where a `push` job goes and what it sends (the JSON [`Payload`]); `None` (and the job
    /// is done) when the subscription was dropped or moved to another account, or the event
    /// pruned.
    pub async fn push_of(&self, job: &Job) -> Result<Option<(PushSubscription, Vec<u8>)>> {
        let Some((subscription, event)) = self.store.push_delivery(job).await? else {
            self.store
                .finish_job(job.id, now(), Some("no subscription or event"))
                .await?;
            return Ok(None);
        };
        let body = serde_json::to_vec(&payload(&event)).map_err(Error::internal)?;
        Ok(Some((subscription, body)))
    }

    /// Records a push's outcome: done; the subscription dropped when its push service says it
    /// is gone; or failed (retried with backoff, up to `max_attempts`).
    pub async fn pushed(
        &self,
        job: &Job,
        subscription_id: PushSubscriptionId,
        outcome: std::result::Result<(), PushFailure>,
        max_attempts: i32,
    ) -> Result<()> {
        match outcome {
            Ok(()) => self.store.finish_job(job.id, now(), None).await,
            Err(PushFailure::Gone) => {
                self.store.drop_push_subscription(subscription_id).await?;
                let gone = "the push service says the subscription is gone";
                self.store.finish_job(job.id, now(), Some(gone)).await
            }
            Err(PushFailure::Failed(error)) => self.job_failed(job, &error, max_attempts).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Activity, EventType};

    /// A point on P-256 (the generator), as a browser would send one.
    const GENERATOR: &str =
        "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

    #[test]
    fn a_browser_key_is_an_uncompressed_point_on_p256() {
        assert_eq!(check_p256dh(GENERATOR).as_deref(), Ok(GENERATOR));
        let padded = format!("{GENERATOR}=");
        assert_eq!(check_p256dh(&padded).as_deref(), Ok(GENERATOR));
        // The same 65 bytes with the last coordinate byte changed: not on the curve.
        let mut bytes = URL_SAFE_NO_PAD.decode(GENERATOR).expect("base64");
        bytes[64] ^= 1;
        let off_curve = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(check_p256dh(&off_curve).is_err());
        // A compressed point, and the wrong lengths.
        bytes[0] = 0x02;
        assert!(check_p256dh(&URL_SAFE_NO_PAD.encode(&bytes[..33])).is_err());
        assert!(check_p256dh(&URL_SAFE_NO_PAD.encode([4u8; 64])).is_err());
        assert!(check_p256dh("not base64!").is_err());
        assert!(check_p256dh(&"A".repeat(200)).is_err());
    }

    #[test]
    fn an_auth_secret_is_sixteen_bytes() {
        let auth = URL_SAFE_NO_PAD.encode([7u8; 16]);
        assert_eq!(check_auth(&auth).as_deref(), Ok(auth.as_str()));
        assert!(check_auth(&URL_SAFE_NO_PAD.encode([7u8; 15])).is_err());
        assert!(check_auth(&URL_SAFE_NO_PAD.encode([7u8; 17])).is_err());
        assert!(check_auth("").is_err());
    }

    fn event(task_data: serde_json::Value) -> Event {
        Event {
            id: 1,
            event_type: EventType::Reminder,
            task_id: TaskId::new(42),
            task_data,
            user_id: "u".into(),
            action: Activity::Reminder,
            project_id: None,
            timestamp: now(),
        }
    }

    #[test]
    fn the_payload_names_the_task_and_its_due() {
        let timed = payload(&event(serde_json::json!({
            "title": "Call Ada", "due_local": "2026-12-07T09:30:00", "due_date": null
        })));
        assert_eq!(
            timed,
            Payload {
                task_id: TaskId::new(42),
                title: "Call Ada".into(),
                body: "Due 2026-12-07 09:30".into()
            }
        );
        let all_day = payload(&event(
            serde_json::json!({"title": "Taxes", "due_date": "2026-04-30"}),
        ));
        assert_eq!(all_day.body, "Due 2026-04-30");
        let none = payload(&event(serde_json::json!({"title": "Stretch"})));
        assert_eq!(none.body, "Reminder");
    }

    #[test]
    fn a_long_title_is_cut_and_the_payload_stays_small() {
        let long = "\u{1}é".repeat(5000);
        let pushed = payload(&event(serde_json::json!({ "title": long })));
        assert_eq!(pushed.title.chars().count(), TITLE_MAX_CHARS);
        assert!(pushed.title.ends_with('…'));
        let bytes = serde_json::to_vec(&pushed).expect("json");
        // Every character escaped (\u0001) is 6 bytes: still far under 4 KB.
        assert!(bytes.len() < 1200, "{}", bytes.len());
    }
}
