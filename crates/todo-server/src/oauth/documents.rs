//! Client ID Metadata Documents: a `client_id` that is an https URL names a JSON document
//! describing the app (draft-ietf-oauth-client-id-metadata-document), fetched the way webhooks
//! are delivered — only public addresses unless `WEBHOOK_ALLOW_PRIVATE_NETWORKS` (checked on
//! the addresses the connection uses, so DNS rebinding gains nothing), no redirects, no proxy,
//! 3 s to connect and 5 s in all, at most 5 KiB — then checked by the core's rules and kept
//! for as long as its `Cache-Control` says, within bounds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use todo_core::Todo;
use todo_core::oauth::{
    Client, ErrorCode, METADATA_DOCUMENT_MAX_BYTES, OAuthError, check_metadata_document,
    is_metadata_document_id, metadata_cache_lifetime,
};
use todo_core::webhooks::is_public;

use crate::jobs::PublicResolver;

const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Documents kept in memory at most; beyond it the expired go, then all (a flood of distinct
/// URLs costs fetches, never memory).
const MAX_CACHED: usize = 1000;

pub struct MetadataDocuments {
    http: reqwest::Client,
    allow_private: bool,
    allow_http_loopback: bool,
    cache: Mutex<HashMap<String, (Client, Instant)>>,
}

impl MetadataDocuments {
    /// `allow_private`: the operator's `WEBHOOK_ALLOW_PRIVATE_NETWORKS`. `allow_http_loopback`
    /// (the binary sets it with the same setting) accepts `http://127.0.0.1…` client ids.
    pub fn new(allow_private: bool, allow_http_loopback: bool) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("todo-oauth/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicResolver));
        }
        Ok(Self {
            http: builder
                .build()
                .map_err(|e| format!("building the metadata document client: {e}"))?,
            allow_private,
            allow_http_loopback,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Whether this `client_id` is the URL of a metadata document.
    pub fn names_a_document(&self, client_id: &str) -> bool {
        is_metadata_document_id(client_id, self.allow_http_loopback)
    }

    /// The client the document at `url` describes: from memory while it is fresh, else
    /// fetched and checked. Either way it is stored, so that grants can name it.
    pub async fn client(&self, todo: &Todo, url: &str) -> Result<Client, OAuthError> {
        let client = match self.cached(url) {
            Some(client) => client,
            None => {
                let (client, lifetime) = self.fetch(url).await?;
                self.remember(url, client.clone(), lifetime);
                client
            }
        };
        todo.remember_metadata_client(&client).await?;
        Ok(client)
    }

    fn cached(&self, url: &str) -> Option<Client> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(url)
            .filter(|(_, until)| Instant::now() < *until)
            .map(|(client, _)| client.clone())
    }

    fn remember(&self, url: &str, client: Client, lifetime: Duration) {
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (_, until)| now < *until);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(url.to_owned(), (client, now + lifetime));
    }

    async fn fetch(&self, url: &str) -> Result<(Client, Duration), OAuthError> {
        let failed = |why: String| {
            OAuthError::new(
                ErrorCode::InvalidClient,
                format!("the client's metadata document at {url} {why}"),
            )
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| failed(format!("is no URL: {e}")))?;
        // Names are checked by the resolver; a literal address never reaches it.
        if !self.allow_private
            && let Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) = parsed.host()
            && let Some(ip) = parsed
                .host_str()
                .and_then(|h| h.trim_matches(['[', ']']).parse().ok())
            && !is_public(ip)
        {
            return Err(failed("is on a private address".into()));
        }
        let mut response = self
            .http
            .get(parsed)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(format!("could not be fetched: {}", without_url(&e))))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(failed(format!("answered {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|n| n > METADATA_DOCUMENT_MAX_BYTES as u64)
        {
            return Err(failed(format!(
                "is larger than {METADATA_DOCUMENT_MAX_BYTES} bytes"
            )));
        }
        let cache_control = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| failed(format!("could not be read: {}", without_url(&e))))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > METADATA_DOCUMENT_MAX_BYTES {
                return Err(failed(format!(
                    "is larger than {METADATA_DOCUMENT_MAX_BYTES} bytes"
                )));
            }
        }
        let client = check_metadata_document(url, &body, todo_core::time::now())?;
        let lifetime = metadata_cache_lifetime(cache_control.as_deref())
            .to_std()
            .unwrap_or(Duration::from_secs(300));
        Ok((client, lifetime))
    }
}

/// A fetch error's own words, without the URL (the message already names it).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}
