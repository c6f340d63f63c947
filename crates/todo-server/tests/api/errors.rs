//! Bad input of every kind gets a problem+json 4xx, never a 500, and changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};

use crate::helpers::{TestApp, TestUser};

fn request(
    method: Method,
    uri: &str,
    user: &TestUser,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", user.token));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).expect("request")
}

#[tokio::test]
async fn malformed_json_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for body in ["{", "{\"title\": }", "{\"title\": \"x\",}", "null x", ""] {
        let response = app
            .raw(request(
                Method::POST,
                "/api/v1/tasks",
                &user,
                Some("application/json"),
                body,
            ))
            .await;
        response.problem(StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn a_body_of_the_wrong_shape_is_unprocessable() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for body in [
        "[]",
        "42",
        "{\"title\": 7}",
        "{\"title\": \"ok\", \"priority\": 3}",
    ] {
        let response = app
            .raw(request(
                Method::POST,
                "/api/v1/tasks",
                &user,
                Some("application/json"),
                body,
            ))
            .await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn a_json_array_is_not_taken_for_an_object_field_by_field() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    // serde fills a struct from an array by position; found by the fuzzer on PATCH /me.
    let response = app
        .raw(request(
            Method::PATCH,
            "/api/v1/me",
            &user,
            Some("application/json"),
            r#"["Ada", "Europe/Paris"]"#,
        ))
        .await;
    assert_eq!(
        response.problem(StatusCode::UNPROCESSABLE_ENTITY)["detail"],
        "the body must be a JSON object"
    );
    let me = app.get("/api/v1/me", &user.token).await;
    assert_eq!(
        (&me.body["name"], &me.body["timezone"]),
        (&serde_json::Value::Null, &serde_json::json!("UTC"))
    );
}

#[tokio::test]
async fn a_null_body_on_complete_toggles_as_the_document_says() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "toggle me").await;
    let response = app
        .raw(request(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}/complete"),
            &user,
            Some("application/json"),
            "null",
        ))
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.body["completed"], true);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let id = app.task(&user, "x").await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let create = request(
            Method::POST,
            "/api/v1/tasks",
            &user,
            content_type,
            "title=x",
        );
        app.raw(create)
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let complete = request(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}/complete"),
            &user,
            content_type,
            "completed=true",
        );
        app.raw(complete)
            .await
            .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    assert_eq!(
        app.get("/api/v1/tasks", &user.token)
            .await
            .header("x-total-count"),
        Some("1")
    );
}

#[tokio::test]
async fn bad_path_ids_are_bad_requests() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    for id in ["abc", "1.5", "99999999999999999999", "%00"] {
        let response = app.get(&format!("/api/v1/tasks/{id}"), &user.token).await;
        response.problem(StatusCode::BAD_REQUEST);
    }
    app.get("/api/v1/tasks/-5", &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    app.get("/api/v1/nothing-here", &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get("/favicon.ico", &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    app.send(Method::DELETE, "/api/v1/tasks", Some(&user.token), None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let huge = format!(
        "{{\"title\": \"x\", \"description\": \"{}\"}}",
        "x".repeat(3 * 1024 * 1024)
    );
    let response = app
        .raw(request(
            Method::POST,
            "/api/v1/tasks",
            &user,
            Some("application/json"),
            huge,
        ))
        .await;
    response.problem(StatusCode::PAYLOAD_TOO_LARGE);
}
