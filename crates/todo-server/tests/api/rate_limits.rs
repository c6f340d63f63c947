//! Rate limits: per user or per client address, 429 with `Retry-After` and `RateLimit-*`
//! headers, shared through Redis, and what happens when Redis goes away.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use todo_core::chat::model::Secret;
use todo_server::Settings;
use todo_server::client_ip::TrustedProxies;
use todo_testkit::RedisServer;

use crate::helpers::{TestApp, TestResponse, TestUser, auth_settings};

fn settings(configure: impl FnOnce(&mut Settings)) -> Settings {
    let mut settings = Settings::new(auth_settings());
    configure(&mut settings);
    settings
}

async fn create(app: &TestApp, user: &TestUser) -> TestResponse {
    app.post("/api/v1/tasks", &user.token, json!({"title": "t"}))
        .await
}

#[tokio::test]
async fn writes_beyond_the_limit_get_429_with_retry_after_and_ratelimit_headers() {
    let app = TestApp::spawn_configured(settings(|s| s.rate_limit.writes_per_minute = 3)).await;
    let user = app.signup("ada@example.com").await;

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = create(&app, &user).await;
        assert_eq!(response.status, StatusCode::CREATED);
        assert_eq!(
            response.header("ratelimit-policy"),
            Some("\"writes\";q=3;w=60")
        );
        remaining.push(response.header("ratelimit").map(str::to_owned));
    }
    assert!(
        remaining[2]
            .as_deref()
            .is_some_and(|v| v.starts_with("\"writes\";r=0;t="))
    );
    assert!(
        remaining[0]
            .as_deref()
            .is_some_and(|v| v.starts_with("\"writes\";r=2;t="))
    );

    let refused = create(&app, &user).await;
    let problem = refused.problem(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem["type"], "urn:todo:problem:rate-limited");
    let retry_after: u64 = refused
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        refused
            .header("ratelimit")
            .is_some_and(|v| v.contains(";r=0;"))
    );
}

