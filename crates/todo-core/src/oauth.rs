//! OAuth 2.1 authorization server: how apps such as claude.ai, ChatGPT or Claude Code connect
//! to a user's tasks without an API key (the MCP authorization spec). The rules live here —
//! redirect URIs, PKCE, scopes, resources (audiences), lifetimes, one-time codes, rotating
//! refresh tokens whose reuse revokes the whole grant — and the use cases that apply them; the
//! stores only read and write rows ([`OAuthStore`]), and the server only speaks HTTP. Codes
//! and tokens are random secrets of which only the SHA-256 is stored, as for API keys.
//! docs/security.md ("OAuth") says why each rule is what it is.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Todo;
use crate::accounts::{CredentialKind, Principal};
use crate::api_key::{Scope, hash_secret, random_secret};
use crate::error::{Error, Result};
use crate::time::now;
use crate::user::UserId;

/// Access tokens start with this, refresh tokens and codes with theirs: a leaked one is
/// recognisable, and the server tells them from API keys (`todo_` + base64) at a glance.
pub const ACCESS_TOKEN_PREFIX: &str = "todo_at_";
pub const REFRESH_TOKEN_PREFIX: &str = "todo_rt_";
const CODE_PREFIX: &str = "todo_ac_";

/// An authorization code must be exchanged within this time (OAuth 2.1 §4.1.2: short).
pub const CODE_TTL: Duration = Duration::minutes(5);
/// An access token works this long; then the client refreshes.
pub const ACCESS_TTL: Duration = Duration::hours(1);
/// A refresh token works this long unused; each use gives a new one for as long again.
pub const REFRESH_TTL: Duration = Duration::days(30);
/// A dynamically registered client that nobody connected within this time is forgotten.
pub const UNUSED_CLIENT_TTL: Duration = Duration::hours(24);
/// At most this many registered clients that nobody connected yet, server-wide: anonymous
/// registration cannot fill the database (beyond the per-address rate limit).
pub const MAX_UNUSED_CLIENTS: usize = 1000;
pub const MAX_REDIRECT_URIS: usize = 10;
pub const CLIENT_NAME_MAX_CHARS: usize = 100;
pub const URI_MAX_CHARS: usize = 2000;
/// `state` is the client's and comes back in the redirect: bounded like a URI.
pub const STATE_MAX_CHARS: usize = 1000;

/// What a grant allows. `tasks:read` acts as an API key's `read` scope, `tasks:write` as
/// `write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OAuthScope {
    TasksRead,
    TasksWrite,
}

pub const SUPPORTED_SCOPES: [OAuthScope; 2] = [OAuthScope::TasksRead, OAuthScope::TasksWrite];

impl OAuthScope {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthScope::TasksRead => "tasks:read",
            OAuthScope::TasksWrite => "tasks:write",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        SUPPORTED_SCOPES.into_iter().find(|s| s.as_str() == raw)
    }

    /// The API key scope this grants on the REST API and the tools.
    pub fn api_scope(self) -> Scope {
        match self {
            OAuthScope::TasksRead => Scope::Read,
            OAuthScope::TasksWrite => Scope::Write,
        }
    }

    /// What a description on the consent page says.
    pub fn describe(self) -> &'static str {
        match self {
            OAuthScope::TasksRead => "see your tasks and tags",
            OAuthScope::TasksWrite => "add, change, complete and delete your tasks",
        }
    }
}

/// Scopes as the protocol writes them: space-separated, sorted, once each.
pub fn scopes_to_text(scopes: &[OAuthScope]) -> String {
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Stored scopes; unknown words (from a later version) are dropped.
pub fn scopes_from_text(text: &str) -> Vec<OAuthScope> {
    let mut scopes: Vec<OAuthScope> = text
        .split_whitespace()
        .filter_map(OAuthScope::parse)
        .collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// The scopes a request asks for: all we offer when it names none (RFC 6749 §3.3 lets the
/// server choose a default). Words we do not know (`openid`, `offline_access`, another
/// server's) are left out, as §3.3 allows, so that a client asking for a little more still
/// connects; naming none we know is `invalid_scope`.
pub fn parse_requested_scopes(
    raw: Option<&str>,
) -> std::result::Result<Vec<OAuthScope>, OAuthError> {
    let raw = raw.map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Ok(SUPPORTED_SCOPES.to_vec());
    }
    let mut scopes: Vec<OAuthScope> = raw
        .split_whitespace()
        .filter_map(OAuthScope::parse)
        .collect();
    if scopes.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!(
                "no scope this server offers in {raw:?}: ask for tasks:read and/or tasks:write"
            ),
        ));
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

/// A refresh may ask for less than the grant holds, never more (RFC 6749 §6).
pub fn narrow_scopes(
    granted: &[OAuthScope],
    requested: Option<&str>,
) -> std::result::Result<Vec<OAuthScope>, OAuthError> {
    match requested.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(granted.to_vec()),
        Some(raw) => {
            let asked = parse_requested_scopes(Some(raw))?;
            if asked.iter().all(|s| granted.contains(s)) {
                Ok(asked)
            } else {
                Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "a refresh may not ask for scopes the grant does not hold",
                ))
            }
        }
    }
}

/// What the user granted on the consent page: the requested scopes they left ticked (a user
/// may give less than an app asks for, never more).
pub fn consented_scopes(requested: &[OAuthScope], ticked: &[String]) -> Vec<OAuthScope> {
    requested
        .iter()
        .copied()
        .filter(|s| ticked.iter().any(|t| t == s.as_str()))
        .collect()
}

/// The error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2 and RFC 8707 §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    InvalidRedirectUri,
    InvalidClientMetadata,
    ServerError,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status of a token, registration or revocation endpoint answering this.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidClient => 401,
            ErrorCode::ServerError => 500,
            ErrorCode::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// An OAuth error as RFC 6749 §5.2 writes it: `{error, error_description}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> Self {
        match err {
            Error::Validation(errors) => Self::invalid_request(
                errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::new(ErrorCode::TemporarilyUnavailable, "try again shortly")
            }
            Error::Busy(why) => Self::new(ErrorCode::TemporarilyUnavailable, why),
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in OAuth");
                Self::new(ErrorCode::ServerError, "something went wrong on our side")
            }
            other => Self::invalid_request(other.to_string()),
        }
    }
}

