use axum::http::StatusCode;
use chrono::{Duration, Utc};
use serde_json::json;
use todo_core::api_key::{ApiKey, Scope, generate_secret};

use crate::helpers::TestApp;

#[tokio::test]
async fn a_key_is_shown_once_and_then_authenticates() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;

    let created = app
        .post("/api/v1/api-keys", &user.token, json!({"name": "laptop"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["secret"].as_str().expect("secret");
    assert!(secret.starts_with("todo_"));
    assert!(secret.starts_with(created.body["prefix"].as_str().expect("prefix")));
    assert_eq!(created.body["scopes"], json!(["read", "write"]));

    let listed = app.get("/api/v1/api-keys", &user.token).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert!(
        listed.body[0].get("secret").is_none(),
        "the secret is never shown again"
    );
    assert_eq!(listed.body[0]["last_used_at"], serde_json::Value::Null);

    let me = app.get("/api/v1/me", secret).await;
    assert_eq!(me.body["id"], user.id.as_str());
    let listed = app.get("/api/v1/api-keys", &user.token).await;
    assert!(
        listed.body[0]["last_used_at"].is_string(),
        "use is recorded"
    );
}

#[tokio::test]
async fn a_read_only_key_cannot_write() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let task = app.task(&user, "existing").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let secret = created.body["secret"].as_str().expect("secret");

    assert_eq!(
        app.get("/api/v1/tasks", secret).await.status,
        StatusCode::OK
    );
    let response = app
        .post("/api/v1/tasks", secret, json!({"title": "nope"}))
        .await;
    assert_eq!(
        response.problem(StatusCode::FORBIDDEN)["type"],
        "urn:todo:problem:insufficient-scope"
    );
    app.delete(&format!("/api/v1/tasks/{task}"), secret)
        .await
        .problem(StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/api/v1/tasks/{task}"), &user.token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let created = app
        .post("/api/v1/api-keys", &user.token, json!({"name": "ci"}))
        .await;
    let (id, secret) = (
        created.body["id"].as_str().expect("id"),
        created.body["secret"].as_str().expect("secret"),
    );

    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}"), &user.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get("/api/v1/me", secret)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.delete(&format!("/api/v1/api-keys/{id}"), &user.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/api-keys", &user.token).await.body,
        json!([])
    );
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let generated = generate_secret();
    let key = ApiKey {
        id: "expired".into(),
        user_id: user.id.clone().into(),
        name: "old".into(),
        prefix: generated.prefix.clone(),
        scopes: vec![Scope::Read, Scope::Write],
        created_at: Utc::now() - Duration::days(2),
        last_used_at: None,
        expires_at: Some(Utc::now() - Duration::days(1)),
        revoked_at: None,
    };
    app.db
        .store
        .insert_api_key(&key, &generated.hash)
        .await
        .expect("insert");
    app.get("/api/v1/me", &generated.secret)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn key_input_is_validated() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let response = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": " ", "scopes": [], "expires_at": past}),
        )
        .await;
    assert_eq!(response.invalid_fields(), ["name", "scopes", "expires_at"]);
    let response = app
        .post(
            "/api/v1/api-keys",
            &user.token,
            json!({"name": "x", "scopes": ["admin"]}),
        )
        .await;
    response.problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// Creates a key with `body` as `token` and returns the response.
async fn create_key(
    app: &TestApp,
    token: &str,
    body: serde_json::Value,
) -> crate::helpers::TestResponse {
    app.post("/api/v1/api-keys", token, body).await
}

#[tokio::test]
async fn a_key_never_creates_a_key_with_more_scopes_than_its_own() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let write_only = create_key(&app, &user.token, json!({"name": "w", "scopes": ["write"]})).await;
    let write_only = write_only.body["secret"]
        .as_str()
        .expect("secret")
        .to_owned();

    create_key(
        &app,
        &write_only,
        json!({"name": "wider", "scopes": ["read", "write"]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let inherited = create_key(&app, &write_only, json!({"name": "same"})).await;
    assert_eq!(inherited.status, StatusCode::CREATED, "{}", inherited.body);
    assert_eq!(
        inherited.body["scopes"],
        json!(["write"]),
        "left out: the key's own"
    );
    let listed = app.get("/api/v1/api-keys", &user.token).await;
    assert_eq!(
        listed.body.as_array().map(Vec::len),
        Some(2),
        "no wider key exists"
    );
}

#[tokio::test]
async fn an_expiring_key_never_creates_a_longer_lived_key_nor_revokes_a_wider_one() {
    let app = TestApp::spawn().await;
    let user = app.signup("ada@example.com").await;
    let in_a_day = (Utc::now() + Duration::days(1)).to_rfc3339();
    let parent = create_key(
        &app,
        &user.token,
        json!({"name": "p", "expires_at": in_a_day}),
    )
    .await;
    let parent_id = parent.body["id"].as_str().expect("id").to_owned();
    let parent = parent.body["secret"].as_str().expect("secret").to_owned();

    let in_a_year = (Utc::now() + Duration::days(365)).to_rfc3339();
    create_key(
        &app,
        &parent,
        json!({"name": "later", "expires_at": in_a_year}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    let child = create_key(&app, &parent, json!({"name": "child"})).await;
    assert_eq!(child.status, StatusCode::CREATED, "{}", child.body);
    assert_eq!(
        child.body["expires_at"]
            .as_str()
            .map(|t| t[..19].to_owned()),
        Some(in_a_day[..19].to_owned()),
        "a key that never expires would outlive its parent: it inherits the parent's expiry"
    );
    let child_id = child.body["id"].as_str().expect("id").to_owned();
    let child = child.body["secret"].as_str().expect("secret").to_owned();

    // A narrower or shorter-lived key cannot cut off a wider one …
    let never = create_key(&app, &user.token, json!({"name": "never"})).await;
    let never_id = never.body["id"].as_str().expect("id").to_owned();
    app.delete(&format!("/api/v1/api-keys/{never_id}"), &parent)
        .await
        .problem(StatusCode::FORBIDDEN);
    // … but a key may revoke keys within its reach, itself included.
    let revoked = app
        .delete(&format!("/api/v1/api-keys/{child_id}"), &parent)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    app.get("/api/v1/me", &child)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let own = app
        .delete(&format!("/api/v1/api-keys/{parent_id}"), &parent)
        .await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);
    // A login session manages every key.
    let by_session = app
        .delete(&format!("/api/v1/api-keys/{never_id}"), &user.token)
        .await;
    assert_eq!(by_session.status, StatusCode::NO_CONTENT);
}
