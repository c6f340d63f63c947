//! Password reset: the request says nothing about who has an account; a token works once,
//! within its hour, and ends every session. Tokens are stored hashed, so these tests store a
//! reset of their own (as the API key tests store an expired key); the email itself is
//! checked against a real SMTP server in tests/mail.

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::json;
use todo_core::api_key::hash_secret;

use crate::helpers::TestApp;

async fn stored_reset(app: &TestApp, user_id: &str, token: &str, expires_in: Duration) {
    let now = Utc::now();
    app.db
        .store
        .insert_password_reset(
            &hash_secret(token),
            &user_id.to_owned().into(),
            now,
            now + expires_in,
        )
        .await
        .expect("insert");
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> crate::helpers::TestResponse {
    let body = json!({"token": token, "new_password": password});
    app.send(
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        None,
        Some(body),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> StatusCode {
    let body = json!({"email": email, "password": password});
    app.send(Method::POST, "/api/v1/auth/login", None, Some(body))
        .await
        .status
}

#[tokio::test]
async fn a_request_is_accepted_whether_or_not_the_address_has_an_account() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com").await;
    for email in ["ada@example.com", "nobody@example.com", "not an address"] {
        let response = app
            .send(
                Method::POST,
                "/api/v1/auth/password-reset",
                None,
                Some(json!({ "email": email })),
            )
            .await;
        assert_eq!(response.status, StatusCode::ACCEPTED, "{email}");
    }
}

#[tokio::test]
async fn a_token_sets_the_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    stored_reset(&app, &ada.id, "reset-token-1", Duration::hours(1)).await;

    let response = confirm(&app, "reset-token-1", "a brand new password").await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
    app.get("/api/v1/me", &ada.token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&app, "ada@example.com", "a brand new password").await,
        StatusCode::OK
    );
    assert_eq!(
        login(&app, "ada@example.com", "correct horse battery").await,
        StatusCode::UNAUTHORIZED
    );

    let again = confirm(&app, "reset-token-1", "yet another password").await;
    again.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.invalid_fields(), ["token"]);
}

#[tokio::test]
async fn an_expired_or_unknown_token_is_refused() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    stored_reset(&app, &ada.id, "old-token", -Duration::minutes(1)).await;
    for token in ["old-token", "never-issued"] {
        let response = confirm(&app, token, "a brand new password").await;
        response.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.invalid_fields(), ["token"], "{token}");
    }
    assert_eq!(
        app.get("/api/v1/me", &ada.token).await.status,
        StatusCode::OK,
        "nothing changed"
    );
}

#[tokio::test]
async fn a_weak_password_does_not_use_up_the_token() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    stored_reset(&app, &ada.id, "token-2", Duration::hours(1)).await;
    let weak = confirm(&app, "token-2", "short").await;
    weak.problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.invalid_fields(), ["new_password"]);
    let response = confirm(&app, "token-2", "a long enough password").await;
    assert_eq!(response.status, StatusCode::NO_CONTENT, "{}", response.body);
}

fn text(response: &crate::helpers::TestResponse) -> String {
    response.body.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn without_smtp_the_web_app_offers_no_reset_and_says_why() {
    use axum::body::Body;
    use axum::http::Request;
    let app = TestApp::spawn().await;
    let login = app
        .raw(Request::get("/login").body(Body::empty()).expect("request"))
        .await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(
        !text(&login).contains("/forgot-password"),
        "{}",
        text(&login)
    );
    let forgot = app
        .raw(
            Request::get("/forgot-password")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(forgot.status, StatusCode::OK);
    assert!(
        text(&forgot).contains("sends no email"),
        "{}",
        text(&forgot)
    );
    assert!(!text(&forgot).contains("action=\"/forgot-password\""));
}
