//! Tokens from an external issuer (Better Auth's shared secret, or a JWKS URL).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{TestApp, auth_settings};

const SHARED: &str = "better-auth-shared-secret";

fn in_ten_minutes() -> i64 {
    chrono::Utc::now().timestamp() + 600
}

fn hs256(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

async fn better_auth_app() -> TestApp {
    let mut settings = auth_settings();
    settings.better_auth_secret = Some(SHARED.into());
    TestApp::spawn_with(settings).await
}

#[tokio::test]
async fn a_better_auth_token_creates_its_user_on_first_sight() {
    let app = better_auth_app().await;
    let token = hs256(
        &json!({"sub": "ba_123", "email": "Ext@Example.com", "name": "Ext", "exp": in_ten_minutes()}),
        SHARED,
    );

    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        (me.body["id"].as_str(), me.body["email"].as_str()),
        (Some("ba_123"), Some("ext@example.com"))
    );
    let created = app
        .post(
            "/api/v1/tasks",
            &token,
            json!({"title": "from Better Auth"}),
        )
        .await;
    assert_eq!(created.body["user_id"], "ba_123");
    assert_eq!(
        app.get("/api/v1/me", &token).await.body["id"],
        "ba_123",
        "second sight reuses the user"
    );
    assert_eq!(app.todo.list_users().await.expect("users").len(), 1);
}

#[tokio::test]
async fn the_user_id_comes_from_sub_then_user_id_then_id() {
    let app = better_auth_app().await;
    for (claims, expected) in [
        (
            json!({"user_id": "from-user-id", "exp": in_ten_minutes()}),
            "from-user-id",
        ),
        (json!({"id": 42, "exp": in_ten_minutes()}), "42"),
        (
            json!({"sub": "from-sub", "user_id": "ignored", "exp": in_ten_minutes()}),
            "from-sub",
        ),
    ] {
        let me = app.get("/api/v1/me", &hs256(&claims, SHARED)).await;
        assert_eq!(me.body["id"], expected, "{claims}");
    }
}

#[tokio::test]
async fn external_tokens_that_are_forged_expired_or_anonymous_are_refused() {
    let app = better_auth_app().await;
    let expired = chrono::Utc::now().timestamp() - 3600;
    for token in [
        hs256(
            &json!({"sub": "x", "exp": in_ten_minutes()}),
            "some other secret",
        ),
        hs256(&json!({"sub": "x", "exp": expired}), SHARED),
        hs256(&json!({"sub": "x"}), SHARED),
        hs256(
            &json!({"email": "nobody@example.com", "exp": in_ten_minutes()}),
            SHARED,
        ),
    ] {
        app.get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert!(app.todo.list_users().await.expect("users").is_empty());
}

#[tokio::test]
async fn an_external_user_never_takes_over_a_local_accounts_email() {
    let app = better_auth_app().await;
    let local = app.signup("ada@example.com").await;
    let token = hs256(
        &json!({"sub": "ext-ada", "email": "ada@example.com", "exp": in_ten_minutes()}),
        SHARED,
    );
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.body["id"], "ext-ada");
    assert_eq!(me.body["email"], Value::Null);
    assert_eq!(
        app.get("/api/v1/me", &local.token).await.body["email"],
        "ada@example.com"
    );
}

#[tokio::test]
async fn external_tokens_are_refused_when_no_issuer_is_configured() {
    let app = TestApp::spawn().await;
    let token = hs256(&json!({"sub": "ba_123", "exp": in_ten_minutes()}), SHARED);
    app.get("/api/v1/me", &token)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks` and returns that URL.
async fn serve_jwks(jwks: Value) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    let router = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || async move { axum::Json(jwks) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[tokio::test]
async fn an_eddsa_token_is_verified_with_keys_from_the_jwks_url() {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let url = serve_jwks(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"}]})).await;
    let mut settings = auth_settings();
    settings.jwks_url = Some(url);
    let app = TestApp::spawn_with(settings).await;

    let sign = |kid: &str| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        let claims =
            json!({"sub": "oidc|77", "email": "oidc@example.com", "exp": in_ten_minutes()});
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(pkcs8.as_ref()))
            .expect("sign")
    };
    let me = app.get("/api/v1/me", &sign("k1")).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["id"], "oidc|77");
    app.get("/api/v1/me", &sign("unknown-kid"))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    let other = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"sub": "oidc|77", "exp": in_ten_minutes()}),
        &EncodingKey::from_ed_der(other.as_ref()),
    )
    .expect("sign");
    app.get("/api/v1/me", &forged)
        .await
        .problem(StatusCode::UNAUTHORIZED);
}