pub type OAuthResult<T> = std::result::Result<T, OAuthError>;

/// This server as an authorization server and protected resource, from `PUBLIC_URL`: the
/// issuer is that URL, and the resources (audiences) tokens may be issued for are the MCP
/// endpoint and the server itself (the REST API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    base: String,
}

impl Issuer {
    /// `https://…`, or `http://` on a loopback host (for local use and tests); no user, query
    /// or fragment. A trailing slash is dropped.
    pub fn parse(raw: &str) -> std::result::Result<Self, String> {
        let url = url::Url::parse(raw.trim()).map_err(|e| format!("is not a URL: {e}"))?;
        let loopback = url.host_str().is_some_and(is_loopback_host);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(
                    "must be an https URL (http only on localhost, 127.0.0.1 or [::1])".into(),
                );
            }
        }
        if url.host_str().is_none() {
            return Err("needs a host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry a user name or password".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err("must not have a query or fragment".into());
        }
        let base = url.as_str().trim_end_matches('/').to_owned();
        Ok(Self { base })
    }

    /// The issuer identifier (RFC 8414): `PUBLIC_URL` without a trailing slash.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// The resource of `/mcp` (RFC 9728 `resource`).
    pub fn mcp_resource(&self) -> String {
        format!("{}/mcp", self.base)
    }

    /// The host (and port) clients reach this server at.
    pub fn host(&self) -> Option<String> {
        let url = url::Url::parse(&self.base).ok()?;
        let host = url.host_str()?.to_owned();
        Some(match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    /// The resource a grant is bound to (RFC 8707): what the client asked for, when it is one
    /// of ours (the MCP endpoint, or the server as a whole), else `invalid_target`; `/mcp` when
    /// it asked for none.
    pub fn resource_for(&self, requested: Option<&str>) -> OAuthResult<String> {
        match requested.map(str::trim).filter(|r| !r.is_empty()) {
            None => Ok(self.mcp_resource()),
            Some(raw) => self.normalise(raw).ok_or_else(|| {
                OAuthError::new(
                    ErrorCode::InvalidTarget,
                    format!(
                        "this server issues tokens for {} (or {}) only",
                        self.mcp_resource(),
                        self.base
                    ),
                )
            }),
        }
    }

    /// Whether a token bound to `resource` is meant for this server (its audience).
    pub fn accepts(&self, resource: &str) -> bool {
        self.normalise(resource).is_some()
    }

    fn normalise(&self, raw: &str) -> Option<String> {
        let trimmed = raw.trim_end_matches('/');
        let mcp = self.mcp_resource();
        if trimmed == self.base {
            Some(self.base.clone())
        } else if trimmed == mcp {
            Some(mcp)
        } else {
            None
        }
    }
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks a redirect URI a client registers: `https` anywhere, or `http` on a loopback host
/// (native apps, RFC 8252 §7.3); absolute, without a fragment or credentials, bounded.
pub fn check_redirect_uri(raw: &str) -> std::result::Result<String, String> {
    if raw.chars().count() > URI_MAX_CHARS {
        return Err(format!("must be at most {URI_MAX_CHARS} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL: {e}"))?;
    let loopback = url.host_str().is_some_and(is_loopback_host);
    match url.scheme() {
        "https" if url.host_str().is_some() => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "{raw:?} must be an https URL, or http on localhost, 127.0.0.1 or [::1]"
            ));
        }
    }
    if url.fragment().is_some() {
        return Err(format!("{raw:?} must not have a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw:?} must not carry a user name or password"));
    }
    Ok(raw.to_owned())
}

/// Whether a redirect URI in a request is one the client registered: the same string, except
/// that a loopback `http` URI may use any port (RFC 8252 §7.3: native apps take a free port).
pub fn redirect_matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(presented)) else {
        return false;
    };
    a.scheme() == "http"
        && b.scheme() == "http"
        && a.host_str().is_some_and(is_loopback_host)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
        && b.fragment().is_none()
        && b.username().is_empty()
        && b.password().is_none()
}

/// The PKCE challenge of an authorization request: `S256` only (OAuth 2.1 §4.1.1; `plain`
/// would let whoever sees the request redeem the code), 43 characters of base64url.
pub fn check_challenge(method: Option<&str>, challenge: Option<&str>) -> OAuthResult<String> {
    let challenge = challenge
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            OAuthError::invalid_request("code_challenge is required (PKCE with S256)")
        })?;
    match method {
        Some("S256") => {}
        Some("plain") => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method plain is not supported: use S256",
            ));
        }
        Some(other) => {
            return Err(OAuthError::invalid_request(format!(
                "code_challenge_method {other:?} is not supported: use S256"
            )));
        }
        None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method is required and must be S256",
            ));
        }
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(OAuthError::invalid_request(
            "code_challenge must be the base64url SHA-256 of the verifier (43 characters)",
        ));
    }
    Ok(challenge.to_owned())
}

/// Whether `verifier` (RFC 7636 §4.1: 43–128 unreserved characters) hashes to `challenge`.
pub fn verify_pkce(challenge: &str, verifier: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    // Compared in constant time: the challenge is not secret, but nothing is lost.
    computed.len() == challenge.len()
        && computed
            .bytes()
            .zip(challenge.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub fn looks_like_access_token(token: &str) -> bool {
    token.starts_with(ACCESS_TOKEN_PREFIX)
}

/// An app that may ask users for access: registered (RFC 7591), or known by the URL of its
/// Client ID Metadata Document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Whether any user ever connected it (a grant exists): unused clients expire.
    pub used: bool,
}

impl Client {
    fn is_live_at(&self, at: DateTime<Utc>) -> bool {
        self.used || at - self.created_at < UNUSED_CLIENT_TTL
    }
}

/// A registration request (RFC 7591 §2). Metadata we do not use is ignored, as §2 allows.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct RegistrationInput {
    /// 1–10 URIs: https, or http on localhost, 127.0.0.1 or [::1].
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// The registration response (RFC 7591 §3.2.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    /// Always `none`: public clients.
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub scope: String,
}

