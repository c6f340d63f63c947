//! Webhooks: a user's URLs that receive their events, signed with a per-webhook secret.
//! Targets on loopback, private or link-local networks are refused unless the operator allows
//! them, both here (at creation) and again when a delivery connects (see `docs/events.md`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::Todo;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::ids::{ProjectId, UserId};
use crate::jobs::Job;
use crate::time::now;

pub use crate::ids::WebhookId;

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
    /// Only this project's events (one the user owns); none: every project they own.
    pub project_id: Option<ProjectId>,
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
    #[schema(format = "uri", max_length = 2000)]
    pub url: String,
    /// Only this project's events (a project the caller owns); without it, every project
    /// the caller owns. A shared project's events go to its owner's webhooks.
    #[serde(default)]
    pub project_id: Option<ProjectId>,
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
        user_id: &UserId,
        url: &str,
        secret: &str,
        project: Option<ProjectId>,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Option<Webhook>>;
    /// The user's webhooks, oldest first.
    async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>>;
    async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<bool>;
    /// What a delivery job names; `None` when the webhook is gone or disabled, or the event
    /// was pruned.
    async fn delivery(&self, job: &Job) -> Result<Option<Delivery>>;
    /// Counts a delivery's outcome: a success resets the failures; a failure adds one, and
    /// the `disable_after`-th failure in a row disables the webhook.
    async fn record_delivery(
        &self,
        user_id: &UserId,
        id: WebhookId,
        error: Option<&str>,
        now: DateTime<Utc>,
        disable_after: i32,
    ) -> Result<()>;
}

/// Whether an address is one a webhook may reach without the operator's leave: in neither
/// table below and, for IPv6, inside global unicast space (2000::/3). An IPv4-mapped IPv6
/// address (`::ffff:a.b.c.d`) is judged as the IPv4 address it is.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => !SPECIAL_V4.iter().any(|(net, _)| net.contains(&v4)),
        IpAddr::V6(v6) => {
            GLOBAL_UNICAST_V6.contains(&v6) && !SPECIAL_V6.iter().any(|(net, _)| net.contains(&v6))
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(segments: [u16; 8], prefix: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), prefix)
}

/// The only IPv6 space IANA allocates for global unicast (IANA IPv6 Address Space registry);
/// everything outside it is reserved (site-local fec0::/10, the IPv4-compatible ::/96,
/// multicast ff00::/8, unique-local, link-local, …) and refused whatever the table says.
const GLOBAL_UNICAST_V6: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// Every entry of the IANA IPv4 Special-Purpose Address Registry (checked against the
/// registry as of 2025), plus multicast from the IPv4 Address Space registry. All are refused,
/// including the few the registry marks globally reachable (anycast and AS112 services): none
/// is a place a webhook receiver lives.
pub const SPECIAL_V4: &[(Ipv4Net, &str)] = &[
    (
        v4(0, 0, 0, 0, 8),
        "\"This network\" (RFC 791); includes 0.0.0.0/32 \"this host\"",
    ),
    (v4(10, 0, 0, 0, 8), "Private-Use (RFC 1918)"),
    (
        v4(100, 64, 0, 0, 10),
        "Shared Address Space, carrier-grade NAT (RFC 6598)",
    ),
    (v4(127, 0, 0, 0, 8), "Loopback (RFC 1122)"),
    (
        v4(169, 254, 0, 0, 16),
        "Link Local, cloud metadata services (RFC 3927)",
    ),
    (v4(172, 16, 0, 0, 12), "Private-Use (RFC 1918)"),
    (
        v4(192, 0, 0, 0, 24),
        "IETF Protocol Assignments (RFC 6890); includes the IPv4 Service Continuity Prefix \
         192.0.0.0/29, the dummy address 192.0.0.8, PCP and TURN anycast 192.0.0.9-10 and \
         NAT64/DNS64 discovery 192.0.0.170-171",
    ),
    (v4(192, 0, 2, 0, 24), "Documentation TEST-NET-1 (RFC 5737)"),
    (v4(192, 31, 196, 0, 24), "AS112-v4 (RFC 7535)"),
    (v4(192, 52, 193, 0, 24), "AMT (RFC 7450)"),
    (
        v4(192, 88, 99, 0, 24),
        "Deprecated (6to4 Relay Anycast) (RFC 7526)",
    ),
    (v4(192, 168, 0, 0, 16), "Private-Use (RFC 1918)"),
    (
        v4(192, 175, 48, 0, 24),
        "Direct Delegation AS112 Service (RFC 7534)",
    ),
    (v4(198, 18, 0, 0, 15), "Benchmarking (RFC 2544)"),
    (
        v4(198, 51, 100, 0, 24),
        "Documentation TEST-NET-2 (RFC 5737)",
    ),
    (
        v4(203, 0, 113, 0, 24),
        "Documentation TEST-NET-3 (RFC 5737)",
    ),
    (
        v4(224, 0, 0, 0, 4),
        "Multicast (RFC 5771; IPv4 Address Space registry)",
    ),
    (
        v4(240, 0, 0, 0, 4),
        "Reserved (RFC 1112); includes Limited Broadcast 255.255.255.255/32 (RFC 919)",
    ),
];