#[tokio::test]
async fn each_user_has_a_quota_of_their_own_and_reads_are_counted_apart() {
    let app = TestApp::spawn_configured(settings(|s| s.rate_limit.writes_per_minute = 1)).await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;

    assert_eq!(create(&app, &alice).await.status, StatusCode::CREATED);
    assert_eq!(
        create(&app, &alice).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(create(&app, &bob).await.status, StatusCode::CREATED);
    let read = app.get("/api/v1/tasks", &alice.token).await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(
        read.header("ratelimit-policy")
            .is_some_and(|v| v.starts_with("\"reads\""))
    );
}

#[tokio::test]
async fn login_attempts_are_limited_per_client_address_and_probes_never_are() {
    let app = TestApp::spawn_configured(settings(|s| s.rate_limit.auth_per_minute = 2)).await;
    let attempt = json!({"email": "nobody@example.com", "password": "guess guess"});
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = app
            .send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(attempt.clone()),
            )
            .await;
        statuses.push(response.status);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    for path in ["/health", "/ready", "/metrics"] {
        let response = app.send(Method::GET, path, None, None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert!(response.header("ratelimit").is_none(), "{path}");
    }
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = TestApp::spawn_configured(settings(|s| {
        s.rate_limit.enabled = false;
        s.rate_limit.writes_per_minute = 1;
    }))
    .await;
    let user = app.signup("ada@example.com").await;
    for _ in 0..3 {
        let response = create(&app, &user).await;
        assert_eq!(response.status, StatusCode::CREATED);
        assert!(response.header("ratelimit").is_none());
    }
}

#[tokio::test]
async fn replicas_sharing_redis_share_one_quota() {
    let Some(redis_url) = todo_testkit::redis_url().await else {
        return;
    };
    let prefix = todo_testkit::unique_prefix();
    let shared = || {
        settings(|s| {
            s.redis_url = Some(Secret::new(redis_url.clone()));
            s.rate_limit.key_prefix = prefix.clone();
            s.rate_limit.writes_per_minute = 4;
        })
    };
    let first = TestApp::spawn_configured(shared()).await;
    let second = first.replica(&shared());
    let user = first.signup("ada@example.com").await;

    let mut created = 0;
    for i in 0..8 {
        let app = if i % 2 == 0 { &first } else { &second };
        if create(app, &user).await.status == StatusCode::CREATED {
            created += 1;
        }
    }
    assert_eq!(created, 4, "4 writes a minute in total, not 4 per replica");
}

#[tokio::test]
async fn with_redis_stopped_mid_load_no_request_fails_and_limits_return_with_it() {
    let Some(mut redis) = RedisServer::start().await else {
        return;
    };
    let app = Arc::new(
        TestApp::spawn_configured(settings(|s| {
            s.redis_url = Some(Secret::new(redis.url.clone()));
            s.rate_limit.reads_per_minute = 1_000_000;
            s.rate_limit.writes_per_minute = 3;
        }))
        .await,
    );
    let user = app.signup("ada@example.com").await;

    // Eight clients read continuously; every read is checked against Redis.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (app, token, stop, done) =
                (app.clone(), user.token.clone(), stop.clone(), done.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let response = app.get("/api/v1/tasks", &token).await;
                    if response.status != StatusCode::OK {
                        failures.push(response.status);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                failures
            })
        })
        .collect();
    let wait_for_more = |n: usize| {
        let done = done.clone();
        async move {
            let target = done.load(Ordering::Relaxed) + n;
            for _ in 0..1000 {
                if done.load(Ordering::Relaxed) >= target {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            panic!("the load stalled");
        }
    };

    wait_for_more(50).await;
    redis.stop();
    wait_for_more(200).await;
    let ready = app.send(Method::GET, "/ready", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "fail open keeps the replica ready"
    );
    assert_eq!(ready.body["redis"], "unreachable");

    redis.restart().await;
    let mut back = false;
    for _ in 0..100 {
        let ready = app.send(Method::GET, "/ready", None, None).await;
        if ready.body["redis"] == "ok" {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "/ready never saw Redis again");
    wait_for_more(50).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let failures = worker.await.expect("worker");
        assert!(failures.is_empty(), "requests failed: {failures:?}");
    }

    let statuses: Vec<_> = futures_statuses(&app, &user, 4).await;
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "limits apply again once Redis is back"
    );
}

async fn futures_statuses(app: &TestApp, user: &TestUser, n: usize) -> Vec<StatusCode> {
    let mut statuses = Vec::new();
    for _ in 0..n {
        statuses.push(create(app, user).await.status);
    }
    statuses
}

#[tokio::test]
async fn failing_closed_refuses_with_503_and_is_unready_while_redis_is_down() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let app = TestApp::spawn_configured(settings(|s| {
        s.redis_url = Some(Secret::new(format!("redis://127.0.0.1:{closed_port}")));
        s.rate_limit.fail_open = false;
    }))
    .await;
    let response = app
        .send(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
        )
        .await;
    let problem = response.problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(problem["type"], "urn:todo:problem:rate-limit-unavailable");
    let ready = app.send(Method::GET, "/ready", None, None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body["redis"], "unreachable");
}

/// A request as it reaches the router from a TCP peer at `peer` (what `serve` attaches).
async fn from_peer(
    app: &TestApp,
    peer: &str,
    uri: &str,
    token: Option<&str>,
    forwarded_for: Option<&str>,
    body: &Value,
) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(hops) = forwarded_for {
        request = request.header("x-forwarded-for", hops);
    }
    let mut request = request.body(Body::from(body.to_string())).expect("request");
    let addr: SocketAddr = format!("{peer}:40000").parse().expect("peer address");
    request.extensions_mut().insert(ConnectInfo(addr));
    app.raw(request).await
}

fn guess(email: &str) -> Value {
    json!({"email": email, "password": "guess guess"})
}

