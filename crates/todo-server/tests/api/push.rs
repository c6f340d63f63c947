//! Web Push: the VAPID key, subscriptions (validation, bounds, ownership), and a reminder
//! pushed by the job worker to a push service on loopback, whose request is decrypted and
//! whose VAPID token is verified here.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use todo_core::push::Pusher;
use todo_server::push::{VapidKey, WebPusher};
use todo_server::{AppState, Settings};
use tokio_util::sync::CancellationToken;
use web_push_native::p256;
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::helpers::{TestApp, TestUser, auth_settings, fast_jobs};

const SUBSCRIPTIONS: &str = "/api/v1/push/subscriptions";
/// A public address (nothing is sent to it: these tests run no worker, or push to loopback).
const PUBLIC_ENDPOINT: &str = "https://93.184.216.34/push/";

/// A browser's keys: its P-256 key pair and authentication secret.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Self {
        let secret = loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        Self {
            secret,
            auth: rand::random(),
        }
    }

    fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    fn subscription(&self, endpoint: &str) -> Value {
        json!({
            "endpoint": endpoint,
            "keys": {"p256dh": self.p256dh(), "auth": URL_SAFE_NO_PAD.encode(self.auth)},
        })
    }

    fn decrypt(&self, body: &[u8]) -> Value {
        let auth = web_push_native::Auth::from(self.auth);
        let plain = web_push_native::decrypt(body.to_vec(), &self.secret, &auth).expect("decrypts");
        serde_json::from_slice(&plain).expect("JSON payload")
    }
}

/// A replica that pushes (its own VAPID key) and, when `allow_private`, lets endpoints be on
/// loopback over plain http.
fn pushing_replica(app: &TestApp, allow_private: bool) -> TestApp {
    let key = VapidKey::parse(&VapidKey::generate()).expect("key");
    let client = todo_server::jobs::delivery_client(&fast_jobs(), allow_private, "todo-push")
        .expect("client");
    let pusher = WebPusher::new(key, "mailto:ops@example.com".into(), client, allow_private);
    let todo = app
        .todo
        .clone()
        .with_private_webhooks(allow_private)
        .with_pusher(Some(Arc::new(pusher) as Arc<dyn Pusher>));
    let state = AppState::new(todo.clone(), &Settings::new(auth_settings())).expect("settings");
    TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: app.db.clone(),
    }
}

async fn subscribe(app: &TestApp, user: &TestUser, body: Value) -> crate::helpers::TestResponse {
    app.post(SUBSCRIPTIONS, &user.token, body).await
}

#[tokio::test]
async fn the_public_key_is_the_senders_and_needs_a_credential() {
    let app = TestApp::spawn().await;
    let push = pushing_replica(&app, false);
    let ada = app.signup("ada@example.com").await;
    let key = push.get("/api/v1/push/vapid-public-key", &ada.token).await;
    assert_eq!(key.status, StatusCode::OK);
    let public = key.body["public_key"].as_str().expect("key");
    assert_eq!(Some(public), push.todo.push_public_key());
    let point = URL_SAFE_NO_PAD.decode(public).expect("base64url");
    assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok() && point.len() == 65);

    let anonymous = push
        .send(
            axum::http::Method::GET,
            "/api/v1/push/vapid-public-key",
            None,
            None,
        )
        .await;
    anonymous.problem(StatusCode::UNAUTHORIZED);
    let anonymous = push
        .send(axum::http::Method::GET, SUBSCRIPTIONS, None, None)
        .await;
    anonymous.problem(StatusCode::UNAUTHORIZED);
    // A server that does not push says so.
    app.get("/api/v1/push/vapid-public-key", &ada.token)
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_subscription_is_listed_without_its_keys_and_deleted_by_its_owner_only() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let browser = Browser::new();
    let endpoint = format!("{PUBLIC_ENDPOINT}ada");
    let created = subscribe(&app, &ada, browser.subscription(&endpoint)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(created.body["endpoint"], endpoint);
    assert_eq!(
        created.header("location"),
        Some(format!("{SUBSCRIPTIONS}/{id}").as_str())
    );

    let listed = app.get(SUBSCRIPTIONS, &ada.token).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body[0]["id"], id);
    assert!(listed.body[0]["created_at"].is_string());
    assert!(listed.body[0].get("keys").is_none() && listed.body[0].get("auth").is_none());
    assert_eq!(app.get(SUBSCRIPTIONS, &bob.token).await.body, json!([]));

    let path = format!("{SUBSCRIPTIONS}/{id}");
    app.delete(&path, &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.delete(&path, &ada.token).await.status,
        StatusCode::NO_CONTENT
    );
    app.delete(&path, &ada.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(app.get(SUBSCRIPTIONS, &ada.token).await.body, json!([]));
}