/// Checks a registration: public clients only (`token_endpoint_auth_method` `none`), the
/// authorization-code and refresh grants only, 1–10 redirect URIs that [`check_redirect_uri`]
/// accepts, a name of at most 100 characters (the first redirect's host when absent).
pub fn check_registration(input: &RegistrationInput) -> OAuthResult<(String, Vec<String>)> {
    let metadata = |why: String| OAuthError::new(ErrorCode::InvalidClientMetadata, why);
    if let Some(method) = &input.token_endpoint_auth_method
        && method != "none"
    {
        return Err(metadata(format!(
            "token_endpoint_auth_method {method:?} is not supported: this server registers public clients only (none)"
        )));
    }
    if let Some(grants) = &input.grant_types
        && let Some(other) = grants
            .iter()
            .find(|g| !matches!(g.as_str(), "authorization_code" | "refresh_token"))
    {
        return Err(metadata(format!("grant type {other:?} is not supported")));
    }
    if let Some(types) = &input.response_types
        && let Some(other) = types.iter().find(|t| t.as_str() != "code")
    {
        return Err(metadata(format!(
            "response type {other:?} is not supported"
        )));
    }
    if let Some(scope) = &input.scope {
        parse_requested_scopes(Some(scope)).map_err(|e| metadata(e.description))?;
    }
    let redirect_error = |why: String| OAuthError::new(ErrorCode::InvalidRedirectUri, why);
    if input.redirect_uris.is_empty() || input.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(redirect_error(format!(
            "redirect_uris must list 1 to {MAX_REDIRECT_URIS} URIs"
        )));
    }
    let uris = input
        .redirect_uris
        .iter()
        .map(|uri| check_redirect_uri(uri).map_err(redirect_error))
        .collect::<OAuthResult<Vec<_>>>()?;
    let name = match input.client_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => url::Url::parse(&uris[0])
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "an app".into()),
    };
    if name.chars().count() > CLIENT_NAME_MAX_CHARS || name.chars().any(char::is_control) {
        return Err(metadata(format!(
            "client_name must be at most {CLIENT_NAME_MAX_CHARS} characters, without control characters"
        )));
    }
    Ok((name, uris))
}

/// The largest Client ID Metadata Document read; beyond it the fetch fails.
pub const METADATA_DOCUMENT_MAX_BYTES: usize = 5 * 1024;
/// How long a fetched document is used at most, and at least (whatever its `Cache-Control`
/// says): a change reaches us within a day, and a busy app costs one fetch per minutes.
pub const METADATA_CACHE_MAX: Duration = Duration::hours(24);
pub const METADATA_CACHE_MIN: Duration = Duration::minutes(5);
/// Without `Cache-Control: max-age`.
pub const METADATA_CACHE_DEFAULT: Duration = Duration::hours(1);

/// Whether a `client_id` names a Client ID Metadata Document (draft-ietf-oauth-client-id-
/// metadata-document): an https URL with a path, without fragment, credentials or dot
/// segments. `allow_http_loopback` also accepts `http` on a loopback host (tests only).
pub fn is_metadata_document_id(client_id: &str, allow_http_loopback: bool) -> bool {
    if client_id.chars().count() > URI_MAX_CHARS {
        return false;
    }
    let Ok(url) = url::Url::parse(client_id) else {
        return false;
    };
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => allow_http_loopback && url.host_str().is_some_and(is_loopback_host),
        _ => false,
    };
    // The parser removes dot segments: a URL whose path changed under it had some.
    let raw_path = client_id
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .map(|p| p.split(['?', '#']).next().unwrap_or(p));
    scheme_ok
        && url.host_str().is_some()
        && url.path() != "/"
        && raw_path == Some(url.path())
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// A Client ID Metadata Document, as much of it as we use.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MetadataDocument {
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub registration: RegistrationInput,
}

/// Checks a fetched document against the URL it came from: its `client_id` is that URL
/// exactly, and its metadata passes what a registration must (public client, https or
/// loopback redirect URIs, a bounded name). The client it describes.
pub fn check_metadata_document(url: &str, body: &[u8], at: DateTime<Utc>) -> OAuthResult<Client> {
    let invalid = |why: String| {
        OAuthError::new(
            ErrorCode::InvalidClient,
            format!("the client's metadata document at {url} {why}"),
        )
    };
    let document: MetadataDocument = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("is not a JSON object of client metadata: {e}")))?;
    if document.client_id.as_deref() != Some(url) {
        return Err(invalid("must name itself as client_id".into()));
    }
    let (name, redirect_uris) =
        check_registration(&document.registration).map_err(|e| invalid(e.description))?;
    Ok(Client {
        id: url.to_owned(),
        name,
        redirect_uris,
        created_at: at,
        used: false,
    })
}

/// How long a fetched document may be used, from its `Cache-Control`: `max-age` within
/// [`METADATA_CACHE_MIN`]..[`METADATA_CACHE_MAX`], [`METADATA_CACHE_DEFAULT`] without one;
/// `no-store` or `no-cache` the minimum.
pub fn metadata_cache_lifetime(cache_control: Option<&str>) -> Duration {
    let Some(value) = cache_control else {
        return METADATA_CACHE_DEFAULT;
    };
    let mut lifetime = METADATA_CACHE_DEFAULT;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return METADATA_CACHE_MIN;
        }
        if let Some(seconds) = lower.strip_prefix("max-age=")
            && let Ok(seconds) = seconds.trim_matches('"').parse::<i64>()
        {
            lifetime = Duration::seconds(seconds);
        }
    }
    lifetime.clamp(METADATA_CACHE_MIN, METADATA_CACHE_MAX)
}

