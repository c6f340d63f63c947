//! The OAuth 2.1 doors (docs/security.md, "OAuth"): the metadata documents (RFC 9728, RFC
//! 8414), `/oauth/authorize` with its consent page, `/oauth/token`, `/oauth/register` (RFC
//! 7591) and `/oauth/revoke` (RFC 7009). Each parses, calls a `todo_core::oauth` use case and
//! renders; the rules are the core's. These endpoints answer errors as RFC 6749 does
//! (`{error, error_description}`), not as problems — except when OAuth is off (no
//! `PUBLIC_URL`), which every one of them says with a 404 problem naming the setting.

mod documents;

pub use documents::MetadataDocuments;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use todo_core::accounts::{CredentialKind, Principal};
use todo_core::oauth::{
    AuthorizationRequest, AuthorizeError, AuthorizeParams, Client, ErrorCode, Issuer, OAuthError,
    OAuthScope, RegisteredClient, RegistrationInput, SUPPORTED_SCOPES, TokenParams, TokenResponse,
    consented_scopes, scopes_to_text,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Caller, check_csrf};
use crate::error::{ApiError, Problem};
use crate::web::assets;

pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";
pub const AUTHORIZATION_SERVER_PATH: &str = "/.well-known/oauth-authorization-server";

/// The OAuth routes, in the OpenAPI document (so the authorization matrix and the fuzzer see
/// them). Public: none takes a Bearer credential.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resource_metadata))
        .routes(routes!(resource_metadata_of_mcp))
        .routes(routes!(server_metadata))
        .routes(routes!(authorize, consent))
        .routes(routes!(token))
        .routes(routes!(register))
        .routes(routes!(revoke))
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Serialize, utoipa::ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `invalid_scope`, `invalid_target`, …
    pub error: String,
    pub error_description: String,
}

/// RFC 9728 protected-resource metadata.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResourceMetadata {
    resource: String,
    authorization_servers: Vec<String>,
    scopes_supported: Vec<String>,
    bearer_methods_supported: Vec<String>,
    resource_name: String,
    resource_documentation: String,
}

/// RFC 8414 authorization-server metadata.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ServerMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    registration_endpoint: String,
    revocation_endpoint: String,
    scopes_supported: Vec<String>,
    response_types_supported: Vec<String>,
    response_modes_supported: Vec<String>,
    grant_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    code_challenge_methods_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    client_id_metadata_document_supported: bool,
    service_documentation: String,
}

/// Without `PUBLIC_URL` there is no issuer: every OAuth route says so.
fn oauth_off() -> Response {
    ApiError::not_found(
        "OAuth is off on this server: the operator sets PUBLIC_URL (its external https URL) \
         to turn it on. Meanwhile use an API key.",
    )
    .into_response()
}

/// `WWW-Authenticate` of a 401 from `/mcp` or the API when OAuth is on: where the resource
/// metadata is, and the scopes (MCP authorization spec, RFC 9728 §5.1).
pub fn challenge(issuer: &Issuer, error: Option<&str>) -> String {
    let mut value = format!(
        "Bearer resource_metadata=\"{}{PROTECTED_RESOURCE_PATH}/mcp\", scope=\"{}\"",
        issuer.url(),
        scopes_to_text(&SUPPORTED_SCOPES)
    );
    if let Some(error) = error {
        value.push_str(&format!(", error=\"{error}\""));
    }
    value
}