/// Every entry of the IANA IPv6 Special-Purpose Address Registry (as of 2025) inside
/// 2000::/3, and the ones outside it for the record (those are refused by the 2000::/3 rule
/// too). The IPv4-mapped ::ffff:0:0/96 is not here: such an address is judged as its IPv4
/// address. Address families that embed an IPv4 address (NAT64, 6to4, Teredo) are refused
/// whole: the gateway would carry the request to whatever IPv4 address is inside, private
/// ones included.
pub const SPECIAL_V6: &[(Ipv6Net, &str)] = &[
    (
        v6([0, 0, 0, 0, 0, 0, 0, 0], 128),
        "Unspecified Address (RFC 4291)",
    ),
    (
        v6([0, 0, 0, 0, 0, 0, 0, 1], 128),
        "Loopback Address (RFC 4291)",
    ),
    (
        v6([0, 0, 0, 0, 0, 0, 0, 0], 96),
        "IPv4-compatible, deprecated (RFC 4291; not in the registry)",
    ),
    (
        v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96),
        "IPv4-IPv6 Translat., NAT64 (RFC 6052)",
    ),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        "IPv4-IPv6 Translat., local-use NAT64 (RFC 8215)",
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
        "Discard-Only Address Block (RFC 6666)",
    ),
    (
        v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64),
        "Dummy IPv6 Prefix (RFC 9780)",
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        "IETF Protocol Assignments (RFC 2928); covers the entries below up to 2001:30::/28",
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32),
        "TEREDO (RFC 4380, RFC 8190)",
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128),
        "Port Control Protocol Anycast (RFC 7723)",
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128),
        "TURN Anycast (RFC 8155)",
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128),
        "DNS-SD Service Registration Protocol Anycast (RFC 9665)",
    ),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48),
        "Benchmarking (RFC 5180)",
    ),
    (v6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32), "AMT (RFC 7450)"),
    (
        v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48),
        "AS112-v6 (RFC 7535)",
    ),
    (
        v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28),
        "Deprecated (previously ORCHID) (RFC 4843)",
    ),
    (
        v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28),
        "ORCHIDv2 (RFC 7343)",
    ),
    (
        v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28),
        "Drone Remote ID Protocol Entity Tags (RFC 9374)",
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        "Documentation (RFC 3849)",
    ),
    (v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16), "6to4 (RFC 3056)"),
    (
        v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48),
        "Direct Delegation AS112 Service (RFC 7534)",
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        "Documentation (RFC 9637)",
    ),
    (
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),
        "Segment Routing (SRv6) SIDs (RFC 9602)",
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        "Unique-Local (RFC 4193, RFC 8190)",
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "Link-Local Unicast (RFC 4291)",
    ),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        "Site-local, deprecated (RFC 3879; not in the registry)",
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        "Multicast (RFC 4291; IPv6 Address Space registry)",
    ),
];

