//! OAuth 2.1 against the real router (on the database `TODO_TEST_DATABASE` names): the whole
//! authorization-code flow with PKCE, and every way it must refuse — a wrong verifier, `plain`
//! PKCE, an unregistered redirect URI, a replayed code, a reused refresh token (the family is
//! revoked), a token for another audience, a revoked app, a read-only grant writing — each as
//! the RFCs say: RFC 6749 error JSON from the token endpoint, errors in the redirect once the
//! redirect URI is trusted, problem+json from our API.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use todo_server::Settings;

use crate::helpers::{TestApp, TestResponse, TestUser, auth_settings};

const PUBLIC_URL: &str = "https://todo.example.com";
const REDIRECT: &str = "https://app.example/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn settings(public_url: Option<&str>) -> Settings {
    let mut settings = Settings::new(auth_settings());
    settings.rate_limit.enabled = false;
    settings.mcp.public_url = public_url.map(str::to_owned);
    settings
}

async fn oauth_app() -> TestApp {
    TestApp::spawn_configured(settings(Some(PUBLIC_URL))).await
}

fn encode(pairs: &[(&str, &str)]) -> String {
    serde_html_form::to_string(pairs).expect("form")
}

async fn post_form(app: &TestApp, uri: &str, pairs: &[(&str, &str)]) -> TestResponse {
    app.raw(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(encode(pairs)))
            .expect("request"),
    )
    .await
}

async fn register(app: &TestApp, redirect_uris: Value) -> TestResponse {
    app.send(
        Method::POST,
        "/oauth/register",
        None,
        Some(json!({"client_name": "Test app", "redirect_uris": redirect_uris})),
    )
    .await
}

async fn client_id(app: &TestApp) -> String {
    let registered = register(app, json!([REDIRECT])).await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    assert_eq!(registered.body["token_endpoint_auth_method"], "none");
    registered.body["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned()
}

/// An authorization request's query with these parameters changed (`None` drops one).
fn authorize_query(client_id: &str, changes: &[(&str, Option<&str>)]) -> String {
    let mut params: Vec<(&str, Option<&str>)> = vec![
        ("response_type", Some("code")),
        ("client_id", Some(client_id)),
        ("redirect_uri", Some(REDIRECT)),
        ("code_challenge", Some(CHALLENGE)),
        ("code_challenge_method", Some("S256")),
        ("state", Some("xyz")),
        ("scope", Some("tasks:read tasks:write")),
        ("resource", Some("https://todo.example.com/mcp")),
    ];
    for (key, value) in changes {
        match params.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = *value,
            None => params.push((key, *value)),
        }
    }
    let kept: Vec<(&str, &str)> = params
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    encode(&kept)
}

fn cookie(user: &TestUser) -> String {
    format!("todo_session={}", user.token)
}

async fn authorize_page(app: &TestApp, user: Option<&TestUser>, query: &str) -> TestResponse {
    let mut request = Request::get(format!("/oauth/authorize?{query}"));
    if let Some(user) = user {
        request = request.header(header::COOKIE, cookie(user));
    }
    app.raw(request.body(Body::empty()).expect("request")).await
}

/// The query parameters of a redirect's `Location`.
fn redirect_params(response: &TestResponse) -> Vec<(String, String)> {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.header("location").expect("location");
    let url = url::Url::parse(location).expect("absolute redirect");
    url.query_pairs().into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The user consents on the page (the CSRF token read from it) to `grant`; the code.
async fn consent(app: &TestApp, user: &TestUser, client_id: &str, grant: &[&str]) -> String {
    let query = authorize_query(client_id, &[]);
    let page = authorize_page(app, Some(user), &query).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let html = page.body.as_str().expect("html");
    assert!(html.contains("Test app"), "{html}");
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf");
    let mut pairs: Vec<(&str, &str)> = serde_html_form::from_str::<Vec<(String, String)>>(&query)
        .expect("query")
        .iter()
        .map(|(k, v)| (leak(k), leak(v)))
        .collect();
    pairs.push(("_csrf", leak(csrf)));
    pairs.push(("decision", "allow"));
    for scope in grant {
        pairs.push(("grant", scope));
    }
    let answer = app
        .raw(
            Request::post("/oauth/authorize")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie(user))
                .body(Body::from(encode(&pairs)))
                .expect("request"),
        )
        .await;
    let params = redirect_params(&answer);
    assert_eq!(param(&params, "state"), Some("xyz"));
    assert_eq!(param(&params, "iss"), Some(PUBLIC_URL), "RFC 9207");
    param(&params, "code").expect("code").to_owned()
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> TestResponse {
    post_form(
        app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
            ("resource", "https://todo.example.com/mcp"),
        ],
    )
    .await
}