fn scope_names() -> Vec<String> {
    SUPPORTED_SCOPES
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn resource_document(state: &AppState) -> Response {
    let Some(issuer) = state.oauth.as_ref() else {
        return oauth_off();
    };
    axum::Json(ResourceMetadata {
        resource: issuer.mcp_resource(),
        authorization_servers: vec![issuer.url().to_owned()],
        scopes_supported: scope_names(),
        bearer_methods_supported: strings(&["header"]),
        resource_name: "todo".into(),
        resource_documentation: format!("{}/docs", issuer.url()),
    })
    .into_response()
}

/// Protected-resource metadata (RFC 9728) of `/mcp`: where to get a token, and which scopes.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-protected-resource",
    operation_id = "getProtectedResourceMetadata",
    tag = "oauth",
    responses(
        (status = 200, description = "Protected resource metadata (RFC 9728)", body = ResourceMetadata),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn resource_metadata(State(state): State<AppState>) -> Response {
    resource_document(&state)
}

/// The same document at the path-suffixed location MCP clients try first.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-protected-resource/mcp",
    operation_id = "getMcpProtectedResourceMetadata",
    tag = "oauth",
    responses(
        (status = 200, description = "Protected resource metadata of `/mcp` (RFC 9728)", body = ResourceMetadata),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn resource_metadata_of_mcp(State(state): State<AppState>) -> Response {
    resource_document(&state)
}

/// Authorization-server metadata (RFC 8414).
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "getAuthorizationServerMetadata",
    tag = "oauth",
    responses(
        (status = 200, description = "Authorization server metadata (RFC 8414)", body = ServerMetadata),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn server_metadata(State(state): State<AppState>) -> Response {
    let Some(issuer) = state.oauth.as_ref() else {
        return oauth_off();
    };
    let base = issuer.url();
    axum::Json(ServerMetadata {
        issuer: base.to_owned(),
        authorization_endpoint: format!("{base}/oauth/authorize"),
        token_endpoint: format!("{base}/oauth/token"),
        registration_endpoint: format!("{base}/oauth/register"),
        revocation_endpoint: format!("{base}/oauth/revoke"),
        scopes_supported: scope_names(),
        response_types_supported: strings(&["code"]),
        response_modes_supported: strings(&["query"]),
        grant_types_supported: strings(&["authorization_code", "refresh_token"]),
        token_endpoint_auth_methods_supported: strings(&["none"]),
        revocation_endpoint_auth_methods_supported: strings(&["none"]),
        code_challenge_methods_supported: strings(&["S256"]),
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
        service_documentation: format!("{base}/docs"),
    })
    .into_response()
}

/// An RFC 6749 §5.2 error response (also RFC 7591 §3.2.2, RFC 7009 §2.2.1).
fn oauth_error(error: &OAuthError) -> Response {
    let status = StatusCode::from_u16(error.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({
        "error": error.code.as_str(),
        "error_description": error.description,
    });
    (status, no_store(), axum::Json(body)).into_response()
}

fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A form body (`application/x-www-form-urlencoded`), as the token and revocation endpoints
/// take (RFC 6749 §3.2); anything else is `invalid_request`.
fn form<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequest,
            "send the parameters as application/x-www-form-urlencoded",
        ));
    }
    serde_html_form::from_bytes(body).map_err(|e| {
        OAuthError::new(
            ErrorCode::InvalidRequest,
            format!("the parameters are malformed: {e}"),
        )
    })
}

/// Exchange an authorization code (with its PKCE verifier) or a refresh token for a new access
/// and refresh token. Errors as RFC 6749 §5.2 says.
#[utoipa::path(
    post,
    path = "/oauth/token",
    operation_id = "issueToken",
    tag = "oauth",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token, and a refresh token", body = TokenResponse),
        (status = 400, description = "An RFC 6749 error (`invalid_grant`, `invalid_request`, …)", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(issuer) = state.oauth.as_ref() else {
        return oauth_off();
    };
    let params: TokenParams = match form(&headers, &body) {
        Ok(params) => params,
        Err(e) => return oauth_error(&e),
    };
    match state.todo.oauth_token(issuer, &params).await {
        Ok(tokens) => (StatusCode::OK, no_store(), axum::Json(tokens)).into_response(),
        Err(e) => oauth_error(&e),
    }
}

/// Register a public client (RFC 7591): https or loopback redirect URIs, no secret.
#[utoipa::path(
    post,
    path = "/oauth/register",
    operation_id = "registerClient",
    tag = "oauth",
    request_body = RegistrationInput,
    responses(
        (status = 201, description = "The registered client (RFC 7591)", body = RegisteredClient),
        (status = 400, description = "An RFC 7591 error (`invalid_redirect_uri`, `invalid_client_metadata`)", body = OAuthErrorBody),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Registrations are rate-limited; try later", body = OAuthErrorBody),
    )
)]
async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    if state.oauth.is_none() {
        return oauth_off();
    }
    let input: RegistrationInput = match serde_json::from_slice(&body) {
        Ok(input) => input,
        Err(e) => {
            return oauth_error(&OAuthError::new(
                ErrorCode::InvalidClientMetadata,
                format!("the body must be a JSON object of client metadata: {e}"),
            ));
        }
    };
    match state.todo.register_oauth_client(&input).await {
        Ok(client) => (StatusCode::CREATED, no_store(), axum::Json(client)).into_response(),
        Err(e) => oauth_error(&e),
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RevokeParams {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    /// A hint we do not need: either kind of token revokes its grant.
    #[serde(default, rename = "token_type_hint")]
    #[schema(rename = "token_type_hint")]
    _hint: Option<String>,
}

/// Revoke a token (RFC 7009): either token of a grant ends the whole grant. An unknown token
/// is no error.
#[utoipa::path(
    post,
    path = "/oauth/revoke",
    operation_id = "revokeToken",
    tag = "oauth",
    request_body(content = RevokeParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or there was nothing to revoke"),
        (status = 400, description = "An RFC 6749 error", body = OAuthErrorBody),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if state.oauth.is_none() {
        return oauth_off();
    }
    let params: RevokeParams = match form(&headers, &body) {
        Ok(params) => params,
        Err(e) => return oauth_error(&e),
    };
    let Some(token) = params.token.filter(|t| !t.is_empty()) else {
        return oauth_error(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "token is required",
        ));
    };
    match state
        .todo
        .revoke_oauth_token(&token, params.client_id.as_deref())
        .await
    {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => oauth_error(&e),
    }
}