#[tokio::test]
async fn an_endpoint_subscribed_again_keeps_its_row_and_moves_to_the_account_that_subscribed_it() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let endpoint = format!("{PUBLIC_ENDPOINT}shared-laptop");
    let first = subscribe(&app, &ada, Browser::new().subscription(&endpoint)).await;
    assert_eq!(first.status, StatusCode::CREATED);

    // The same browser profile again, new keys: the same subscription, 200.
    let again = subscribe(&app, &ada, Browser::new().subscription(&endpoint)).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body["id"], first.body["id"]);

    // Bob signs in on that browser and subscribes it: it is his now, not Ada's.
    let moved = subscribe(&app, &bob, Browser::new().subscription(&endpoint)).await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    assert_eq!(app.get(SUBSCRIPTIONS, &ada.token).await.body, json!([]));
    let bobs = app.get(SUBSCRIPTIONS, &bob.token).await;
    assert_eq!(bobs.body[0]["endpoint"], endpoint);
}

#[tokio::test]
async fn bad_subscriptions_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let browser = Browser::new();
    let good_auth = URL_SAFE_NO_PAD.encode(browser.auth);
    let endpoint = format!("{PUBLIC_ENDPOINT}x");
    let with_keys = |endpoint: &str, p256dh: &str, auth: &str| json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}});
    let fields = |response: crate::helpers::TestResponse| response.invalid_fields();

    // Keys of the wrong length, a point off the curve, not base64url.
    let short_key = URL_SAFE_NO_PAD.encode([4u8; 33]);
    let mut off_curve = URL_SAFE_NO_PAD.decode(browser.p256dh()).expect("b64");
    off_curve[64] ^= 1;
    let off_curve = URL_SAFE_NO_PAD.encode(off_curve);
    for (p256dh, auth, expected) in [
        (short_key.as_str(), good_auth.as_str(), vec!["keys.p256dh"]),
        (off_curve.as_str(), good_auth.as_str(), vec!["keys.p256dh"]),
        ("not base64!", "AAAA", vec!["keys.p256dh", "keys.auth"]),
        (
            browser.p256dh().as_str(),
            URL_SAFE_NO_PAD.encode([1u8; 15]).as_str(),
            vec!["keys.auth"],
        ),
    ] {
        let response = subscribe(&app, &ada, with_keys(&endpoint, p256dh, auth)).await;
        assert_eq!(fields(response), expected, "{p256dh} {auth}");
    }
    let p256dh = browser.p256dh();
    // Endpoints: plain http, loopback, too long, not a URL.
    let too_long = format!("{PUBLIC_ENDPOINT}{}", "a".repeat(2048));
    for bad in [
        "http://93.184.216.34/push/x",
        "https://127.0.0.1/push/x",
        too_long.as_str(),
        "push-service",
    ] {
        let response = subscribe(&app, &ada, with_keys(bad, &p256dh, &good_auth)).await;
        assert_eq!(fields(response), ["endpoint"], "{bad}");
    }
    assert_eq!(app.get(SUBSCRIPTIONS, &ada.token).await.body, json!([]));

    // Where the operator allows private networks, plain http on loopback is fine.
    let open = pushing_replica(&app, true);
    let local = subscribe(
        &open,
        &ada,
        with_keys("http://127.0.0.1:9/push", &p256dh, &good_auth),
    )
    .await;
    assert_eq!(local.status, StatusCode::CREATED, "{}", local.body);
}

