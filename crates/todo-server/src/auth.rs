//! Who is calling: a Bearer credential (our JWT, an API key, or an external issuer's JWT)
//! turned into a [`Principal`], plus the checks every authenticated route shares.

mod external;
mod tokens;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use todo_core::Todo;
use todo_core::accounts::Principal;
use todo_core::api_key::{Scope, looks_like_api_key};

pub use external::{ExternalIssuers, Jwks};
pub use tokens::{SessionToken, TokenKeys};

use crate::AppState;
use crate::error::ApiError;
use crate::metrics::auth_failure;

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

/// Who the request's credential names, resolved once per request by [`identify`] so that rate
/// limits (keyed by user), the request log and the [`Auth`] extractor agree without
/// authenticating twice. `None` inside: the request carried no credential.
#[derive(Clone)]
pub struct Caller(Option<Result<Principal, ApiError>>);

impl Caller {
    async fn resolve(state: &AppState, headers: &HeaderMap) -> Self {
        match bearer_token(headers) {
            Some(token) => Self(Some(state.auth.authenticate(token).await)),
            None => Self(None),
        }
    }

    /// The outcome of authenticating; `None` when the request carried no credential.
    pub fn outcome(&self) -> Option<&Result<Principal, ApiError>> {
        self.0.as_ref()
    }

    pub fn user_id(&self) -> Option<&str> {
        match &self.0 {
            Some(Ok(principal)) => Some(&principal.user_id),
            _ => None,
        }
    }
}

/// The user id of a request, on its response: the request log is written outside the routes.
#[derive(Clone)]
pub struct LoggedUser(pub String);

/// Middleware: authenticates the bearer credential, if any, and stores the outcome as a
/// [`Caller`]. It refuses nothing itself; routes that need a user use [`Auth`].
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = Caller::resolve(&state, request.headers()).await;
    let user = caller.user_id().map(|id| LoggedUser(id.to_owned()));
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if let Some(user) = user {
        response.extensions_mut().insert(user);
    }
    response
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
        let caller = match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            // Outside the router's middleware, nothing resolved it yet.
            None => Caller::resolve(state, &parts.headers).await,
        };
        let principal = match caller.0 {
            Some(Ok(principal)) => principal,
            Some(Err(e)) => {
                if e.status() == axum::http::StatusCode::UNAUTHORIZED {
                    auth_failure("invalid_credential");
                }
                return Err(e);
            }
            None => {
                auth_failure("missing_credential");
                return Err(ApiError::unauthenticated(
                    "send a credential: Authorization: Bearer <token or API key>",
                ));
            }
        };

        authorize(parts, state, principal).await.map(Auth)
    }
}

/// The checks after authentication: the path user of `/api/{user_id}/…` routes, then the
/// credential's scope for the method.
pub async fn authorize(
    parts: &mut Parts,
    state: &AppState,
    principal: Principal,
) -> Result<Principal, ApiError> {
    if let Ok(params) = RawPathParams::from_request_parts(parts, state).await
        && let Some((_, path_user)) = params.iter().find(|(name, _)| *name == "user_id")
        && path_user != principal.user_id
    {
        auth_failure("wrong_user");
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
        auth_failure("insufficient_scope");
        return Err(ApiError::forbidden(
            "insufficient-scope",
            format!("this API key lacks the {} scope", needed.as_str()),
        ));
    }
    Ok(principal)
}

fn is_read_only(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