/// A user's consent to a client, and the family of tokens that came of it. Revoking it ends
/// every token of the family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub user_id: UserId,
    pub client_id: String,
    pub scopes: Vec<OAuthScope>,
    /// The resource (audience) the tokens are for (RFC 8707).
    pub resource: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub code_expires_at: DateTime<Utc>,
    /// When the code was exchanged; a second exchange revokes the grant.
    pub code_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// A stored token (its hash is the key it was found by).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub grant_id: String,
    pub kind: TokenKind,
    pub scopes: Vec<OAuthScope>,
    pub expires_at: DateTime<Utc>,
    /// A refresh token that was exchanged for a new pair; presenting it again is reuse.
    pub spent_at: Option<DateTime<Utc>>,
}

/// A new access and refresh token, as stored (hashes) — the secrets go to the client only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTokens {
    pub grant_id: String,
    pub scopes: Vec<OAuthScope>,
    pub access_hash: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_hash: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// The token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

fn issue(grant_id: &str, scopes: &[OAuthScope], at: DateTime<Utc>) -> (NewTokens, TokenResponse) {
    let access = random_secret(ACCESS_TOKEN_PREFIX);
    let refresh = random_secret(REFRESH_TOKEN_PREFIX);
    let stored = NewTokens {
        grant_id: grant_id.to_owned(),
        scopes: scopes.to_vec(),
        access_hash: hash_secret(&access),
        access_expires_at: at + ACCESS_TTL,
        refresh_hash: hash_secret(&refresh),
        refresh_expires_at: at + REFRESH_TTL,
    };
    let response = TokenResponse {
        access_token: access,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL.num_seconds(),
        refresh_token: refresh,
        scope: scopes_to_text(scopes),
    };
    (stored, response)
}

/// An app a user connected, as Settings and the API list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConnectedApp {
    /// The grant's id: revoking it disconnects the app.
    pub id: String,
    pub client_id: String,
    pub client_name: String,
    /// `tasks:read`, `tasks:write`.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// The parameters of `GET /oauth/authorize` (RFC 6749 §4.1.1, RFC 7636, RFC 8707).
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
}

/// An authorization request that checked out, ready for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scopes: Vec<OAuthScope>,
    pub resource: String,
    pub code_challenge: String,
    pub state: Option<String>,
}

/// Why an authorization request is refused. Before the client and its redirect URI are known
/// to be good the error is shown to the user and nobody is redirected (RFC 6749 §4.1.2.1: an
/// open redirector otherwise); after, it goes back to the client in the redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    Show(OAuthError),
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// The parameters of `POST /oauth/token` (RFC 6749 §4.1.3, §6; RFC 8707 `resource`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenParams {
    #[serde(default)]
    pub grant_type: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub code_verifier: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
}