/// The client an authorization request names: registered, or described by the metadata
/// document whose URL it is.
async fn client_of(
    state: &AppState,
    client_id: Option<&str>,
) -> Result<Option<Client>, OAuthError> {
    match client_id {
        Some(url) if state.oauth_documents.names_a_document(url) => state
            .oauth_documents
            .client(&state.todo, url)
            .await
            .map(Some),
        Some(id) => Ok(state.todo.oauth_client(id).await?),
        None => Ok(None),
    }
}

/// The signed-in web user, by the session cookie only: consent is given on our page, by a
/// person, never by a bearer credential.
async fn session_user(state: &AppState, parts: &axum::http::request::Parts) -> Option<Principal> {
    let caller = Caller::of(parts, state).await;
    match caller.outcome() {
        Some(Ok(principal)) if matches!(principal.credential, CredentialKind::Session(_)) => {
            Some(principal.clone())
        }
        _ => None,
    }
}

struct ScopeView {
    name: &'static str,
    description: &'static str,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    asset_v: &'static str,
    csrf: String,
    user: String,
    client_name: String,
    client_id: String,
    redirect_uri: String,
    redirect_host: String,
    scopes: Vec<ScopeView>,
    params: AuthorizeParams,
}

#[derive(Template)]
#[template(path = "oauth_error.html")]
struct ErrorPage {
    asset_v: &'static str,
    error: String,
    description: String,
}

