//! Webhooks: a user's URLs that receive their events, signed with a per-webhook secret.
//! Targets on loopback, private or link-local networks are refused unless the operator allows
//! them, both here (at creation) and again when a delivery connects (see `docs/events.md`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::jobs::Job;
use crate::time::now;

pub type WebhookId = i64;

pub const URL_MAX_CHARS: usize = 2000;
pub const MAX_WEBHOOKS_PER_USER: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub created_at: DateTime<Utc>,
    /// Failed deliveries in a row; a success resets it.
    pub consecutive_failures: i32,
    /// Set when too many deliveries failed in a row; nothing is sent to it any more.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why the last delivery failed.
    pub last_error: Option<String>,
}

/// A new webhook and its signing secret, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Verifies the `Todo-Signature` header of each delivery (see docs/events.md).
    pub secret: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct WebhookInput {
    /// An `http` or `https` URL that accepts POSTed JSON.
    #[schema(format = "uri")]
    pub url: String,
}

/// What a delivery needs: where, the secret to sign with, and the event.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub webhook: Webhook,
    pub secret: String,
    pub event: Event,
}

#[async_trait]
pub trait WebhookStore {
    /// Registers a webhook unless the user already has `limit` of them (`None` then). Calls
    /// at the same time, from any replica, never take a user past `limit`.
    async fn insert_webhook(
        &self,
        user_id: &str,
        url: &str,
        secret: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>>;
    /// The user's webhooks, oldest first.
    async fn list_webhooks(&self, user_id: &str) -> Result<Vec<Webhook>>;
    async fn delete_webhook(&self, user_id: &str, id: WebhookId) -> Result<bool>;
    /// What a delivery job names; `None` when the webhook is gone or disabled, or the event
    /// was pruned.
    async fn delivery(&self, job: &Job) -> Result<Option<Delivery>>;
    /// Counts a delivery's outcome: a success resets the failures; a failure adds one, and
    /// the `disable_after`-th failure in a row disables the webhook.
    async fn record_delivery(
        &self,
        user_id: &str,
        id: WebhookId,
        error: Option<&str>,
        now: DateTime<Utc>,
        disable_after: i32,
    ) -> Result<()>;
}

/// Whether an address is one a webhook may reach without the operator's leave: not
/// loopback, private (RFC 1918, unique-local), link-local, shared (CGNAT), unspecified,
/// broadcast, multicast or documentation space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// Checks a webhook URL's form, and (unless `allow_private`) that every address its host
/// resolves to is public.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX_CHARS {
        return Err(format!("must be at most {URL_MAX_CHARS} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    let host = url.host_str().ok_or("needs a host")?.to_owned();
    if allow_private {
        return Ok(url);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("host {host:?} does not resolve"))?
            .map(|a| a.ip())
            .collect(),
    };
    if addrs.is_empty() || addrs.iter().any(|ip| !is_public(*ip)) {
        return Err(
            "must not point at a loopback, private or link-local address (the operator can allow \
             it with WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
                .into(),
        );
    }
    Ok(url)
}

impl Todo {
    pub async fn list_webhooks(&self, user_id: &str) -> Result<Vec<Webhook>> {
        self.store.list_webhooks(user_id).await
    }

    /// Registers a webhook; its secret is in the result and nowhere else.
    pub async fn create_webhook(
        &self,
        user_id: &str,
        input: WebhookInput,
    ) -> Result<CreatedWebhook> {
        let url = check_url(&input.url, self.allow_private_webhooks)
            .await
            .map_err(|m| Error::invalid("url", m))?;
        let bytes: [u8; 32] = rand::random();
        let secret = format!(
            "whsec_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let webhook = self
            .store
            .insert_webhook(user_id, url.as_str(), &secret, now(), MAX_WEBHOOKS_PER_USER)
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "a user may have at most {MAX_WEBHOOKS_PER_USER} webhooks"
                ))
            })?;
        Ok(CreatedWebhook { webhook, secret })
    }

    pub async fn delete_webhook(&self, user_id: &str, id: WebhookId) -> Result<()> {
        if self.store.delete_webhook(user_id, id).await? {
            Ok(())
        } else {
            Err(Error::NotFound("webhook"))
        }
    }

    /// Whether webhooks may target private networks (the operator's choice).
    pub fn allows_private_webhooks(&self) -> bool {
        self.allow_private_webhooks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "1.1.1.1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn urls_must_be_http_and_public_unless_allowed() {
        assert!(check_url("ftp://example.com/x", true).await.is_err());
        assert!(check_url("not a url", true).await.is_err());
        assert!(
            check_url("http://user:pw@example.com/", true)
                .await
                .is_err()
        );
        assert!(check_url("http://127.0.0.1:9/hook", false).await.is_err());
        assert!(check_url("http://[::1]:9/hook", false).await.is_err());
        assert!(check_url("http://localhost:9/hook", false).await.is_err());
        assert!(check_url("http://127.0.0.1:9/hook", true).await.is_ok());
        assert!(check_url("https://93.184.216.34/hook", false).await.is_ok());
    }
}