/// Storage of clients, grants and tokens. The rules are the use cases'; a store makes each
/// conditional write atomic (a code is spent once, a refresh token rotates once).
#[async_trait]
pub trait OAuthStore {
    /// Forgets clients created before `unused_before` that no grant names, then inserts
    /// `client` unless `max_unused` clients without a grant remain (false then).
    async fn insert_client(
        &self,
        client: &Client,
        unused_before: DateTime<Utc>,
        max_unused: usize,
    ) -> Result<bool>;
    async fn oauth_client(&self, id: &str) -> Result<Option<Client>>;
    /// Stores a client described by its metadata document (its id is the document's URL),
    /// replacing the name and redirect URIs of an earlier fetch.
    async fn upsert_client(&self, client: &Client) -> Result<()>;
    /// Stores a grant whose code has this hash.
    async fn insert_grant(&self, grant: &Grant, code_hash: &str) -> Result<()>;
    async fn grant_by_code(&self, code_hash: &str) -> Result<Option<Grant>>;
    /// Marks the grant's code used at `now` and stores `tokens`, in one transaction; false
    /// (and nothing stored) when the code was used already.
    async fn redeem_code(
        &self,
        grant_id: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool>;
    /// A token by its hash, with its grant.
    async fn oauth_token(&self, hash: &str) -> Result<Option<(TokenRecord, Grant)>>;
    /// Marks the refresh token spent and stores `tokens`, in one transaction; false (and
    /// nothing stored) when it was spent already.
    async fn rotate_refresh(
        &self,
        refresh_hash: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool>;
    /// Revokes the grant (of `user_id`, when given) and deletes its tokens; false when there
    /// is no such grant that is not revoked.
    async fn revoke_grant(
        &self,
        grant_id: &str,
        user_id: Option<&UserId>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// The user's grants that are in use (code exchanged, not revoked), newest first, with
    /// their clients' names.
    async fn list_grants(&self, user_id: &UserId) -> Result<Vec<ConnectedApp>>;
    async fn touch_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<()>;
    /// Forgets what can no longer be used: tokens expired at `now`, grants revoked or whose
    /// code expired unexchanged, clients created before `unused_before` that no grant names.
    /// How many rows went.
    async fn prune_oauth(&self, now: DateTime<Utc>, unused_before: DateTime<Utc>) -> Result<u64>;
}

/// Refuses an actor that is an OAuth app: a grant covers tasks, not credentials, so it never
/// mints an API key that would outlive its revocation, nor cuts off other apps.
pub fn refuse_oauth_actor(actor: &Principal) -> Result<()> {
    if matches!(actor.credential, CredentialKind::OAuth(_)) {
        return Err(Error::Forbidden(
            "an app connected with OAuth cannot manage the account (API keys, sessions, \
             password, connected apps)"
                .into(),
        ));
    }
    Ok(())
}

/// Don't rewrite a grant's `last_used_at` on every request.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

impl Todo {
    /// Registers a public client (RFC 7591).
    pub async fn register_oauth_client(
        &self,
        input: &RegistrationInput,
    ) -> OAuthResult<RegisteredClient> {
        let (name, redirect_uris) = check_registration(input)?;
        let at = now();
        let client = Client {
            id: format!("todo_client_{}", uuid::Uuid::new_v4().simple()),
            name,
            redirect_uris,
            created_at: at,
            used: false,
        };
        let stored = self
            .store
            .insert_client(&client, at - UNUSED_CLIENT_TTL, MAX_UNUSED_CLIENTS)
            .await?;
        if !stored {
            return Err(OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "too many registrations are waiting to be used; try again later",
            ));
        }
        Ok(RegisteredClient {
            client_id: client.id,
            client_id_issued_at: at.timestamp(),
            client_name: client.name,
            redirect_uris: client.redirect_uris,
            token_endpoint_auth_method: "none".into(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            scope: scopes_to_text(&SUPPORTED_SCOPES),
        })
    }

    /// Keeps a client from a fetched metadata document, so its grants can name it.
    pub async fn remember_metadata_client(&self, client: &Client) -> Result<()> {
        self.store.upsert_client(client).await
    }

    /// A client by id, if it exists and has not expired unused.
    pub async fn oauth_client(&self, id: &str) -> Result<Option<Client>> {
        if id.is_empty() || id.chars().count() > URI_MAX_CHARS {
            return Ok(None);
        }
        let at = now();
        Ok(self
            .store
            .oauth_client(id)
            .await?
            .filter(|c| c.is_live_at(at)))
    }

    /// Checks an authorization request against `client` (looked up, or fetched from its
    /// metadata document, by the caller): first the redirect URI, then everything else.
    pub fn check_authorization(
        &self,
        issuer: &Issuer,
        client: Option<Client>,
        params: &AuthorizeParams,
    ) -> std::result::Result<AuthorizationRequest, AuthorizeError> {
        let show = |e: OAuthError| AuthorizeError::Show(e);
        let client = client.ok_or_else(|| {
            show(OAuthError::new(
                ErrorCode::InvalidClient,
                "unknown client_id: the app must register first",
            ))
        })?;
        let redirect_uri = match params.redirect_uri.as_deref() {
            Some(presented) => client
                .redirect_uris
                .iter()
                .find(|registered| redirect_matches(registered, presented))
                .map(|_| presented.to_owned())
                .ok_or_else(|| {
                    show(OAuthError::invalid_request(
                        "redirect_uri is not one the client registered",
                    ))
                })?,
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => {
                return Err(show(OAuthError::invalid_request(
                    "redirect_uri is required: the client registered several",
                )));
            }
        };
        let state = params.state.clone();
        let back = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: state.clone(),
            error,
        };
        if state
            .as_ref()
            .is_some_and(|s| s.chars().count() > STATE_MAX_CHARS)
        {
            return Err(show(OAuthError::invalid_request("state is too long")));
        }
        match params.response_type.as_deref() {
            Some("code") => {}
            _ => {
                return Err(back(OAuthError::new(
                    ErrorCode::UnsupportedResponseType,
                    "response_type must be code",
                )));
            }
        }
        let code_challenge = check_challenge(
            params.code_challenge_method.as_deref(),
            params.code_challenge.as_deref(),
        )
        .map_err(back)?;
        let scopes = parse_requested_scopes(params.scope.as_deref()).map_err(back)?;
        let resource = issuer
            .resource_for(params.resource.as_deref())
            .map_err(back)?;
        Ok(AuthorizationRequest {
            client,
            redirect_uri,
            scopes,
            resource,
            code_challenge,
            state,
        })
    }

    /// The user said yes: a grant and its one-time code, for the redirect.
    pub async fn approve_authorization(
        &self,
        user_id: &UserId,
        request: &AuthorizationRequest,
    ) -> Result<String> {
        let at = now();
        let code = random_secret(CODE_PREFIX);
        let grant = Grant {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.clone(),
            client_id: request.client.id.clone(),
            scopes: request.scopes.clone(),
            resource: request.resource.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            code_expires_at: at + CODE_TTL,
            code_used_at: None,
            created_at: at,
            last_used_at: None,
            revoked_at: None,
        };
        self.store.insert_grant(&grant, &hash_secret(&code)).await?;
        Ok(code)
    }

    /// `POST /oauth/token`: exchanges a code or a refresh token for a new pair.
    pub async fn oauth_token(
        &self,
        issuer: &Issuer,
        params: &TokenParams,
    ) -> OAuthResult<TokenResponse> {
        match params.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(issuer, params).await,
            Some("refresh_token") => self.refresh_tokens(issuer, params).await,
            Some(other) => Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type {other:?} is not supported: use authorization_code or refresh_token"
                ),
            )),
            None => Err(OAuthError::invalid_request("grant_type is required")),
        }
    }

    async fn exchange_code(
        &self,
        issuer: &Issuer,
        params: &TokenParams,
    ) -> OAuthResult<TokenResponse> {
        let required = |value: &Option<String>, name: &str| {
            value
                .as_deref()
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| OAuthError::invalid_request(format!("{name} is required")))
        };
        let code = required(&params.code, "code")?;
        let client_id = required(&params.client_id, "client_id")?;
        let verifier = required(&params.code_verifier, "code_verifier")?;
        let at = now();
        let grant = self
            .store
            .grant_by_code(&hash_secret(&code))
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("unknown authorization code"))?;
        if grant.code_used_at.is_some() {
            // A replayed code: someone else may hold it. End whatever it gave (RFC 6749 §4.1.2).
            self.end_grant(&grant.id).await?;
            return Err(OAuthError::invalid_grant(
                "this authorization code was used already; the tokens it gave are revoked",
            ));
        }
        if grant.revoked_at.is_some() || grant.code_expires_at <= at {
            return Err(OAuthError::invalid_grant(
                "the authorization code has expired",
            ));
        }
        if grant.client_id != client_id {
            return Err(OAuthError::invalid_grant(
                "the code was issued to another client",
            ));
        }
        if params.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "redirect_uri must be the one of the authorization request",
            ));
        }
        if !verify_pkce(&grant.code_challenge, &verifier) {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        if let Some(resource) = params.resource.as_deref()
            && issuer.resource_for(Some(resource))? != grant.resource
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource must be the one of the authorization request",
            ));
        }
        let (stored, response) = issue(&grant.id, &grant.scopes, at);
        if !self.store.redeem_code(&grant.id, at, &stored).await? {
            self.end_grant(&grant.id).await?;
            return Err(OAuthError::invalid_grant(
                "this authorization code was used already; the tokens it gave are revoked",
            ));
        }
        Ok(response)
    }

    async fn refresh_tokens(
        &self,
        issuer: &Issuer,
        params: &TokenParams,
    ) -> OAuthResult<TokenResponse> {
        let token = params
            .refresh_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
        let client_id = params
            .client_id
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        let at = now();
        let hash = hash_secret(token);
        let invalid = || OAuthError::invalid_grant("invalid, expired or revoked refresh token");
        let (record, grant) = self.store.oauth_token(&hash).await?.ok_or_else(invalid)?;
        if record.kind != TokenKind::Refresh || grant.revoked_at.is_some() {
            return Err(invalid());
        }
        if grant.client_id != client_id {
            return Err(OAuthError::invalid_grant(
                "the refresh token was issued to another client",
            ));
        }
        if record.spent_at.is_some() {
            // Reuse of a rotated token: it leaked, or the client is confused. Either way the
            // family ends (OAuth 2.1 §4.3.1).
            self.end_grant(&grant.id).await?;
            return Err(OAuthError::invalid_grant(
                "this refresh token was used already; every token of this grant is revoked",
            ));
        }
        if record.expires_at <= at {
            return Err(invalid());
        }
        if let Some(resource) = params.resource.as_deref()
            && issuer.resource_for(Some(resource))? != grant.resource
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidTarget,
                "resource must be the one of the grant",
            ));
        }
        let scopes = narrow_scopes(&record.scopes, params.scope.as_deref())?;
        let (stored, response) = issue(&grant.id, &scopes, at);
        if !self.store.rotate_refresh(&hash, at, &stored).await? {
            self.end_grant(&grant.id).await?;
            return Err(OAuthError::invalid_grant(
                "this refresh token was used already; every token of this grant is revoked",
            ));
        }
        Ok(response)
    }

    async fn end_grant(&self, grant_id: &str) -> Result<()> {
        self.store.revoke_grant(grant_id, None, now()).await?;
        self.credentials
            .forget_credential(&CredentialKind::OAuth(grant_id.to_owned()));
        Ok(())
    }

    /// `POST /oauth/revoke` (RFC 7009): revoking either token of a grant revokes the grant.
    /// An unknown token, or one of another client, is no error (§2.2) and changes nothing.
    pub async fn revoke_oauth_token(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> OAuthResult<()> {
        if let Some((_, grant)) = self.store.oauth_token(&hash_secret(token)).await?
            && client_id.is_none_or(|id| id == grant.client_id)
        {
            self.end_grant(&grant.id).await?;
        }
        Ok(())
    }

    /// The principal of an OAuth access token, when it is valid and was issued for this
    /// server (its audience).
    pub async fn oauth_principal(&self, issuer: Option<&Issuer>, token: &str) -> Result<Principal> {
        const INVALID: Error = Error::Unauthenticated("invalid, expired or revoked access token");
        let Some(issuer) = issuer else {
            return Err(INVALID);
        };
        let hash = hash_secret(token);
        // Keyed by issuer too: whether a token is for this server depends on PUBLIC_URL.
        let cache_key = format!("o:{}:{hash}", issuer.url());
        if let Some(principal) = self.credentials.get(&cache_key) {
            return Ok(principal);
        }
        let at = now();
        let (record, grant) = self.store.oauth_token(&hash).await?.ok_or(INVALID)?;
        if record.kind != TokenKind::Access || record.expires_at <= at || grant.revoked_at.is_some()
        {
            return Err(INVALID);
        }
        if !issuer.accepts(&grant.resource) {
            return Err(Error::Unauthenticated(
                "this access token was issued for another resource",
            ));
        }
        if grant
            .last_used_at
            .is_none_or(|used| at - used >= TOUCH_INTERVAL)
        {
            self.store.touch_grant(&grant.id, at).await?;
        }
        let mut scopes: Vec<Scope> = record
            .scopes
            .iter()
            .filter(|s| grant.scopes.contains(s))
            .map(|s| s.api_scope())
            .collect();
        scopes.dedup();
        let principal = Principal {
            user_id: grant.user_id,
            scopes,
            credential: CredentialKind::OAuth(grant.id),
        };
        let expires_in = (record.expires_at - at).to_std().unwrap_or_default();
        self.credentials
            .put(cache_key, principal.clone(), Some(expires_in));
        Ok(principal)
    }

    /// Housekeeping: drops expired tokens, dead grants and unused clients (every replica may
    /// run it; it only deletes what nothing can use).
    pub async fn prune_oauth(&self) -> Result<u64> {
        let at = now();
        self.store.prune_oauth(at, at - UNUSED_CLIENT_TTL).await
    }

    pub async fn connected_apps(&self, user_id: &UserId) -> Result<Vec<ConnectedApp>> {
        self.store.list_grants(user_id).await
    }

    /// Disconnects an app: its grant and every token of it end at once. An app (an OAuth
    /// actor) may not disconnect apps: it manages no credentials.
    pub async fn revoke_connected_app(&self, actor: &Principal, grant_id: &str) -> Result<()> {
        refuse_oauth_actor(actor)?;
        if self
            .store
            .revoke_grant(grant_id, Some(&actor.user_id), now())
            .await?
        {
            self.credentials
                .forget_credential(&CredentialKind::OAuth(grant_id.to_owned()));
            Ok(())
        } else {
            Err(Error::NotFound("connected app"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    /// RFC 7636 Appendix B.
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn pkce_follows_the_rfc_example_and_refuses_anything_else() {
        assert!(verify_pkce(CHALLENGE, VERIFIER));
        assert!(!verify_pkce(CHALLENGE, &VERIFIER.replace('d', "e")));
        assert!(!verify_pkce(CHALLENGE, "short"));
        assert!(!verify_pkce(CHALLENGE, &format!("{VERIFIER} ")));
        assert!(!verify_pkce(CHALLENGE, &"a".repeat(129)));
    }

    #[test]
    fn only_s256_challenges_are_accepted() {
        assert_eq!(
            check_challenge(Some("S256"), Some(CHALLENGE)),
            Ok(CHALLENGE.to_owned())
        );
        for (method, challenge) in [
            (Some("plain"), Some(VERIFIER)),
            (None, Some(CHALLENGE)),
            (Some("S512"), Some(CHALLENGE)),
            (Some("S256"), None),
            (Some("S256"), Some("too-short")),
            (
                Some("S256"),
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
            ),
        ] {
            let error = check_challenge(method, challenge).expect_err("refused");
            assert_eq!(
                error.code,
                ErrorCode::InvalidRequest,
                "{method:?} {challenge:?}"
            );
        }
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_without_fragments() {
        for ok in [
            "https://claude.ai/api/mcp/auth_callback",
            "https://chatgpt.com/connector_platform_oauth_redirect",
            "http://127.0.0.1:33418/callback",
            "http://localhost:8080/cb?x=1",
            "http://[::1]:9/cb",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "https://user:pw@example.com/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "cursor://anysphere/cb",
            "/relative",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
        assert!(
            check_redirect_uri(&format!("https://e.com/{}", "a".repeat(URI_MAX_CHARS))).is_err()
        );
    }

    #[test]
    fn a_redirect_must_match_exactly_except_a_loopback_port() {
        let claude = "https://claude.ai/api/mcp/auth_callback";
        assert!(redirect_matches(claude, claude));
        assert!(!redirect_matches(
            claude,
            "https://claude.ai/api/mcp/auth_callback/"
        ));
        assert!(!redirect_matches(
            claude,
            "https://claude.ai/api/mcp/auth_callback?x=1"
        ));
        assert!(!redirect_matches(
            "https://a.example:1/cb",
            "https://a.example:2/cb"
        ));
        assert!(redirect_matches(
            "http://127.0.0.1:1/cb",
            "http://127.0.0.1:5555/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1:1/cb",
            "http://127.0.0.1:5555/other"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1:1/cb",
            "http://localhost:5555/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1:1/cb",
            "http://127.0.0.1:5555/cb#x"
        ));
    }

    #[test]
    fn scopes_default_to_all_drop_unknown_words_and_only_narrow() {
        assert_eq!(parse_requested_scopes(None), Ok(SUPPORTED_SCOPES.to_vec()));
        assert_eq!(
            parse_requested_scopes(Some("tasks:read tasks:read")),
            Ok(vec![OAuthScope::TasksRead])
        );
        assert_eq!(
            parse_requested_scopes(Some("openid tasks:read offline_access")),
            Ok(vec![OAuthScope::TasksRead]),
            "words we do not know are left out"
        );
        let unknown = parse_requested_scopes(Some("admin openid")).expect_err("none known");
        assert_eq!(unknown.code, ErrorCode::InvalidScope);
        let read = [OAuthScope::TasksRead];
        assert_eq!(narrow_scopes(&read, None), Ok(read.to_vec()));
        assert_eq!(
            narrow_scopes(&SUPPORTED_SCOPES, Some("tasks:read")),
            Ok(read.to_vec())
        );
        let wider = narrow_scopes(&read, Some("tasks:read tasks:write")).expect_err("wider");
        assert_eq!(wider.code, ErrorCode::InvalidScope);
        assert_eq!(
            scopes_from_text(&scopes_to_text(&SUPPORTED_SCOPES)),
            SUPPORTED_SCOPES
        );
        assert_eq!(OAuthScope::TasksWrite.api_scope(), Scope::Write);
    }

    #[test]
    fn the_user_may_grant_less_than_asked_never_more() {
        let read = [OAuthScope::TasksRead];
        let ticked = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            consented_scopes(&SUPPORTED_SCOPES, &ticked(&["tasks:read"])),
            read.to_vec()
        );
        assert_eq!(
            consented_scopes(&read, &ticked(&["tasks:read", "tasks:write"])),
            read.to_vec()
        );
        assert!(consented_scopes(&SUPPORTED_SCOPES, &ticked(&["admin"])).is_empty());
    }

    #[test]
    fn the_issuer_is_https_or_loopback_and_binds_tokens_to_its_own_resources() {
        let issuer = Issuer::parse("https://todo.example.com/").expect("issuer");
        assert_eq!(issuer.url(), "https://todo.example.com");
        assert_eq!(issuer.mcp_resource(), "https://todo.example.com/mcp");
        assert_eq!(issuer.host().as_deref(), Some("todo.example.com"));
        assert_eq!(issuer.resource_for(None), Ok(issuer.mcp_resource()));
        assert_eq!(
            issuer.resource_for(Some("https://todo.example.com/mcp/")),
            Ok(issuer.mcp_resource())
        );
        assert_eq!(
            issuer.resource_for(Some("https://todo.example.com")),
            Ok("https://todo.example.com".into())
        );
        let other = issuer
            .resource_for(Some("https://evil.example/mcp"))
            .expect_err("another audience");
        assert_eq!(other.code, ErrorCode::InvalidTarget);
        assert!(!issuer.accepts("https://todo.example.com.evil.example/mcp"));
        assert!(Issuer::parse("http://127.0.0.1:8000").is_ok());
        for bad in [
            "http://todo.example.com",
            "https://todo.example.com/?x=1",
            "ftp://todo.example.com",
            "not a url",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registrations_are_public_clients_with_good_redirects() {
        let good = RegistrationInput {
            redirect_uris: vec!["https://claude.ai/api/mcp/auth_callback".into()],
            client_name: Some("Claude".into()),
            token_endpoint_auth_method: Some("none".into()),
            grant_types: Some(vec!["authorization_code".into(), "refresh_token".into()]),
            response_types: Some(vec!["code".into()]),
            scope: Some("tasks:read".into()),
        };
        assert_eq!(
            check_registration(&good),
            Ok((
                "Claude".into(),
                vec!["https://claude.ai/api/mcp/auth_callback".into()]
            ))
        );
        let unnamed = RegistrationInput {
            client_name: None,
            ..good.clone()
        };
        assert_eq!(
            check_registration(&unnamed).map(|r| r.0),
            Ok("claude.ai".into())
        );
        let cases = [
            (
                RegistrationInput {
                    token_endpoint_auth_method: Some("client_secret_basic".into()),
                    ..good.clone()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                RegistrationInput {
                    grant_types: Some(vec!["client_credentials".into()]),
                    ..good.clone()
                },
                ErrorCode::InvalidClientMetadata,
            ),
            (
                RegistrationInput {
                    redirect_uris: vec![],
                    ..good.clone()
                },
                ErrorCode::InvalidRedirectUri,
            ),
            (
                RegistrationInput {
                    redirect_uris: vec!["http://evil.example/cb".into()],
                    ..good.clone()
                },
                ErrorCode::InvalidRedirectUri,
            ),
            (
                RegistrationInput {
                    redirect_uris: vec!["https://a.example/cb".into(); MAX_REDIRECT_URIS + 1],
                    ..good.clone()
                },
                ErrorCode::InvalidRedirectUri,
            ),
            (
                RegistrationInput {
                    client_name: Some("x".repeat(CLIENT_NAME_MAX_CHARS + 1)),
                    ..good.clone()
                },
                ErrorCode::InvalidClientMetadata,
            ),
        ];
        for (input, code) in cases {
            let error = check_registration(&input).expect_err("refused");
            assert_eq!(error.code, code, "{input:?}");
        }
    }

    #[test]
    fn metadata_document_ids_are_https_urls_with_a_path() {
        for ok in [
            "https://app.example/oauth/client.json",
            "https://app.example/client?v=1",
        ] {
            assert!(is_metadata_document_id(ok, false), "{ok}");
        }
        for bad in [
            "https://app.example",
            "https://app.example/",
            "https://app.example/a/../client.json",
            "https://app.example/./client.json",
            "https://app.example/client.json#x",
            "https://u:p@app.example/client.json",
            "http://app.example/client.json",
            "todo_client_abc",
        ] {
            assert!(!is_metadata_document_id(bad, false), "{bad}");
        }
        assert!(!is_metadata_document_id("http://127.0.0.1:9/c.json", false));
        assert!(is_metadata_document_id("http://127.0.0.1:9/c.json", true));
        assert!(!is_metadata_document_id("http://app.example/c.json", true));
    }

    fn json_doc(client_id: &str, redirects: &[&str], auth: &str) -> String {
        serde_json::json!({
            "client_id": client_id,
            "client_name": "App",
            "redirect_uris": redirects,
            "token_endpoint_auth_method": auth,
        })
        .to_string()
    }

    #[test]
    fn a_metadata_document_must_name_itself_and_describe_a_public_client() {
        let url = "https://app.example/client.json";
        let at = now();
        let good = json_doc(url, &["https://app.example/cb"], "none");
        let client = check_metadata_document(url, good.as_bytes(), at).expect("valid");
        assert_eq!(client.id, url);
        assert_eq!(client.name, "App");
        assert_eq!(
            client.redirect_uris,
            vec!["https://app.example/cb".to_owned()]
        );
        for (body, why) in [
            (
                json_doc(
                    "https://other.example/c.json",
                    &["https://app.example/cb"],
                    "none",
                ),
                "another client_id",
            ),
            (
                json_doc(url, &["http://app.example/cb"], "none"),
                "a plain http redirect",
            ),
            (
                json_doc(url, &["https://app.example/cb"], "client_secret_post"),
                "a confidential client",
            ),
            ("[]".to_owned(), "not an object"),
            ("{\"client_id\": 1}".to_owned(), "a number"),
        ] {
            let error = check_metadata_document(url, body.as_bytes(), at).expect_err(why);
            assert_eq!(error.code, ErrorCode::InvalidClient, "{why}");
        }
    }

    #[test]
    fn documents_are_cached_by_their_headers_within_bounds() {
        assert_eq!(metadata_cache_lifetime(None), METADATA_CACHE_DEFAULT);
        assert_eq!(
            metadata_cache_lifetime(Some("public, max-age=7200")),
            Duration::hours(2)
        );
        assert_eq!(
            metadata_cache_lifetime(Some("max-age=1")),
            METADATA_CACHE_MIN
        );
        assert_eq!(
            metadata_cache_lifetime(Some("max-age=99999999")),
            METADATA_CACHE_MAX
        );
        assert_eq!(
            metadata_cache_lifetime(Some("no-store")),
            METADATA_CACHE_MIN
        );
        assert_eq!(
            metadata_cache_lifetime(Some("max-age=oops")),
            METADATA_CACHE_DEFAULT
        );
    }

    #[test]
    fn unused_clients_expire_and_used_ones_do_not() {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time");
        let client = Client {
            id: "c".into(),
            name: "c".into(),
            redirect_uris: vec![],
            created_at: at,
            used: false,
        };
        assert!(client.is_live_at(at + UNUSED_CLIENT_TTL - Duration::seconds(1)));
        assert!(!client.is_live_at(at + UNUSED_CLIENT_TTL));
        let used = Client {
            used: true,
            ..client
        };
        assert!(used.is_live_at(at + Duration::days(365)));
    }

    #[test]
    fn tokens_are_prefixed_and_only_their_hashes_are_kept() {
        let (stored, response) = issue("g", &[OAuthScope::TasksRead], now());
        assert!(looks_like_access_token(&response.access_token));
        assert!(response.refresh_token.starts_with(REFRESH_TOKEN_PREFIX));
        assert!(!looks_like_access_token(&response.refresh_token));
        assert_eq!(stored.access_hash, hash_secret(&response.access_token));
        assert_eq!(stored.refresh_hash, hash_secret(&response.refresh_token));
        assert_eq!(response.scope, "tasks:read");
        assert_eq!(response.expires_in, 3600);
        assert!(stored.refresh_expires_at > stored.access_expires_at);
    }
}