/// Checks a webhook URL's form, and (unless `allow_private`) that every address its host
/// resolves to is public.
pub async fn check_url(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX_CHARS {
        return Err(format!("must be at most {URL_MAX_CHARS} characters"));
    }
    check_target(raw, allow_private).await
}

/// The address rules of every URL the server sends to on a user's behalf (webhooks, Web Push
/// endpoints), its length aside: an `http` or `https` URL with a host and no credentials, and
/// (unless `allow_private`) every address its host resolves to public.
pub async fn check_target(raw: &str, allow_private: bool) -> Result<url::Url, String> {
    let raw = raw.trim();
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
    pub async fn list_webhooks(&self, user_id: &UserId) -> Result<Vec<Webhook>> {
        self.store.list_webhooks(user_id).await
    }

    /// Registers a webhook; its secret is in the result and nowhere else.
    pub async fn create_webhook(
        &self,
        user_id: &UserId,
        input: WebhookInput,
    ) -> Result<CreatedWebhook> {
        if let Some(project) = input.project_id {
            // Someone else's project is no project (a 422 on the field, as for a task); a
            // member who does not own it may not scope a webhook to it (its events go to the
            // owner's webhooks).
            let found = match self.get_project(user_id, project).await {
                Err(Error::NotFound(_)) => Err(Error::invalid("project_id", "no such project")),
                other => other,
            }?;
            found.role.require(crate::project::Action::Manage)?;
        }
        let url = check_url(&input.url, self.allow_private_webhooks)
            .await
            .map_err(|m| Error::invalid("url", m))?;
        let secret = crate::api_key::random_secret("whsec_");
        let webhook = self
            .store
            .insert_webhook(
                user_id,
                url.as_str(),
                &secret,
                input.project_id,
                now(),
                MAX_WEBHOOKS_PER_USER,
            )
            .await?
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "a user may have at most {MAX_WEBHOOKS_PER_USER} webhooks"
                ))
            })?;
        Ok(CreatedWebhook { webhook, secret })
    }

    pub async fn delete_webhook(&self, user_id: &UserId, id: WebhookId) -> Result<()> {
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
            "192.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:10::1",
            "2001:20::1",
            "100::1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:4700::1111",
            "1.1.1.1",
            "::ffff:1.1.1.1",
            "2001:4860:4860::8888",
            "2a00:1450:4001::1",
        ] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    /// The first, a middle and the last address of every registry entry are refused, and so
    /// is every IPv6 address outside global unicast.
    #[test]
    fn every_address_of_every_registry_entry_is_refused() {
        for (net, entry) in SPECIAL_V4 {
            let first = u32::from(net.network());
            let last = u32::from(net.broadcast());
            for ip in [first, first + (last - first) / 2, last] {
                let ip = Ipv4Addr::from(ip);
                assert!(!is_public(IpAddr::V4(ip)), "{ip} ({entry})");
                assert!(
                    !is_public(IpAddr::V6(ip.to_ipv6_mapped())),
                    "{ip} mapped ({entry})"
                );
            }
        }
        for (net, entry) in SPECIAL_V6 {
            let first = u128::from(net.network());
            let last = u128::from(net.broadcast());
            for ip in [first, first + (last - first) / 2, last] {
                let ip = Ipv6Addr::from(ip);
                assert!(!is_public(IpAddr::V6(ip)), "{ip} ({entry})");
            }
        }
        for ip in ["1fff:ffff::1", "4000::1", "8000::1", "e000::1"] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    /// The neighbours just outside some entries are ordinary public addresses: the table
    /// refuses what the registry lists and no more.
    #[test]
    fn the_neighbours_of_the_entries_are_public() {
        for ip in [
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.0",
            "192.0.1.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2001:200::1",
            "2003::1",
            "2620:4f:8001::1",
            "3fff:1000::1",
        ] {
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