async fn refresh(app: &TestApp, client_id: &str, refresh_token: &str) -> TestResponse {
    post_form(
        app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    )
    .await
}

/// Tokens for a fresh user's consent to `grant`: (user, client_id, token response).
async fn connected(app: &TestApp, grant: &[&str]) -> (TestUser, String, Value) {
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(app).await;
    let code = consent(app, &user, &client_id, grant).await;
    let tokens = exchange(app, &client_id, &code, VERIFIER).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    (user, client_id, tokens.body)
}

fn oauth_error(response: &TestResponse, status: StatusCode, error: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.body["error"], error, "{}", response.body);
    assert!(response.body["error_description"].is_string());
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().expect("token")
}

async fn mcp_call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> TestResponse {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    app.raw(
        Request::post("/mcp")
            .header(header::HOST, "todo.example.com")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn an_app_connects_with_pkce_and_its_token_works_on_mcp_and_the_api() {
    let app = oauth_app().await;
    let (user, _, tokens) = connected(&app, &["tasks:read", "tasks:write"]).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "tasks:read tasks:write");
    let access = token(&tokens, "access_token");

    let added = mcp_call(&app, access, "add_task", json!({"title": "via OAuth"})).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    let id = added.body["result"]["structuredContent"]["task_id"]
        .as_i64()
        .expect("task id");
    let shown = app.get(&format!("/api/v1/tasks/{id}"), access).await;
    assert_eq!(shown.body["title"], "via OAuth");
    assert_eq!(
        app.get(&format!("/api/{}/tasks/{id}", user.id), access)
            .await
            .status,
        StatusCode::OK
    );

    let apps = app.get("/api/v1/connected-apps", &user.token).await;
    assert_eq!(apps.body[0]["client_name"], "Test app", "{}", apps.body);
    assert_eq!(apps.body[0]["scopes"], json!(["tasks:read", "tasks:write"]));
    assert!(apps.body[0]["last_used_at"].is_string());
}

#[tokio::test]
async fn a_wrong_code_verifier_is_invalid_grant() {
    let app = oauth_app().await;
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(&app).await;
    let code = consent(&app, &user, &client_id, &["tasks:read"]).await;

    let wrong = exchange(&app, &client_id, &code, &"x".repeat(43)).await;
    oauth_error(&wrong, StatusCode::BAD_REQUEST, "invalid_grant");
    let missing = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
        ],
    )
    .await;
    oauth_error(&missing, StatusCode::BAD_REQUEST, "invalid_request");
    let other_redirect = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example/other"),
            ("client_id", &client_id),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    oauth_error(&other_redirect, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn plain_pkce_or_none_at_all_goes_back_to_the_app_as_invalid_request() {
    let app = oauth_app().await;
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(&app).await;
    for changes in [
        vec![
            ("code_challenge_method", Some("plain")),
            ("code_challenge", Some(VERIFIER)),
        ],
        vec![("code_challenge_method", None)],
        vec![("code_challenge", None)],
    ] {
        let query = authorize_query(&client_id, &changes);
        let page = authorize_page(&app, Some(&user), &query).await;
        let params = redirect_params(&page);
        assert_eq!(
            param(&params, "error"),
            Some("invalid_request"),
            "{changes:?}"
        );
        assert_eq!(param(&params, "state"), Some("xyz"));
        assert_eq!(param(&params, "iss"), Some(PUBLIC_URL));
        assert!(
            page.header("location")
                .is_some_and(|l| l.starts_with(REDIRECT))
        );
    }
}

#[tokio::test]
async fn an_unregistered_redirect_uri_or_client_is_shown_never_followed() {
    let app = oauth_app().await;
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(&app).await;
    for query in [
        authorize_query(
            &client_id,
            &[("redirect_uri", Some("https://evil.example/callback"))],
        ),
        authorize_query(
            &client_id,
            &[("redirect_uri", Some("https://app.example/callback/../x"))],
        ),
        authorize_query("todo_client_unknown", &[]),
    ] {
        let page = authorize_page(&app, Some(&user), &query).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.header("location").is_none(), "no redirect: {query}");
        assert!(
            page.body
                .as_str()
                .is_some_and(|html| html.contains("cannot connect"))
        );
    }
    // Not signed in: the login page first, and back here after.
    let query = authorize_query(&client_id, &[]);
    let anonymous = authorize_page(&app, None, &query).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous
            .header("location")
            .is_some_and(|l| l.starts_with("/login?next=%2Foauth%2Fauthorize%3F"))
    );
}

