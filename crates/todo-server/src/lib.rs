//! The HTTP interface of todo: the axum application, its routes and the OpenAPI document.
//! Handlers parse, call a `todo_core` use case, and render; nothing else.

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use todo_core::Todo;
use tokio::net::TcpListener;

use crate::auth::{Authenticator, ExternalIssuers, TokenKeys};

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub todo: Todo,
    pub auth: Arc<Authenticator>,
}

/// How the server authenticates, resolved once at start.
pub struct AuthSettings {
    /// Signs our tokens. See [`resolve_jwt_secret`].
    pub jwt_secret: String,
    /// Accept HS256 tokens signed with this (Better Auth's `BETTER_AUTH_SECRET`).
    pub better_auth_secret: Option<String>,
    /// Accept EdDSA/RS256/ES256 tokens signed by a key published here.
    pub jwks_url: Option<String>,
}

impl AppState {
    pub fn new(todo: Todo, settings: &AuthSettings) -> Self {
        let keys = TokenKeys::new(settings.jwt_secret.as_bytes());
        let external = ExternalIssuers::new(
            settings.better_auth_secret.as_deref().map(str::as_bytes),
            settings.jwks_url.clone(),
        );
        Self {
            auth: Arc::new(Authenticator::new(todo.clone(), keys, external)),
            todo,
        }
    }
}

/// The configured secret, or else the one stored in the database (generated on first start),
/// so that restarts and other replicas accept the same tokens.
pub async fn resolve_jwt_secret(
    todo: &Todo,
    configured: Option<String>,
) -> todo_core::Result<String> {
    match configured {
        Some(secret) => Ok(secret),
        None => {
            let bytes: [u8; 32] = rand::random();
            let candidate: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            todo.stored_secret("jwt_secret", &candidate).await
        }
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    api::router(state)
}

/// Serves `app` on an already bound listener until `shutdown` completes, then finishes the
/// requests in flight. Tests bind port 0 and pass their own shutdown signal.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
