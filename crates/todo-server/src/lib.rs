//! The HTTP interface of todo: the axum application, its routes and the OpenAPI document.
//! Handlers parse, call a `todo_core` use case, and render; nothing else.

pub mod access_log;
pub mod api;
pub mod auth;
pub mod client_ip;
mod connections;
pub mod dav;
pub mod error;
pub mod extract;
pub mod hardening;
pub mod jobs;
pub mod llm;
pub mod mail;
pub mod mcp;
pub mod metrics;
pub mod oauth;
pub mod push;
pub mod rate_limit;
pub mod web;

use std::sync::Arc;

use axum::Router;
use todo_core::Todo;
use todo_core::chat::Chat;
use todo_core::chat::secret::Cipher;
use tokio_util::sync::CancellationToken;

use crate::auth::{
    Authenticator, CsrfKey, ExternalIssuers, ExternalSettings, TokenKeys, check_secret,
};
use crate::hardening::HttpSettings;
use crate::llm::{LlmSettings, OpenAiCompatible};
use crate::mcp::McpSettings;
use crate::rate_limit::{RateLimitSettings, RateLimits};
use todo_core::chat::model::Secret;

/// What every handler can reach. Cheap to clone: one reference count, since axum clones the
/// state for each middleware and extractor of every request (docs/benchmarks.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The contents of [`AppState`].
pub struct Shared {
    pub todo: Todo,
    pub auth: Arc<Authenticator>,
    pub limits: Arc<RateLimits>,
    pub http: Arc<HttpSettings>,
    pub mcp: Arc<McpSettings>,
    /// This server as an OAuth authorization server (from `PUBLIC_URL`); `None`: OAuth is off.
    pub oauth: Option<todo_core::oauth::Issuer>,
    /// Clients known by the URL of their metadata document, fetched and kept in memory.
    pub oauth_documents: Arc<oauth::MetadataDocuments>,
    /// The chat agent, with its model client.
    pub chat: Chat,
    /// Cancelled when shutdown begins: long-lived responses (SSE streams) end on it, so that
    /// in-flight work can finish within the grace period.
    pub shutdown: CancellationToken,
}

/// Everything the server is configured with, resolved once at start by the binary.
pub struct Settings {
    pub auth: AuthSettings,
    /// Shared state of all replicas (rate limits); in memory when absent. A secret: the URL
    /// may carry Redis's password.
    pub redis_url: Option<Secret>,
    pub rate_limit: RateLimitSettings,
    pub http: HttpSettings,
    pub mcp: McpSettings,
    pub llm: LlmSettings,
}

impl Settings {
    /// The defaults of everything but authentication.
    pub fn new(auth: AuthSettings) -> Self {
        Self {
            auth,
            redis_url: None,
            rate_limit: RateLimitSettings::default(),
            http: HttpSettings::default(),
            mcp: McpSettings::default(),
            llm: LlmSettings::default(),
        }
    }
}

/// How the server authenticates, resolved once at start.
pub struct AuthSettings {
    /// Signs our tokens; at least [`auth::MIN_SECRET_BYTES`]. See [`resolve_jwt_secret`].
    pub jwt_secret: Secret,
    /// Which outside tokens are accepted.
    pub external: ExternalSettings,
}

impl AppState {
    /// Fails on settings that cannot work (a signing secret under 32 bytes, a malformed
    /// `REDIS_URL`, an invalid CORS origin). Must run inside a Tokio runtime (the Redis
    /// connection manager starts a task).
    pub fn new(todo: Todo, settings: &Settings) -> Result<Self, String> {
        let auth = &settings.auth;
        check_secret("TODO_JWT_SECRET", auth.jwt_secret.expose())?;
        let jwt_secret = auth.jwt_secret.expose().as_bytes();
        let keys = TokenKeys::new(jwt_secret, todo.credential_ttl());
        let external = ExternalIssuers::new(&auth.external)?;
        let issuer = settings
            .mcp
            .public_url
            .as_deref()
            .map(|url| todo_core::oauth::Issuer::parse(url).map_err(|e| format!("PUBLIC_URL {e}")))
            .transpose()?;
        // Tool results link to the web app's pages under the public URL.
        let todo = todo.with_public_url(issuer.as_ref().map(todo_core::oauth::Issuer::url));
        let mut mcp = settings.mcp.clone();
        // MCP clients reach the server at its public name: DNS rebinding cannot fake that.
        if let Some(host) = issuer.as_ref().and_then(todo_core::oauth::Issuer::host)
            && !mcp.allowed_hosts.iter().any(|h| h == "*" || *h == host)
        {
            mcp.allowed_hosts.push(host);
        }
        let oauth_documents = oauth::MetadataDocuments::new(
            todo.allows_private_webhooks(),
            settings.mcp.allow_http_metadata_documents,
        )?;
        let limits = RateLimits::new(
            &settings.rate_limit,
            settings.redis_url.as_ref().map(Secret::expose),
        )?;
        let cipher = settings
            .llm
            .encryption_key
            .as_ref()
            .map(|key| Cipher::from_config(key.expose()))
            .transpose()?;
        let model = OpenAiCompatible::new(settings.llm.timeout)?;
        let chat = Chat::new(
            todo.clone(),
            Arc::new(model),
            settings.llm.chat.clone(),
            cipher,
        );
        Ok(Self(Arc::new(Shared {
            chat,
            auth: Arc::new(Authenticator::new(
                todo.clone(),
                keys,
                external,
                CsrfKey::new(jwt_secret),
                issuer.clone(),
            )),
            limits: Arc::new(limits),
            http: Arc::new(settings.http.clone()),
            mcp: Arc::new(mcp),
            oauth: issuer,
            oauth_documents: Arc::new(oauth_documents),
            shutdown: CancellationToken::new(),
            todo,
        })))
    }
}

/// The configured secret, or else the one stored in the database (generated on first start),
/// so that restarts and other replicas accept the same tokens.
pub async fn resolve_jwt_secret(
    todo: &Todo,
    configured: Option<String>,
) -> todo_core::Result<Secret> {
    match configured {
        Some(secret) => Ok(Secret::new(secret)),
        None => {
            let bytes: [u8; 32] = rand::random();
            let candidate: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            todo.stored_secret("jwt_secret", &candidate)
                .await
                .map(Secret::new)
        }
    }
}

/// The whole application, with its metrics recorder installed.
pub fn app(state: AppState) -> Result<Router, String> {
    metrics::handle();
    api::router(state)
}

pub use connections::serve;