#[tokio::test]
async fn registration_takes_public_clients_with_https_or_loopback_redirects_only() {
    let app = oauth_app().await;
    for (redirects, error) in [
        (
            json!(["http://app.example/callback"]),
            "invalid_redirect_uri",
        ),
        (
            json!(["https://app.example/cb#fragment"]),
            "invalid_redirect_uri",
        ),
        (json!([]), "invalid_redirect_uri"),
        (json!("not a list"), "invalid_client_metadata"),
    ] {
        let response = register(&app, redirects.clone()).await;
        oauth_error(&response, StatusCode::BAD_REQUEST, error);
    }
    let secret_client = app
        .send(
            Method::POST,
            "/oauth/register",
            None,
            Some(json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic"})),
        )
        .await;
    oauth_error(
        &secret_client,
        StatusCode::BAD_REQUEST,
        "invalid_client_metadata",
    );
    let loopback = register(&app, json!(["http://127.0.0.1:43123/callback"])).await;
    assert_eq!(loopback.status, StatusCode::CREATED, "{}", loopback.body);
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_gave() {
    let app = oauth_app().await;
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(&app).await;
    let code = consent(&app, &user, &client_id, &["tasks:read"]).await;
    let first = exchange(&app, &client_id, &code, VERIFIER).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let access = token(&first.body, "access_token");
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );

    let replay = exchange(&app, &client_id, &code, VERIFIER).await;

    oauth_error(&replay, StatusCode::BAD_REQUEST, "invalid_grant");
    app.get("/api/v1/tasks", access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let refreshed = refresh(&app, &client_id, token(&first.body, "refresh_token")).await;
    oauth_error(&refreshed, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_whole_family() {
    let app = oauth_app().await;
    let (_, client_id, tokens) = connected(&app, &["tasks:read", "tasks:write"]).await;
    let first_refresh = token(&tokens, "refresh_token");

    let rotated = refresh(&app, &client_id, first_refresh).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_access = token(&rotated.body, "access_token");
    let new_refresh = token(&rotated.body, "refresh_token");
    assert_ne!(new_refresh, first_refresh);
    assert_eq!(
        app.get("/api/v1/tasks", new_access).await.status,
        StatusCode::OK
    );
    let narrowed = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
            ("client_id", &client_id),
            ("scope", "admin"),
        ],
    )
    .await;
    oauth_error(&narrowed, StatusCode::BAD_REQUEST, "invalid_scope");

    let reused = refresh(&app, &client_id, first_refresh).await;

    oauth_error(&reused, StatusCode::BAD_REQUEST, "invalid_grant");
    app.get("/api/v1/tasks", new_access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let after = refresh(&app, &client_id, new_refresh).await;
    oauth_error(&after, StatusCode::BAD_REQUEST, "invalid_grant");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let app = oauth_app().await;
    let user = app.signup("ada@example.com").await;
    let client_id = client_id(&app).await;
    // Asking for another server's resource: refused in the redirect (RFC 8707 invalid_target).
    let query = authorize_query(
        &client_id,
        &[("resource", Some("https://other.example/mcp"))],
    );
    let page = authorize_page(&app, Some(&user), &query).await;
    assert_eq!(
        param(&redirect_params(&page), "error"),
        Some("invalid_target")
    );

    // A token issued for this server is not accepted by a server with another PUBLIC_URL.
    let code = consent(&app, &user, &client_id, &["tasks:read"]).await;
    let tokens = exchange(&app, &client_id, &code, VERIFIER).await;
    let access = token(&tokens.body, "access_token");
    let elsewhere = app.replica(&settings(Some("https://other.example")));
    let refused = elsewhere.get("/api/v1/tasks", access).await;
    refused.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );
    // With OAuth off, no access token is accepted at all.
    let off = app.replica(&settings(None));
    off.get("/api/v1/tasks", access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_app_loses_every_token_at_once() {
    let app = oauth_app().await;
    let (user, client_id, tokens) = connected(&app, &["tasks:read", "tasks:write"]).await;
    let access = token(&tokens, "access_token");
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );
    // The app itself may not disconnect apps nor mint API keys that would outlive it.
    let apps = app.get("/api/v1/connected-apps", &user.token).await;
    let id = apps.body[0]["id"].as_str().expect("id").to_owned();
    app.delete(&format!("/api/v1/connected-apps/{id}"), access)
        .await
        .problem(StatusCode::FORBIDDEN);
    app.post("/api/v1/api-keys", access, json!({"name": "escape"}))
        .await
        .problem(StatusCode::FORBIDDEN);
    // Nor manage the account: its password, sessions or existence.
    for (method, uri, body) in [
        (
            Method::POST,
            "/api/v1/me/password",
            Some(
                json!({"current_password": "correct horse battery", "new_password": "taken over!"}),
            ),
        ),
        (Method::GET, "/api/v1/sessions", None),
        (
            Method::DELETE,
            "/api/v1/me",
            Some(json!({"password": "correct horse battery"})),
        ),
    ] {
        app.send(method, uri, Some(access), body)
            .await
            .problem(StatusCode::FORBIDDEN);
    }

    let revoked = app
        .delete(&format!("/api/v1/connected-apps/{id}"), &user.token)
        .await;

    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    app.get("/api/v1/tasks", access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let refreshed = refresh(&app, &client_id, token(&tokens, "refresh_token")).await;
    oauth_error(&refreshed, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        app.get("/api/v1/connected-apps", &user.token).await.body,
        json!([])
    );
    app.delete(&format!("/api/v1/connected-apps/{id}"), &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_app_can_revoke_its_own_tokens_rfc_7009() {
    let app = oauth_app().await;
    let (_, client_id, tokens) = connected(&app, &["tasks:read"]).await;
    let access = token(&tokens, "access_token");
    let unknown = post_form(
        &app,
        "/oauth/revoke",
        &[("token", "todo_rt_unknown"), ("client_id", &client_id)],
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::OK,
        "unknown tokens are no error"
    );
    let by_another = post_form(
        &app,
        "/oauth/revoke",
        &[
            ("token", token(&tokens, "refresh_token")),
            ("client_id", "todo_client_other"),
        ],
    )
    .await;
    assert_eq!(by_another.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );

    let revoked = post_form(
        &app,
        "/oauth/revoke",
        &[
            ("token", token(&tokens, "refresh_token")),
            ("token_type_hint", "refresh_token"),
            ("client_id", &client_id),
        ],
    )
    .await;

    assert_eq!(revoked.status, StatusCode::OK);
    app.get("/api/v1/tasks", access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_read_only_grant_may_read_but_never_write() {
    let app = oauth_app().await;
    let (_, _, tokens) = connected(&app, &["tasks:read"]).await;
    assert_eq!(tokens["scope"], "tasks:read");
    let access = token(&tokens, "access_token");
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );

    let rest = app
        .post("/api/v1/tasks", access, json!({"title": "no"}))
        .await;
    assert_eq!(
        rest.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-scope"
    );
    let tool = mcp_call(&app, access, "add_task", json!({"title": "no"})).await;
    assert_eq!(tool.status, StatusCode::FORBIDDEN, "{}", tool.body);
    let challenge = tool.header("www-authenticate").expect("challenge");
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("tasks:write"),
        "{challenge}"
    );
    let read = mcp_call(&app, access, "list_tasks", json!({})).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["result"]["isError"], false, "{}", read.body);
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let app = oauth_app().await;
    let json_body = app
        .send(
            Method::POST,
            "/oauth/token",
            None,
            Some(json!({"grant_type": "authorization_code"})),
        )
        .await;
    oauth_error(&json_body, StatusCode::BAD_REQUEST, "invalid_request");
    let unsupported = post_form(&app, "/oauth/token", &[("grant_type", "password")]).await;
    oauth_error(
        &unsupported,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    let unknown = exchange(&app, "todo_client_x", "todo_ac_nothing", VERIFIER).await;
    oauth_error(&unknown, StatusCode::BAD_REQUEST, "invalid_grant");
    let bogus_bearer = app.get("/api/v1/tasks", "todo_at_forged").await;
    bogus_bearer.problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_public_url_the_metadata_and_the_401_point_the_way() {
    let app = oauth_app().await;

    let bare = app
        .raw(
            Request::post("/mcp")
                .header(header::HOST, "todo.example.com")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .body(Body::from(
                    json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
                ))
                .expect("request"),
        )
        .await;

    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bare.header("www-authenticate"),
        Some(
            "Bearer resource_metadata=\"https://todo.example.com/.well-known/oauth-protected-resource/mcp\", \
             scope=\"tasks:read tasks:write\""
        )
    );
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let prm = app.send(Method::GET, path, None, None).await;
        assert_eq!(prm.body["resource"], "https://todo.example.com/mcp");
        assert_eq!(
            prm.body["authorization_servers"],
            json!(["https://todo.example.com"])
        );
        assert_eq!(
            prm.body["scopes_supported"],
            json!(["tasks:read", "tasks:write"])
        );
    }
    let asm = app
        .send(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await;
    assert_eq!(asm.body["issuer"], PUBLIC_URL);
    assert_eq!(
        asm.body["code_challenge_methods_supported"],
        json!(["S256"])
    );
    assert_eq!(
        asm.body["authorization_response_iss_parameter_supported"],
        true
    );
    assert_eq!(
        asm.body["token_endpoint"],
        "https://todo.example.com/oauth/token"
    );
}

#[tokio::test]
async fn without_public_url_oauth_is_off_and_says_so() {
    let app = TestApp::spawn().await;

    let bare = app
        .raw(
            Request::post("/mcp")
                .header(header::HOST, "localhost")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::ACCEPT, "application/json, text/event-stream")
                .body(Body::from(
                    json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
                ))
                .expect("request"),
        )
        .await;
    bare.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(bare.header("www-authenticate"), Some("Bearer"));
    for (method, path) in [
        (Method::GET, "/.well-known/oauth-protected-resource"),
        (Method::GET, "/.well-known/oauth-protected-resource/mcp"),
        (Method::GET, "/.well-known/oauth-authorization-server"),
        (Method::GET, "/oauth/authorize"),
        (Method::POST, "/oauth/token"),
        (Method::POST, "/oauth/register"),
        (Method::POST, "/oauth/revoke"),
    ] {
        let response = app.send(method.clone(), path, None, None).await;
        let problem = response.problem(StatusCode::NOT_FOUND);
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("PUBLIC_URL")),
            "{method} {path}: {problem}"
        );
    }
}

#[tokio::test]
async fn settings_lists_connected_apps_and_disconnects_one() {
    let app = oauth_app().await;
    let (user, _, tokens) = connected(&app, &["tasks:read"]).await;
    let access = token(&tokens, "access_token");
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );
    let id = app.get("/api/v1/connected-apps", &user.token).await.body[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let page = app
        .raw(
            Request::get("/settings")
                .header(header::COOKIE, cookie(&user))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let html = page.body.as_str().expect("html");
    assert!(
        html.contains("Connected apps") && html.contains("Test app"),
        "{html}"
    );
    assert!(html.contains(&format!("/settings/connected-apps/{id}/revoke")));
    assert!(html.contains("tasks:read"));
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf");

    let without_token = app
        .raw(
            Request::post(format!("/settings/connected-apps/{id}/revoke"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie(&user))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN, "CSRF");
    let disconnected = app
        .raw(
            Request::post(format!("/settings/connected-apps/{id}/revoke"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie(&user))
                .body(Body::from(encode(&[("_csrf", csrf)])))
                .expect("request"),
        )
        .await;

    assert_eq!(disconnected.status, StatusCode::SEE_OTHER);
    app.get("/api/v1/tasks", access)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

/// A loopback server of Client ID Metadata Documents, counting the fetches of the good one.
struct DocumentServer {
    base: String,
    fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

async fn document_server() -> DocumentServer {
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let doc = |base: &str, path: &str| {
        json!({
            "client_id": format!("{base}{path}"),
            "client_name": "Test app",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        })
    };
    let good = doc(&base, "/good.json");
    let other = doc("https://elsewhere.example", "/good.json");
    let big = json!({"client_id": format!("{base}/big.json"), "padding": "x".repeat(6000)});
    let counter = fetches.clone();
    let router = axum::Router::new()
        .route(
            "/good.json",
            axum::routing::get(move || {
                counter.fetch_add(1, Ordering::SeqCst);
                let body = good.clone();
                async move { ([(header::CACHE_CONTROL, "max-age=600")], axum::Json(body)) }
            }),
        )
        .route(
            "/other.json",
            axum::routing::get(move || {
                let body = other.clone();
                async move { axum::Json(body) }
            }),
        )
        .route(
            "/big.json",
            axum::routing::get(move || {
                let body = big.clone();
                async move { axum::Json(body) }
            }),
        )
        .route(
            "/moved.json",
            axum::routing::get(|| async {
                axum::response::Redirect::temporary("/good.json").into_response()
            }),
        );
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    DocumentServer { base, fetches }
}

/// An OAuth app that takes `http://127.0.0.1` documents (tests only), with private networks
/// allowed or not (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`).
async fn document_app(allow_private: bool) -> TestApp {
    let base = oauth_app().await;
    let mut settings = settings(Some(PUBLIC_URL));
    settings.mcp.allow_http_metadata_documents = true;
    let todo = base.todo.clone().with_private_webhooks(allow_private);
    let state = todo_server::AppState::new(todo.clone(), &settings).expect("state");
    TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: base.db.clone(),
    }
}

#[tokio::test]
async fn a_client_id_metadata_document_connects_an_app_without_registration() {
    let docs = document_server().await;
    let app = document_app(true).await;
    let user = app.signup("ada@example.com").await;
    let client_id = format!("{}/good.json", docs.base);
    let metadata = app
        .send(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await;
    assert_eq!(metadata.body["client_id_metadata_document_supported"], true);

    let code = consent(&app, &user, &client_id, &["tasks:read"]).await;
    let tokens = exchange(&app, &client_id, &code, VERIFIER).await;

    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let access = token(&tokens.body, "access_token");
    assert_eq!(
        app.get("/api/v1/tasks", access).await.status,
        StatusCode::OK
    );
    assert_eq!(
        docs.fetches.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "fetched once, then kept for its max-age (the page and the form)"
    );
    let apps = app.get("/api/v1/connected-apps", &user.token).await;
    assert_eq!(apps.body[0]["client_id"], client_id.as_str());
    assert_eq!(apps.body[0]["client_name"], "Test app");
}

#[tokio::test]
async fn a_metadata_document_is_held_to_its_rules() {
    let docs = document_server().await;
    let app = document_app(true).await;
    let user = app.signup("ada@example.com").await;
    let good = format!("{}/good.json", docs.base);
    for (query, why) in [
        (
            authorize_query(
                &good,
                &[("redirect_uri", Some("https://evil.example/callback"))],
            ),
            "a redirect URI the document does not list",
        ),
        (
            authorize_query(&format!("{}/other.json", docs.base), &[]),
            "a document naming another client_id",
        ),
        (
            authorize_query(&format!("{}/big.json", docs.base), &[]),
            "a document over 5 KiB",
        ),
        (
            authorize_query(&format!("{}/moved.json", docs.base), &[]),
            "a redirect (not followed)",
        ),
        (
            authorize_query(&format!("{}/missing.json", docs.base), &[]),
            "a 404",
        ),
    ] {
        let page = authorize_page(&app, Some(&user), &query).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{why}");
        assert!(page.header("location").is_none(), "{why}: never redirected");
    }
}

#[tokio::test]
async fn metadata_documents_on_private_addresses_are_refused_like_webhooks() {
    let docs = document_server().await;
    let app = document_app(false).await;
    let user = app.signup("ada@example.com").await;
    let query = authorize_query(&format!("{}/good.json", docs.base), &[]);

    let page = authorize_page(&app, Some(&user), &query).await;

    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.body
            .as_str()
            .is_some_and(|html| html.contains("private address"))
    );
    assert_eq!(docs.fetches.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Nobody signed in: the login page first, and nothing is fetched for an anonymous visitor.
    let allowed = document_app(true).await;
    let anonymous = authorize_page(&allowed, None, &query).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert!(
        anonymous
            .header("location")
            .is_some_and(|l| l.starts_with("/login?next="))
    );
    assert_eq!(docs.fetches.load(std::sync::atomic::Ordering::SeqCst), 0);
    // And a plain http client_id is no document at all without the test-only allowance.
    let plain = oauth_app().await;
    let page = authorize_page(&plain, Some(&user), &query).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_new_user_signs_up_on_the_way_and_comes_back_to_the_consent_page() {
    let app = oauth_app().await;
    let client_id = client_id(&app).await;
    let here = format!("/oauth/authorize?{}", authorize_query(&client_id, &[]));
    let next = encode(&[("next", here.as_str())]);
    let login = app
        .send(Method::GET, &format!("/login?{next}"), None, None)
        .await;
    let html = login.body.as_str().expect("html");
    assert!(html.contains("name=\"next\""), "{html}");
    assert!(html.contains("/signup?next=/oauth/authorize%3F"), "{html}");

    let signed_up = app
        .raw(
            Request::post("/signup")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(encode(&[
                    ("email", "new@example.com"),
                    ("password", "correct horse battery"),
                    ("next", here.as_str()),
                ])))
                .expect("request"),
        )
        .await;

    assert_eq!(
        signed_up.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_up.body
    );
    assert_eq!(signed_up.header("location"), Some(here.as_str()));
    let evil = app
        .raw(
            Request::post("/signup")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(encode(&[
                    ("email", "other@example.com"),
                    ("password", "correct horse battery"),
                    ("next", "//evil.example/steal"),
                ])))
                .expect("request"),
        )
        .await;
    assert_eq!(evil.header("location"), Some("/"), "never off-site");
}

#[tokio::test]
async fn registration_is_rate_limited_per_address() {
    let mut limited = settings(Some(PUBLIC_URL));
    limited.rate_limit.enabled = true;
    limited.rate_limit.auth_per_minute = 3;
    let app = TestApp::spawn_configured(limited).await;
    for _ in 0..3 {
        let ok = register(&app, json!([REDIRECT])).await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    }

    let refused = register(&app, json!([REDIRECT])).await;

    refused.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.header("retry-after").is_some());
}

#[tokio::test]
async fn an_apps_token_reads_the_settings_page_without_the_sessions_and_cannot_change_the_password()
{
    let app = oauth_app().await;
    let (_, _, tokens) = connected(&app, &["tasks:read", "tasks:write"]).await;
    let access = token(&tokens, "access_token");
    let page = app
        .raw(
            Request::get("/settings")
                .header(header::AUTHORIZATION, format!("Bearer {access}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.body.as_str().expect("a page");
    assert!(!html.contains("This browser"), "no sessions for an app");
    let refused = app
        .raw(
            Request::post("/settings/password")
                .header(header::AUTHORIZATION, format!("Bearer {access}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(
                    "current_password=correct+horse+battery&new_password=another+long+one",
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SEE_OTHER,
        "back with the core's refusal"
    );
    let back = refused.header("location").expect("back to settings");
    assert!(back.contains("OAuth+cannot+manage+the+account"), "{back}");
}