/// The probe's bypass: valid tokens (several users', or none) riding along on login attempts
/// each got a bucket of their own. Sign-in is keyed by address whatever comes with it.
#[tokio::test]
async fn a_valid_token_on_a_login_attempt_does_not_escape_the_per_address_limit() {
    let app = TestApp::spawn().await;
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let tokens = [None, Some(alice.token.as_str()), Some(bob.token.as_str())];

    let mut statuses = Vec::new();
    for i in 0..11 {
        // A different account each time: only the per-address limit is in play.
        let email = format!("target{i}@example.com");
        let token = tokens[i % tokens.len()];
        let response = from_peer(
            &app,
            "203.0.113.5",
            "/api/v1/auth/login",
            token,
            None,
            &guess(&email),
        )
        .await;
        statuses.push(response.status);
    }
    assert!(
        statuses[..10]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(
        statuses[10],
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMIT_AUTH is 10"
    );

    // Signing up is the same policy, the same bucket, the same answer.
    let signup = from_peer(
        &app,
        "203.0.113.5",
        "/api/v1/auth/signup",
        Some(&alice.token),
        None,
        &json!({"email": "new@example.com", "password": "correct horse battery"}),
    )
    .await;
    signup.problem(StatusCode::TOO_MANY_REQUESTS);

    // Another address has its own quota.
    let elsewhere = from_peer(
        &app,
        "203.0.113.6",
        "/api/v1/auth/login",
        Some(&alice.token),
        None,
        &guess("target0@example.com"),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
}

/// A spray from many addresses at one account: each address is under its limit, the account
/// is not. The count is per account however the email is written, and shared by both doors.
#[tokio::test]
async fn login_attempts_at_one_account_are_limited_whatever_address_they_come_from() {
    let app = TestApp::spawn().await;
    app.signup("ada@example.com").await;

    for i in 0..10 {
        let email = if i % 2 == 0 {
            "ada@example.com"
        } else {
            "  ADA@Example.COM "
        };
        let response = from_peer(
            &app,
            &format!("198.51.100.{i}"),
            "/api/v1/auth/login",
            None,
            None,
            &guess(email),
        )
        .await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = from_peer(
        &app,
        "198.51.100.200",
        "/api/v1/auth/login",
        None,
        None,
        &json!({"email": "ada@example.com", "password": "correct horse battery"}),
    )
    .await;
    let problem = refused.problem(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem["type"], "urn:todo:problem:rate-limited");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("this account")),
        "{problem}"
    );
    assert!(refused.header("retry-after").is_some());

    // The web app's form counts against the same account.
    let mut form = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::HOST, "todo.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "email=ada%40example.com&password=correct+horse+battery",
        ))
        .expect("request");
    let addr: SocketAddr = "198.51.100.201:40000".parse().expect("addr");
    form.extensions_mut().insert(ConnectInfo(addr));
    app.raw(form).await.problem(StatusCode::TOO_MANY_REQUESTS);

    // Other accounts are not affected.
    let other = from_peer(
        &app,
        "198.51.100.202",
        "/api/v1/auth/login",
        None,
        None,
        &guess("someone.else@example.com"),
    )
    .await;
    assert_eq!(other.status, StatusCode::UNAUTHORIZED);
}

/// Behind a trusted proxy, a forwarded hop that is not an address is the client's key; it
/// does not fall back to the proxy's address, which every client would share.
#[tokio::test]
async fn unparsable_forwarded_hops_do_not_share_the_proxys_bucket() {
    let app = TestApp::spawn_configured(settings(|s| {
        s.rate_limit.auth_per_minute = 1;
        s.rate_limit.trusted_proxies = TrustedProxies::parse("10.0.0.0/8").expect("proxies");
    }))
    .await;
    let attempt = |hops: &'static str, n: usize| {
        let app = &app;
        async move {
            from_peer(
                app,
                "10.0.0.1",
                "/api/v1/auth/login",
                None,
                Some(hops),
                &guess(&format!("target{n}@example.com")),
            )
            .await
            .status
        }
    };
    assert_eq!(attempt("garbage-one", 0).await, StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("garbage-two", 1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        attempt("198.51.100.7:5678", 2).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("garbage-one", 3).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The same address written another way is the same client.
    assert_eq!(
        attempt("\"198.51.100.7\"", 4).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
