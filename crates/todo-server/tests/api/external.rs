//! Tokens from an external issuer (Better Auth's shared secret, or a JWKS URL).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use todo_core::chat::model::Secret;
use todo_server::{AppState, AuthSettings, Settings};

use crate::helpers::{TestApp, auth_settings};

const SHARED: &str = "better-auth-shared-secret-of-32-bytes-or-more";

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

fn better_auth_settings() -> AuthSettings {
    let mut settings = auth_settings();
    settings.external.shared_secret = Some(Secret::new(SHARED));
    settings
}

async fn better_auth_app() -> TestApp {
    TestApp::spawn_with(better_auth_settings()).await
}

/// The local id of the account a token acts as.
async fn user_of(app: &TestApp, token: &str) -> String {
    let me = app.get("/api/v1/me", token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    me.body["id"].as_str().expect("id").to_owned()
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
    assert_eq!(me.body["email"], "ext@example.com");
    let id = me.body["id"].as_str().expect("id").to_owned();
    assert_ne!(id, "ba_123", "the subject is never the local id");
    let created = app
        .post(
            "/api/v1/tasks",
            &token,
            json!({"title": "from Better Auth"}),
        )
        .await;
    assert_eq!(created.body["user_id"], id.as_str());
    assert_eq!(
        user_of(&app, &token).await,
        id,
        "second sight reuses the user"
    );
    assert_eq!(app.todo.list_users().await.expect("users").len(), 1);
}

#[tokio::test]
async fn the_subject_comes_from_sub_then_user_id_then_id() {
    let app = better_auth_app().await;
    for (claims, subject) in [
        (
            json!({"user_id": "from-user-id", "exp": in_ten_minutes()}),
            json!("from-user-id"),
        ),
        (json!({"id": 42, "exp": in_ten_minutes()}), json!("42")),
        (
            json!({"sub": "from-sub", "user_id": "ignored", "exp": in_ten_minutes()}),
            json!("from-sub"),
        ),
    ] {
        let by_claim = user_of(&app, &hs256(&claims, SHARED)).await;
        let by_sub = hs256(&json!({"sub": subject, "exp": in_ten_minutes()}), SHARED);
        assert_eq!(by_claim, user_of(&app, &by_sub).await, "{claims}");
    }
    assert_eq!(app.todo.list_users().await.expect("users").len(), 3);
}

#[tokio::test]
async fn a_token_whose_subject_is_a_local_users_id_never_acts_as_that_user() {
    let app = better_auth_app().await;
    let victim = app.signup("victim@example.com").await;
    app.post(
        "/api/v1/tasks",
        &victim.token,
        json!({"title": "victim's secret"}),
    )
    .await;
    let attacker = hs256(&json!({"sub": victim.id, "exp": in_ten_minutes()}), SHARED);

    assert_ne!(user_of(&app, &attacker).await, victim.id);
    let tasks = app.get("/api/v1/tasks", &attacker).await;
    assert_eq!(tasks.body, json!([]), "the victim's tasks stay hidden");
    let key = app
        .post("/api/v1/api-keys", &attacker, json!({"name": "mine"}))
        .await;
    let secret = key.body["secret"].as_str().expect("secret");
    assert_ne!(user_of(&app, secret).await, victim.id);
    assert_eq!(
        app.get("/api/v1/api-keys", &victim.token).await.body,
        json!([]),
        "no key was minted for the victim"
    );
}

#[tokio::test]
async fn hostile_subjects_get_accounts_of_their_own_or_are_refused() {
    let app = better_auth_app().await;
    let victim = app.signup("victim@example.com").await;
    let long = "é".repeat(127);
    for subject in [
        format!("{}'", victim.id),
        format!(" {}", victim.id),
        "quote' OR 1=1; --\\".to_owned(),
        "日本語の利用者".to_owned(),
        "x".repeat(255),
        long,
    ] {
        let token = hs256(&json!({"sub": subject, "exp": in_ten_minutes()}), SHARED);
        let id = user_of(&app, &token).await;
        assert_ne!(id, victim.id, "{subject:?}");
        assert_eq!(user_of(&app, &token).await, id, "{subject:?} is stable");
    }
    for subject in [
        format!("{}\u{0}", victim.id),
        "tab\there".to_owned(),
        "x".repeat(256),
        String::new(),
    ] {
        let token = hs256(&json!({"sub": subject, "exp": in_ten_minutes()}), SHARED);
        app.get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn external_tokens_that_are_forged_expired_or_anonymous_are_refused() {
    let app = better_auth_app().await;
    let now = chrono::Utc::now().timestamp();
    for token in [
        hs256(
            &json!({"sub": "x", "exp": in_ten_minutes()}),
            "some other secret of at least thirty-two bytes",
        ),
        hs256(&json!({"sub": "x", "exp": now - 3600}), SHARED),
        hs256(&json!({"sub": "x"}), SHARED),
        hs256(
            &json!({"email": "nobody@example.com", "exp": in_ten_minutes()}),
            SHARED,
        ),
        // Not valid yet.
        hs256(
            &json!({"sub": "x", "nbf": now + 600, "exp": now + 1200}),
            SHARED,
        ),
        // Valid for 30 years: longer than AUTH_MAX_TOKEN_LIFETIME_SECS (a day).
        hs256(
            &json!({"sub": "x", "iat": now, "exp": now + 30 * 365 * 86_400}),
            SHARED,
        ),
        hs256(&json!({"sub": "x", "exp": now + 2 * 86_400}), SHARED),
    ] {
        app.get("/api/v1/me", &token)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert!(app.todo.list_users().await.expect("users").is_empty());
    let fresh = hs256(
        &json!({"sub": "x", "nbf": now - 5, "iat": now, "exp": now + 3600}),
        SHARED,
    );
    user_of(&app, &fresh).await;
}

#[tokio::test]
async fn a_configured_issuer_and_audience_are_required_and_checked() {
    let mut settings = better_auth_settings();
    settings.external.issuer = Some("https://auth.example.com".into());
    settings.external.audience = Some("todo".into());
    let app = TestApp::spawn_with(settings).await;
    let exp = in_ten_minutes();
    for claims in [
        json!({"sub": "x", "exp": exp}),
        json!({"sub": "x", "exp": exp, "iss": "https://auth.example.com"}),
        json!({"sub": "x", "exp": exp, "aud": "todo"}),
        json!({"sub": "x", "exp": exp, "iss": "https://evil.example.com", "aud": "todo"}),
        json!({"sub": "x", "exp": exp, "iss": "https://auth.example.com", "aud": "other"}),
    ] {
        app.get("/api/v1/me", &hs256(&claims, SHARED))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    let good = json!({"sub": "x", "exp": exp, "iss": "https://auth.example.com", "aud": ["other", "todo"]});
    user_of(&app, &hs256(&good, SHARED)).await;
}

#[tokio::test]
async fn secrets_under_32_bytes_are_refused_at_start() {
    let todo = todo_core::Todo::new(todo_testkit::sqlite().await.store);
    for (jwt, shared) in [
        ("", None),
        ("short", None),
        ("test-secret-test-secret-test-secret", Some("")),
        (
            "test-secret-test-secret-test-secret",
            Some("31-bytes-31-bytes-31-bytes-31-b"),
        ),
    ] {
        let mut auth = auth_settings();
        auth.jwt_secret = Secret::new(jwt);
        auth.external.shared_secret = shared.map(Secret::new);
        let Err(message) = AppState::new(todo.clone(), &Settings::new(auth)) else {
            panic!("{jwt:?} / {shared:?} was accepted");
        };
        assert!(message.contains("at least 32"), "{message}");
    }
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
    assert_ne!(me.body["id"], local.id.as_str());
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
async fn an_eddsa_token_is_verified_with_keys_from_the_jwks_url_in_a_namespace_of_its_own() {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("pair");
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    let url = serve_jwks(json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"}]})).await;
    let mut settings = better_auth_settings();
    settings.external.jwks_url = Some(url);
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
    assert_eq!(me.body["email"], "oidc@example.com");
    let same_subject_other_root =
        hs256(&json!({"sub": "oidc|77", "exp": in_ten_minutes()}), SHARED);
    assert_ne!(
        user_of(&app, &same_subject_other_root).await,
        me.body["id"].as_str().expect("id"),
        "subjects of different trust roots never meet"
    );
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