/// The page's headers: nothing loads from elsewhere, and forms may go to this site and, after
/// the answer, on to the client's redirect URI (CSP `form-action` covers the redirect).
fn page(status: StatusCode, html: String, redirect_origin: Option<&str>) -> Response {
    let form_action = match redirect_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action {form_action}"
    );
    let mut response = (status, axum::response::Html(html)).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::try_from(csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error_page(error: &OAuthError) -> Response {
    let html = ErrorPage {
        asset_v: assets::version(),
        error: error.code.as_str().to_owned(),
        description: error.description.clone(),
    }
    .render();
    // Our own trouble keeps its status (and says nothing more); the rest is the request's.
    let status = match error.code {
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    match html {
        Ok(html) => page(status, html, None),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// 303 to the client's redirect URI with `params`, `state` and `iss` (RFC 9207).
fn back_to_client(
    issuer: &Issuer,
    redirect_uri: &str,
    state: Option<&str>,
    params: &[(&str, &str)],
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(&OAuthError::new(
            ErrorCode::InvalidRequest,
            "the redirect URI is not a URL",
        ));
    };
    {
        let mut query = url.query_pairs_mut();
        for (key, value) in params {
            query.append_pair(key, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer.url());
    }
    Redirect::to(url.as_str()).into_response()
}

fn refused(issuer: &Issuer, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Show(error) => error_page(&error),
        AuthorizeError::Redirect {
            redirect_uri,
            state,
            error,
        } => back_to_client(
            issuer,
            &redirect_uri,
            state.as_deref(),
            &[
                ("error", error.code.as_str()),
                ("error_description", &error.description),
            ],
        ),
    }
}

/// The origin a URL's redirect goes to (`scheme://host:port`), for CSP.
fn origin_of(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// The authorization endpoint: checks the request, sends a visitor who is not signed in to
/// the login page (and back here after), and shows the consent page (HTML). A bad client or
/// redirect URI is shown, never followed; other errors go back to the app's redirect URI.
#[utoipa::path(
    get,
    path = "/oauth/authorize",
    operation_id = "authorize",
    tag = "oauth",
    params(AuthorizeParams),
    responses(
        (status = 200, description = "The consent page", content_type = "text/html", body = String),
        (status = 303, description = "To the login page, or back to the app with an error"),
        (status = 400, description = "A bad client or redirect URI, shown", content_type = "text/html", body = String),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn authorize(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    request: axum::extract::Request,
) -> Response {
    let Some(issuer) = state.oauth.clone() else {
        return oauth_off();
    };
    let query = query.unwrap_or_default();
    let params: AuthorizeParams = match serde_html_form::from_str(&query) {
        Ok(params) => params,
        Err(e) => {
            return error_page(&OAuthError::new(
                ErrorCode::InvalidRequest,
                format!("the request's parameters are malformed: {e}"),
            ));
        }
    };
    let (parts, _) = request.into_parts();
    let principal = session_user(&state, &parts).await;
    let to_login = || {
        let here = format!("/oauth/authorize?{query}");
        let next = serde_html_form::to_string([("next", here.as_str())]).unwrap_or_default();
        Redirect::to(&format!("/login?{next}")).into_response()
    };
    // A metadata document is fetched for signed-in users only: an anonymous visitor cannot
    // make the server fetch URLs of their choosing.
    let names_a_document = params
        .client_id
        .as_deref()
        .is_some_and(|id| state.oauth_documents.names_a_document(id));
    if names_a_document && principal.is_none() {
        return to_login();
    }
    let client = match client_of(&state, params.client_id.as_deref()).await {
        Ok(client) => client,
        Err(e) => return error_page(&e),
    };
    let checked = match state.todo.check_authorization(&issuer, client, &params) {
        Ok(checked) => checked,
        Err(error) => return refused(&issuer, error),
    };
    let Some(principal) = principal else {
        return to_login();
    };
    consent_page(&state, &principal, &checked, params).await
}

async fn consent_page(
    state: &AppState,
    principal: &Principal,
    request: &AuthorizationRequest,
    params: AuthorizeParams,
) -> Response {
    let CredentialKind::Session(session_id) = &principal.credential else {
        return error_page(&OAuthError::new(ErrorCode::AccessDenied, "sign in first"));
    };
    let user = match state.todo.me(&principal.user_id).await {
        Ok(me) => me.email.or(me.name).unwrap_or_default(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let html = ConsentPage {
        asset_v: assets::version(),
        csrf: state.auth.csrf().token(session_id),
        user,
        client_name: request.client.name.clone(),
        client_id: request.client.id.clone(),
        redirect_host: url::Url::parse(&request.redirect_uri)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request
            .scopes
            .iter()
            .map(|s: &OAuthScope| ScopeView {
                name: s.as_str(),
                description: s.describe(),
            })
            .collect(),
        params,
    }
    .render();
    match html {
        Ok(html) => page(
            StatusCode::OK,
            html,
            origin_of(&request.redirect_uri).as_deref(),
        ),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// The consent form: the authorization request again, the user's answer and the CSRF token.
#[derive(Deserialize, utoipa::ToSchema)]
struct ConsentForm {
    #[serde(default, rename = "_csrf")]
    #[schema(rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    decision: String,
    /// The scopes the user left ticked.
    #[serde(default)]
    grant: Vec<String>,
    #[serde(default)]
    response_type: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
    #[serde(default)]
    resource: Option<String>,
}

/// The consent page's form (the signed-in user's answer, with the page's CSRF token). Checked
/// again from the start, then a code in the redirect to the app, or `access_denied`.
#[utoipa::path(
    post,
    path = "/oauth/authorize",
    operation_id = "consent",
    tag = "oauth",
    request_body(content = ConsentForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Back to the app with a code or an error"),
        (status = 400, description = "Not signed in, or a bad request, shown", content_type = "text/html", body = String),
        (status = 403, description = "Without the page's CSRF token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "OAuth is off (no PUBLIC_URL)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn consent(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let Some(issuer) = state.oauth.clone() else {
        return oauth_off();
    };
    let (parts, body) = request.into_parts();
    let Some(principal) = session_user(&state, &parts).await else {
        return error_page(&OAuthError::new(
            ErrorCode::AccessDenied,
            "your session has ended: start connecting the app again",
        ));
    };
    let body = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(body) => body,
        Err(_) => {
            return error_page(&OAuthError::new(
                ErrorCode::InvalidRequest,
                "the form is too large",
            ));
        }
    };
    let form: ConsentForm = match form(&parts.headers, &body) {
        Ok(form) => form,
        Err(e) => return error_page(&e),
    };
    if let Err(e) = check_csrf(&state, &principal, &parts.headers, Some(&form.csrf)) {
        return e.into_response();
    }
    let params = AuthorizeParams {
        response_type: form.response_type,
        client_id: form.client_id,
        redirect_uri: form.redirect_uri,
        scope: form.scope,
        state: form.state,
        code_challenge: form.code_challenge,
        code_challenge_method: form.code_challenge_method,
        resource: form.resource,
    };
    let client = match client_of(&state, params.client_id.as_deref()).await {
        Ok(client) => client,
        Err(e) => return error_page(&e),
    };
    let mut checked = match state.todo.check_authorization(&issuer, client, &params) {
        Ok(checked) => checked,
        Err(error) => return refused(&issuer, error),
    };
    checked.scopes = consented_scopes(&checked.scopes, &form.grant);
    if form.decision != "allow" || checked.scopes.is_empty() {
        return back_to_client(
            &issuer,
            &checked.redirect_uri,
            checked.state.as_deref(),
            &[
                ("error", "access_denied"),
                ("error_description", "the user said no"),
            ],
        );
    }
    match state
        .todo
        .approve_authorization(&principal.user_id, &checked)
        .await
    {
        Ok(code) => back_to_client(
            &issuer,
            &checked.redirect_uri,
            checked.state.as_deref(),
            &[("code", &code)],
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}
