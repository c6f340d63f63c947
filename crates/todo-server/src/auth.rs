//! Who is calling: a Bearer credential (our JWT, an API key, or an external issuer's JWT)
//! turned into a [`Principal`], plus the checks every authenticated route shares.

pub mod cookie;
mod external;
mod tokens;

use axum::extract::{FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use todo_core::Todo;
use todo_core::accounts::{CredentialKind, Principal};
use todo_core::api_key::{Scope, looks_like_api_key};
use todo_core::ids::UserId;
use todo_core::oauth::{Issuer, OAuthScope, looks_like_access_token};

pub use cookie::CsrfKey;
pub use external::{ExternalIssuers, ExternalSettings, Jwks, MIN_SECRET_BYTES, check_secret};
pub use tokens::{SessionToken, TokenKeys};

use crate::AppState;
use crate::error::ApiError;
use crate::metrics::auth_failure;

/// Turns a bearer token into a principal.
pub struct Authenticator {
    todo: Todo,
    keys: TokenKeys,
    external: ExternalIssuers,
    csrf: CsrfKey,
    /// Accepts OAuth access tokens issued for this server; `None` when OAuth is off.
    issuer: Option<Issuer>,
}

impl Authenticator {
    pub fn new(
        todo: Todo,
        keys: TokenKeys,
        external: ExternalIssuers,
        csrf: CsrfKey,
        issuer: Option<Issuer>,
    ) -> Self {
        Self {
            todo,
            keys,
            external,
            csrf,
            issuer,
        }
    }

    pub fn keys(&self) -> &TokenKeys {
        &self.keys
    }

    pub fn csrf(&self) -> &CsrfKey {
        &self.csrf
    }

    /// The principal of a web session cookie: only our own session tokens are accepted there.
    pub async fn authenticate_cookie(&self, token: &str) -> Result<Principal, ApiError> {
        match self.keys.verify(token) {
            Some(session_id) => Ok(self.todo.session_principal(&session_id).await?),
            None => Err(ApiError::unauthenticated(
                "the session has ended: log in again",
            )),
        }
    }

    pub async fn authenticate(&self, token: &str) -> Result<Principal, ApiError> {
        if looks_like_access_token(token) {
            return Ok(self
                .todo
                .oauth_principal(self.issuer.as_ref(), token)
                .await?);
        }
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

    /// HTTP Basic on `/dav`: the account's email and an API key as the app password.
    pub async fn authenticate_app_password(
        &self,
        username: &str,
        secret: &str,
    ) -> Result<Principal, ApiError> {
        if !looks_like_api_key(secret) {
            return Err(ApiError::unauthenticated(
                "CalDAV signs in with the account's email and an API key as the password",
            ));
        }
        Ok(self.todo.app_password_principal(username, secret).await?)
    }
}

/// Who the request's credential names, resolved once per request by [`identify`] so that rate
/// limits (keyed by user), the request log and the [`Auth`] extractor agree without
/// authenticating twice. `None` inside: the request carried no credential. A `Bearer` header
/// wins over the web app's session cookie.
#[derive(Clone)]
pub struct Caller(Option<Result<Principal, ApiError>>, Via);

/// Where the credential came from: a cookie is sent by the browser on its own, so unsafe
/// requests authenticated by it must also prove they come from our pages (CSRF).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Header,
    Cookie,
}

impl Caller {
    async fn resolve(state: &AppState, headers: &HeaderMap, path: &str) -> Self {
        if let Some(token) = bearer_token(headers) {
            return Self(Some(state.auth.authenticate(token).await), Via::Header);
        }
        // Basic only where CalDAV clients need it: a browser remembers Basic credentials and
        // sends them to any path of the site on its own, which must never reach the API.
        if (path == "/dav" || path.starts_with("/dav/"))
            && let Some((username, secret)) = basic_credentials(headers)
        {
            let outcome = state
                .auth
                .authenticate_app_password(&username, &secret)
                .await;
            return Self(Some(outcome), Via::Header);
        }
        match cookie::read(headers, cookie::SESSION_COOKIE) {
            Some(token) => Self(
                Some(state.auth.authenticate_cookie(token).await),
                Via::Cookie,
            ),
            None => Self(None, Via::Header),
        }
    }

    /// The outcome of authenticating; `None` when the request carried no credential.
    pub fn outcome(&self) -> Option<&Result<Principal, ApiError>> {
        self.0.as_ref()
    }

    pub fn user_id(&self) -> Option<&UserId> {
        match &self.0 {
            Some(Ok(principal)) => Some(&principal.user_id),
            _ => None,
        }
    }

    pub fn via(&self) -> Via {
        self.1
    }

    /// The caller of a request, resolved by [`identify`] (or now, outside the middleware).
    pub async fn of(parts: &Parts, state: &AppState) -> Self {
        match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            None => Caller::resolve(state, &parts.headers, parts.uri.path()).await,
        }
    }
}

/// Refuses an unsafe request authenticated by the session cookie unless it carries the
/// session's CSRF token (`presented`, from the header or a form field) and no browser signal
/// says it comes from another site.
pub fn check_csrf(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    presented: Option<&str>,
) -> Result<(), ApiError> {
    let CredentialKind::Session(session_id) = &principal.credential else {
        return Ok(());
    };
    let valid = presented.is_some_and(|token| state.auth.csrf().verify(session_id, token));
    if valid && !cookie::is_cross_site(headers) {
        Ok(())
    } else {
        auth_failure("csrf");
        Err(ApiError::forbidden(
            "csrf",
            "this request needs the page's CSRF token (X-CSRF-Token) and must come from this site",
        ))
    }
}

/// The user id of a request, on its response: the request log is written outside the routes.
#[derive(Clone)]
pub struct LoggedUser(pub UserId);

/// Middleware: authenticates the bearer credential, if any, and stores the outcome as a
/// [`Caller`]. It refuses nothing itself; routes that need a user use [`Auth`].
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = Caller::resolve(&state, request.headers(), request.uri().path()).await;
    let user = caller.user_id().map(|id| LoggedUser(id.to_owned()));
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if let Some(user) = user {
        response.extensions_mut().insert(user);
    }
    response
}

/// The authenticated caller of a route. Extracting it enforces, in order: a valid credential
/// (401), the CSRF token of a cookie-authenticated unsafe request (403), the path user of
/// `/api/{user_id}/…` routes (403), and the key's scope (403).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::of(parts, state).await;
        let via = caller.via();
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

        if via == Via::Cookie && !is_read_only(&parts.method) {
            let presented = parts
                .headers
                .get(cookie::CSRF_HEADER)
                .and_then(|v| v.to_str().ok());
            check_csrf(state, &principal, &parts.headers, presented)?;
        }

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
        && principal.user_id != path_user
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
        let detail = match principal.credential {
            CredentialKind::OAuth(_) => {
                let scope = match needed {
                    Scope::Read => OAuthScope::TasksRead,
                    Scope::Write => OAuthScope::TasksWrite,
                };
                format!("this access token lacks the {} scope", scope.as_str())
            }
            _ => format!("this API key lacks the {} scope", needed.as_str()),
        };
        return Err(ApiError::forbidden("insufficient-scope", detail));
    }
    Ok(principal)
}

/// Methods that change nothing: HTTP's safe ones and WebDAV's reads (PROPFIND, REPORT).
pub(crate) fn is_read_only(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || matches!(method.as_str(), "PROPFIND" | "REPORT")
}

/// `Authorization: Basic base64(username:password)`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
