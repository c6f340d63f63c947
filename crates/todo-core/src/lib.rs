//! The todo domain: types and their rules, the storage trait, and the use cases that every
//! interface (REST, web, MCP, chat, CLI) calls. Nothing here knows about HTTP or SQL.

pub mod accounts;
pub mod api_key;
pub mod caldav;
pub mod calendar;
pub mod chat;
pub mod error;
pub mod events;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod memo;
pub mod metrics;
pub mod notify;
pub mod oauth;
pub mod page;
pub mod password;
pub mod patch;
pub mod placement;
pub mod planning;
pub mod project;
pub mod projects;
pub mod push;
pub mod quick;
pub mod recurrence;
pub mod reminders;
pub mod sharing;
pub mod store;
pub mod tag;
pub mod task;
pub mod tasks;
pub mod time;
pub mod tools;
pub mod transfer;
pub mod user;
pub mod validation;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use memo::{CredentialMemo, Memo};

pub use error::{Error, Result};
pub use store::Store;

/// How long a checked credential is remembered by default (see [`memo`]).
pub const DEFAULT_CREDENTIAL_TTL: Duration = Duration::from_secs(1);

/// The entry point to every use case. Cheap to clone: it holds the store, a policy flag and
/// the memory of checked credentials and time zones (shared by the clones).
#[derive(Clone)]
pub struct Todo {
    store: Arc<dyn Store>,
    allow_private_webhooks: bool,
    credentials: Arc<CredentialMemo>,
    /// Each user's time zone, by user id.
    zones: Arc<Memo<Tz>>,
    /// `PUBLIC_URL`: where the web app's pages are, for links in tool results.
    public_url: Option<Arc<str>>,
    /// Sends email (`SMTP_URL`); none: nothing is sent.
    mailer: Option<Arc<dyn mail::Mailer>>,
    /// Sends Web Push; none: nothing is pushed.
    pusher: Option<Arc<dyn push::Pusher>>,
    /// The key of unsubscribe links, read from the database once (see [`notify`]).
    unsubscribe_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl Todo {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_credential_ttl(store, DEFAULT_CREDENTIAL_TTL)
    }

    /// With checked credentials and time zones remembered for `ttl` (zero: every request
    /// looks them up).
    pub fn with_credential_ttl(store: Arc<dyn Store>, ttl: Duration) -> Self {
        Self {
            store,
            allow_private_webhooks: false,
            credentials: Arc::new(Memo::new(ttl)),
            zones: Arc::new(Memo::new(ttl)),
            public_url: None,
            mailer: None,
            pusher: None,
            unsubscribe_key: Arc::default(),
        }
    }

    /// How long checked credentials are remembered (`AUTH_CACHE_TTL_MS`).
    pub fn credential_ttl(&self) -> Duration {
        self.credentials.ttl()
    }

    /// Lets webhooks target loopback and private networks (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`).
    pub fn with_private_webhooks(mut self, allow: bool) -> Self {
        self.allow_private_webhooks = allow;
        self
    }

    /// The server's external URL (`PUBLIC_URL`, no trailing slash), for links to the web app's
    /// pages in what the tools return.
    pub fn with_public_url(mut self, url: Option<&str>) -> Self {
        self.public_url = url.map(|url| Arc::from(url.trim_end_matches('/')));
        self
    }

    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }

    /// The store, for the use cases only: every door goes through them.
    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The connection pool's state, for metrics.
    pub fn pool_stats(&self) -> store::PoolStats {
        self.store.pool_stats()
    }

    /// Whether the database answers (used by readiness checks).
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await
    }

    /// A server-wide secret kept in the database, created with `candidate` the first time it
    /// is asked for. Every replica that races here ends up with the same value.
    pub async fn stored_secret(&self, name: &str, candidate: &str) -> Result<String> {
        self.store.setting_get_or_insert(name, candidate).await
    }
}
