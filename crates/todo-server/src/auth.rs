//! Who is calling: a Bearer credential (our JWT, an API key, or an external issuer's JWT)
//! turned into a [`Principal`], plus the checks every authenticated route shares.

mod external;
mod tokens;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::{Method, header};
use todo_core::Todo;
use todo_core::accounts::Principal;
use todo_core::api_key::{Scope, looks_like_api_key};

pub use external::{ExternalIssuers, Jwks};
pub use tokens::{SessionToken, TokenKeys};

use crate::AppState;
use crate::error::ApiError;

/// Turns a bearer token into a principal.
pub struct Authenticator {
    todo: Todo,
    keys: TokenKeys,
    external: ExternalIssuers,
}

impl Authenticator {
    pub fn new(todo: Todo, keys: TokenKeys, external: ExternalIssuers) -> Self {
        Self {
            todo,
            keys,
            external,
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    pub async fn authenticate(&self, token: &str) -> Result<Principal, ApiError> {
        if looks_like_api_key(token) {
            return Ok(self.todo.api_key_principal(token).await?);
        }
        if let Some(session_id) = self.keys.verify(token) {
            return Ok(self.todo.session_principal(&session_id).await?);
        }
        if let Some(identity) = self.external.verify(token).await {
            return Ok(self.todo.external_principal(identity).await?);
        }
        Err(ApiError::unauthenticated("invalid or expired token"))
    }
}

/// The authenticated caller of a route. Extracting it enforces, in order: a valid credential
/// (401), the path user of `/api/{user_id}/…` routes (403), and the key's scope (403).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or_else(|| {
            ApiError::unauthenticated("send a credential: Authorization: Bearer <token or API key>")
        })?;
        let principal = state.auth.authenticate(token).await?;

        if let Ok(params) = RawPathParams::from_request_parts(parts, state).await
            && let Some((_, path_user)) = params.iter().find(|(name, _)| *name == "user_id")
            && path_user != principal.user_id
        {
            return Err(ApiError::forbidden(
                "wrong-user",
                "the user in the path is not the authenticated user",
            ));
        }

        let needed = if is_read_only(&parts.method) {
            Scope::Read
        } else {
            Scope::Write
        };
        if !principal.can(needed) {
            return Err(ApiError::forbidden(
                "insufficient-scope",
                format!("this API key lacks the {} scope", needed.as_str()),
            ));
        }
        Ok(Auth(principal))
    }
}

fn is_read_only(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
