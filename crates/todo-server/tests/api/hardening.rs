//! What every response gets: security headers, CORS only for configured origins, gzip for
//! large bodies, body and time limits, and a request id.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use std::time::Duration;
use todo_server::Settings;

use crate::helpers::{TestApp, auth_settings};

#[tokio::test]
async fn responses_carry_security_headers_and_html_pages_a_csp() {
    let app = TestApp::spawn().await;
    let json = app.send(Method::GET, "/health", None, None).await;
    assert_eq!(json.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(json.header("x-frame-options"), Some("DENY"));
    assert_eq!(json.header("referrer-policy"), Some("no-referrer"));
    assert!(json.header("content-security-policy").is_none());

    let page = app.send(Method::GET, "/docs/", None, None).await;
    let csp = page.header("content-security-policy").expect("CSP on HTML");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let problem = app.send(Method::GET, "/nope", None, None).await;
    assert_eq!(problem.header("x-content-type-options"), Some("nosniff"));
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/tasks")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn cors_is_closed_by_default_and_open_to_configured_origins_only() {
    let closed = TestApp::spawn().await;
    let response = closed.raw(preflight("https://app.example.com")).await;
    assert!(response.header("access-control-allow-origin").is_none());

    let mut settings = Settings::new(auth_settings());
    settings.http.cors_origins = vec!["https://app.example.com".into()];
    let open = TestApp::spawn_configured(settings).await;
    let allowed = open.raw(preflight("https://app.example.com")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    let other = open.raw(preflight("https://evil.example.com")).await;
    assert!(other.header("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn large_json_is_gzipped_for_clients_that_accept_it() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for i in 0..20 {
        app.task(
            &user,
            &format!("a task with a reasonably long title, number {i}"),
        )
        .await;
    }
    let request = |encoding: Option<&str>| {
        let mut request = Request::builder()
            .uri("/api/v1/tasks")
            .header(header::AUTHORIZATION, format!("Bearer {}", user.token));
        if let Some(encoding) = encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        request.body(Body::empty()).expect("request")
    };
    let gzipped = app.raw(request(Some("gzip"))).await;
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let plain = app.raw(request(None)).await;
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(plain.body.as_array().map(Vec::len), Some(20));
    let small = app
        .raw(
            Request::builder()
                .uri("/health")
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert!(
        small.header("content-encoding").is_none(),
        "small bodies are sent as they are"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let mut settings = Settings::new(auth_settings());
    settings.http.body_limit = 1024;
    let app = TestApp::spawn_configured(settings).await;
    let user = app.signup("ada@example.com").await;
    let response = app
        .post(
            "/api/v1/tasks",
            &user.token,
            json!({"title": "big", "description": "x".repeat(2000)}),
        )
        .await;
    let problem = response.problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem["type"], "urn:todo:problem:payload-too-large");
}

#[tokio::test]
async fn requests_over_the_time_limit_get_a_503_problem() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    // Signing up (a password hash) can itself take 200 ms on a loaded machine: the strict
    // limit is on a replica used only for the request under test.
    let mut settings = Settings::new(auth_settings());
    settings.http.request_timeout = Duration::from_millis(200);
    let app = app.replica(&settings);
    // A body that never arrives: the handler waits for it until the time limit.
    let never = futures::stream::pending::<Result<axum::body::Bytes, std::io::Error>>();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/tasks")
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(never))
        .expect("request");
    let response = app.raw(request).await;
    let problem = response.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["type"], "urn:todo:problem:timeout");
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let app = TestApp::spawn().await;
    let with_id = |id: &str| {
        Request::builder()
            .uri("/health")
            .header("x-request-id", id)
            .body(Body::empty())
            .expect("request")
    };
    let echoed = app.raw(with_id("trace-42")).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-42"));
    let replaced = app.raw(with_id(&"x".repeat(300))).await;
    let generated = replaced.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    let fresh = app.send(Method::GET, "/health", None, None).await;
    assert!(fresh.header("x-request-id").is_some());
}