#[tokio::test]
async fn a_twenty_first_subscription_is_refused_until_one_is_deleted() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let browser = Browser::new();
    let mut first = None;
    for n in 0..20 {
        let created = subscribe(
            &app,
            &ada,
            browser.subscription(&format!("{PUBLIC_ENDPOINT}{n}")),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        first.get_or_insert(created.body["id"].as_i64().expect("id"));
    }
    let over = subscribe(
        &app,
        &ada,
        browser.subscription(&format!("{PUBLIC_ENDPOINT}20")),
    )
    .await;
    let problem = over.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("20")),
        "{problem}"
    );
    // One already subscribed may still be subscribed again.
    let again = subscribe(
        &app,
        &ada,
        browser.subscription(&format!("{PUBLIC_ENDPOINT}3")),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);

    let first = first.expect("first");
    app.delete(&format!("{SUBSCRIPTIONS}/{first}"), &ada.token)
        .await;
    let now_fits = subscribe(
        &app,
        &ada,
        browser.subscription(&format!("{PUBLIC_ENDPOINT}20")),
    )
    .await;
    assert_eq!(now_fits.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_read_only_key_lists_but_cannot_subscribe_or_unsubscribe() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let created = subscribe(
        &app,
        &ada,
        Browser::new().subscription(&format!("{PUBLIC_ENDPOINT}a")),
    )
    .await;
    let id = created.body["id"].as_i64().expect("id");
    let key = app
        .post(
            "/api/v1/api-keys",
            &ada.token,
            json!({"name": "reader", "scopes": ["read"]}),
        )
        .await;
    let reader = key.body["secret"].as_str().expect("secret");
    assert_eq!(app.get(SUBSCRIPTIONS, reader).await.status, StatusCode::OK);
    app.post(
        SUBSCRIPTIONS,
        reader,
        Browser::new().subscription(&format!("{PUBLIC_ENDPOINT}b")),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    app.delete(&format!("{SUBSCRIPTIONS}/{id}"), reader)
        .await
        .problem(StatusCode::FORBIDDEN);
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A push service on loopback: records each request and answers `answers` in turn (the last
/// one from then on).
async fn push_service(answers: Vec<StatusCode>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let service = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let record = record.clone();
            let answers = answers.clone();
            async move {
                let mut seen = record.lock().expect("lock");
                seen.push((headers, body.to_vec()));
                answers
                    .get(seen.len() - 1)
                    .or(answers.last())
                    .copied()
                    .unwrap_or(StatusCode::CREATED)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, service).await });
    (base, seen)
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not in time"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>`: the key is the published one and the
/// ES256 token verifies with it, for this audience, expiring within 24 hours.
fn check_vapid(headers: &HeaderMap, public_key: &str, audience: &str) {
    let authorization = headers["authorization"].to_str().expect("ascii");
    let rest = authorization.strip_prefix("vapid ").expect("vapid scheme");
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(t) = part.strip_prefix("t=") {
            token = Some(t);
        } else if let Some(k) = part.strip_prefix("k=") {
            key = Some(k);
        }
    }
    assert_eq!(key, Some(public_key));
    let point = URL_SAFE_NO_PAD.decode(public_key).expect("b64");
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..]),
    );
    let decoding = jsonwebtoken::DecodingKey::from_ec_components(&x, &y).expect("key");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(token.expect("t="), &decoding, &validation)
        .expect("the token verifies")
        .claims;
    let exp = claims["exp"].as_i64().expect("exp");
    let now = chrono::Utc::now().timestamp();
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}");
    assert_eq!(claims["sub"], "mailto:ops@example.com");
}

#[tokio::test]
async fn a_due_reminder_is_pushed_encrypted_and_signed_and_a_gone_subscription_is_dropped() {
    let app = TestApp::spawn().await;
    let push = pushing_replica(&app, true);
    let ada = app.signup("ada@example.com").await;
    let (base, seen) = push_service(vec![StatusCode::CREATED, StatusCode::GONE]).await;
    let browser = Browser::new();
    let subscribed = subscribe(
        &push,
        &ada,
        browser.subscription(&format!("{base}/push/ada")),
    )
    .await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{}",
        subscribed.body
    );
    let public_key = push
        .get("/api/v1/push/vapid-public-key", &ada.token)
        .await
        .body["public_key"]
        .as_str()
        .expect("key")
        .to_owned();

    let stop = CancellationToken::new();
    let worker =
        todo_server::jobs::spawn(push.todo.clone(), fast_jobs(), stop.clone()).expect("worker");
    let now = chrono::Utc::now();
    let created = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Water the ferns", "reminders": [{"remind_at": now}]}),
        )
        .await;
    let task_id = created.body["id"].as_i64().expect("id");
    until("the push", async || !seen.lock().expect("lock").is_empty()).await;
    let (headers, body) = seen.lock().expect("lock")[0].clone();
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert_eq!(headers["ttl"], "86400");
    assert_eq!(headers["urgency"], "high");
    check_vapid(&headers, &public_key, &base);
    let payload = browser.decrypt(&body);
    assert_eq!(payload["task_id"], task_id);
    assert_eq!(payload["title"], "Water the ferns");
    assert_eq!(payload["body"], "Reminder");

    // The push service answers the next one 410 Gone: the subscription is dropped.
    app.post(
        "/api/v1/tasks",
        &ada.token,
        json!({"title": "Second", "reminders": [{"remind_at": now}]}),
    )
    .await;
    until("the subscription dropped", async || {
        app.get(SUBSCRIPTIONS, &ada.token).await.body == json!([])
    })
    .await;
    assert_eq!(
        seen.lock().expect("lock").len(),
        2,
        "one push each, no retry"
    );
    stop.cancel();
    worker.await.expect("worker stops");
}
