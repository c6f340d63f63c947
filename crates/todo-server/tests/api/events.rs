//! Events (SSE), recurrence through the API, reminders fired by the job worker, webhooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use todo_server::jobs::{JobSettings, signature};
use todo_server::{AppState, Settings};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::helpers::{TestApp, TestUser, auth_settings, fast_jobs};

/// An open event stream, read message by message.
struct EventStream {
    body: Body,
    buffer: String,
}

impl EventStream {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<i64>) -> Self {
        let mut request = Request::builder()
            .uri("/api/v1/events")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = app
            .router
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event (its JSON), skipping keep-alive comments; fails after `wait`.
    async fn next(&mut self, wait: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if data.is_empty() {
                    continue;
                }
                let event: Value = serde_json::from_str(&data).expect("event JSON");
                let id = message
                    .lines()
                    .find_map(|l| l.strip_prefix("id:"))
                    .map(|id| id.trim().parse::<i64>().expect("numeric id"));
                assert_eq!(id, event["id"].as_i64(), "the SSE id is the event id");
                return event;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("an event in time")
                .expect("stream open")
                .expect("frame");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

const WAIT: Duration = Duration::from_secs(10);

async fn replica_allowing_private_webhooks(app: &TestApp) -> TestApp {
    let todo = app.todo.clone().with_private_webhooks(true);
    let state = AppState::new(todo.clone(), &Settings::new(auth_settings())).expect("settings");
    TestApp {
        router: todo_server::app(state).expect("router"),
        todo,
        db: app.db.clone(),
    }
}

#[tokio::test]
async fn the_stream_carries_the_callers_changes_in_order_and_resumes_after_last_event_id() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let mut stream = EventStream::open(&app, &ada.token, None).await;

    app.task(&bob, "bob's task").await;
    let id = app.task(&ada, "Water plants").await;
    app.patch(
        &format!("/api/v1/tasks/{id}/complete"),
        &ada.token,
        json!({"completed": true}),
    )
    .await;
    app.delete(&format!("/api/v1/tasks/{id}"), &ada.token).await;

    let created = stream.next(WAIT).await;
    assert_eq!(created["event_type"], "created");
    assert_eq!(created["task_id"], id);
    assert_eq!(created["user_id"], ada.id.as_str());
    assert_eq!(created["task_data"]["title"], "Water plants");
    assert!(created["timestamp"].is_string());
    let completed = stream.next(WAIT).await;
    assert_eq!(completed["event_type"], "completed");
    assert_eq!(completed["task_data"]["completed"], true);
    let deleted = stream.next(WAIT).await;
    assert_eq!(deleted["event_type"], "deleted");
    assert_eq!(deleted["task_data"]["title"], "Water plants");

    let mut resumed = EventStream::open(&app, &ada.token, created["id"].as_i64()).await;
    assert_eq!(resumed.next(WAIT).await["id"], completed["id"]);
    assert_eq!(resumed.next(WAIT).await["id"], deleted["id"]);
}

#[tokio::test]
async fn a_malformed_last_event_id_is_a_problem() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let request = Request::builder()
        .uri("/api/v1/events")
        .header(header::AUTHORIZATION, format!("Bearer {}", ada.token))
        .header("last-event-id", "yesterday")
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.raw(request).await.invalid_fields(), ["Last-Event-ID"]);
    let request = Request::builder()
        .uri("/api/v1/events?last_event_id=-1")
        .header(header::AUTHORIZATION, format!("Bearer {}", ada.token))
        .body(Body::empty())
        .expect("request");
    assert_eq!(app.raw(request).await.invalid_fields(), ["last_event_id"]);
}

async fn tasks(app: &TestApp, user: &TestUser) -> Vec<Value> {
    app.get("/api/v1/tasks?limit=500", &user.token)
        .await
        .body
        .as_array()
        .cloned()
        .expect("a list")
}

#[tokio::test]
async fn completing_a_recurring_task_moves_it_with_its_reminders_and_keeps_one_row() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let first = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({
                "title": "Pay rent",
                "priority": "high",
                "tags": ["home"],
                "due_at": "2027-01-31T09:00:00Z",
                "recurrence": "FREQ=MONTHLY",
                "reminders": [{"minutes_before": 60}, {"remind_at": "2027-01-30T09:00:00Z"}],
            }),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let id = first.body["id"].as_i64().expect("id");
    assert_eq!(first.body["recurrence_mode"], "due");
    let reminders = first.body["reminders"].as_array().expect("reminders");
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[0]["remind_at"], "2027-01-30T09:00:00Z");
    assert_eq!(reminders[1]["minutes_before"], 60);
    assert_eq!(reminders[1]["remind_at"], "2027-01-31T08:00:00Z");

    let uri = format!("/api/v1/tasks/{id}/complete");
    let done = app
        .patch(&uri, &ada.token, json!({"completed": true}))
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let all = tasks(&app, &ada).await;
    assert_eq!(all.len(), 1, "one task, moved on: {all:?}");
    let moved = &all[0];
    assert_eq!(moved["id"], id);
    // Months without a 31st are skipped (RFC 5545).
    assert_eq!(moved["due_at"], "2027-03-31T09:00:00Z");
    assert_eq!(moved["completed"], false);
    assert_eq!(moved["priority"], "high");
    assert_eq!(moved["tags"], json!(["home"]));
    let at: Vec<&Value> = moved["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .map(|r| &r["remind_at"])
        .collect();
    assert_eq!(
        at,
        [
            &json!("2027-01-30T09:00:00Z"),
            &json!("2027-03-31T08:00:00Z")
        ],
        "the relative reminder moves with the due; the absolute one stays"
    );
    let events = app.get("/api/v1/tasks?completed=true", &ada.token).await;
    assert_eq!(events.header("x-total-count"), Some("0"));
}

#[tokio::test]
async fn from_completion_mode_counts_from_the_day_of_completion() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let created = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Water plants", "due_date": "2020-01-01",
                   "recurrence": "FREQ=DAILY;INTERVAL=3", "recurrence_mode": "completion"}),
        )
        .await;
    assert_eq!(created.body["recurrence_mode"], "completion");
    let id = created.body["id"].as_i64().expect("id");
    let toggled = app
        .send(
            Method::PATCH,
            &format!("/api/v1/tasks/{id}/complete"),
            Some(&ada.token),
            None,
        )
        .await;
    assert_eq!(toggled.body["completed"], false, "moved on, still open");
    assert_eq!(toggled.body["id"], id);
    let expected = (chrono::Utc::now().date_naive() + chrono::Days::new(3)).to_string();
    assert_eq!(toggled.body["due_date"], expected.as_str());
}

#[tokio::test]
async fn reminders_are_checked_and_relative_ones_follow_the_due() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let no_due = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "reminders": [{"minutes_before": 5}]}),
        )
        .await;
    assert_eq!(no_due.invalid_fields(), ["reminders"]);
    let empty = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "reminders": [{}]}),
        )
        .await;
    assert_eq!(empty.invalid_fields(), ["reminders"]);
    let too_many: Vec<Value> = (0..11).map(|m| json!({"minutes_before": m})).collect();
    let many = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "x", "due_at": "2030-01-01T10:00:00Z", "reminders": too_many}),
        )
        .await;
    assert_eq!(many.invalid_fields(), ["reminders"]);

    let task = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Call", "due_at": "2030-01-01T10:00:00Z",
                   "reminders": [{"minutes_before": 30}, {"remind_at": "2029-12-31T00:00:00Z"}]}),
        )
        .await;
    let id = task.body["id"].as_i64().expect("id");
    let moved = app
        .patch(
            &format!("/api/v1/tasks/{id}"),
            &ada.token,
            json!({"due_at": "2030-02-01T10:00:00Z"}),
        )
        .await;
    let times: Vec<&Value> = moved.body["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .map(|r| &r["remind_at"])
        .collect();
    assert_eq!(
        times,
        [
            &json!("2029-12-31T00:00:00Z"),
            &json!("2030-02-01T09:30:00Z")
        ]
    );
    // A relative reminder given in a patch counts back from the current due.
    let replaced = app
        .patch(
            &format!("/api/v1/tasks/{id}"),
            &ada.token,
            json!({"reminders": [{"minutes_before": 60}]}),
        )
        .await;
    assert_eq!(
        replaced.body["reminders"][0]["remind_at"],
        "2030-02-01T09:00:00Z"
    );
    let cleared = app
        .patch(
            &format!("/api/v1/tasks/{id}"),
            &ada.token,
            json!({"due_at": null}),
        )
        .await;
    assert_eq!(cleared.body["reminders"], json!([]));
}

#[tokio::test]
async fn a_due_reminder_fires_once_with_two_workers_and_becomes_an_event() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let mut stream = EventStream::open(&app, &ada.token, None).await;
    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    let created = app
        .post(
            "/api/v1/tasks",
            &ada.token,
            json!({"title": "Stand up", "reminders": [{"remind_at": soon}]}),
        )
        .await;
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(stream.next(WAIT).await["event_type"], "created");

    let stop = CancellationToken::new();
    let workers = [
        todo_server::jobs::spawn(app.todo.clone(), fast_jobs(), stop.clone()).expect("worker"),
        todo_server::jobs::spawn(app.todo.clone(), fast_jobs(), stop.clone()).expect("worker"),
    ];
    let reminder = stream.next(WAIT).await;
    assert_eq!(reminder["event_type"], "reminder");
    assert_eq!(reminder["task_id"], id);
    assert!(reminder["task_data"]["reminder"]["sent_at"].is_string());
    let task = app.get(&format!("/api/v1/tasks/{id}"), &ada.token).await;
    assert!(task.body["reminders"][0]["sent_at"].is_string());

    // Nothing else arrives: the reminder fired once.
    app.task(&ada, "marker").await;
    assert_eq!(stream.next(WAIT).await["event_type"], "created");
    stop.cancel();
    for worker in workers {
        worker.await.expect("worker stops");
    }
}

#[tokio::test]
async fn webhooks_refuse_private_targets_unless_the_operator_allows_them() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest",
        "ftp://example.com/",
        "not a url",
    ] {
        let refused = app
            .post("/api/v1/webhooks", &ada.token, json!({"url": url}))
            .await;
        assert_eq!(refused.invalid_fields(), ["url"], "{url}");
    }
    let open = replica_allowing_private_webhooks(&app).await;
    let created = open
        .post(
            "/api/v1/webhooks",
            &ada.token,
            json!({"url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        created.body["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    let id = created.body["id"].as_i64().expect("id");
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/webhooks/{id}").as_str())
    );
    let listed = app.get("/api/v1/webhooks", &ada.token).await;
    assert_eq!(listed.body[0]["id"], id);
    assert!(
        listed.body[0].get("secret").is_none(),
        "the secret is shown once"
    );

    let bob = app.signup("bob@example.com").await;
    app.delete(&format!("/api/v1/webhooks/{id}"), &bob.token)
        .await
        .problem(StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/webhooks", &bob.token).await.body,
        json!([])
    );
    let gone = app
        .delete(&format!("/api/v1/webhooks/{id}"), &ada.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.delete(&format!("/api/v1/webhooks/{id}"), &ada.token)
        .await
        .problem(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_eleventh_webhook_is_refused_until_one_is_deleted() {
    let app = TestApp::spawn().await;
    let open = replica_allowing_private_webhooks(&app).await;
    let ada = app.signup("ada@example.com").await;
    let create = |n: usize| {
        open.post(
            "/api/v1/webhooks",
            &ada.token,
            json!({"url": format!("http://127.0.0.1:9/hook/{n}")}),
        )
    };
    let mut first = None;
    for n in 0..10 {
        let created = create(n).await;
        assert_eq!(created.status, StatusCode::CREATED, "{n}: {}", created.body);
        first.get_or_insert(created.body["id"].as_i64().expect("id"));
    }
    let refused = create(10).await;
    let problem = refused.problem(StatusCode::CONFLICT);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 10 webhooks")),
        "{problem}"
    );
    let listed = app.get("/api/v1/webhooks", &ada.token).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(10));

    let first = first.expect("created");
    let gone = app
        .delete(&format!("/api/v1/webhooks/{first}"), &ada.token)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(create(11).await.status, StatusCode::CREATED);
}

/// A loopback receiver that records each delivery; answers 500 to the first `fail_first`.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>) {
    let seen: Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>> = Arc::default();
    let record = seen.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let mut seen = record.lock().expect("lock");
                seen.push((headers, body));
                if seen.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hook).await });
    (url, seen)
}

#[tokio::test]
async fn a_webhook_receives_each_event_signed_and_a_failed_delivery_is_retried() {
    let app = TestApp::spawn().await;
    let open = replica_allowing_private_webhooks(&app).await;
    let ada = app.signup("ada@example.com").await;
    let (url, seen) = receiver(1).await;
    let created = open
        .post("/api/v1/webhooks", &ada.token, json!({"url": url}))
        .await;
    let secret = created.body["secret"].as_str().expect("secret").to_owned();
    let stop = CancellationToken::new();
    let worker =
        todo_server::jobs::spawn(open.todo.clone(), fast_jobs(), stop.clone()).expect("worker");

    let id = app.task(&ada, "Signed").await;
    // The first attempt fails (500); the retry comes after the backoff (5 s).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().expect("lock").len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no retry in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deliveries = seen.lock().expect("lock").clone();
    assert_eq!(
        deliveries.len(),
        2,
        "one failure, one success, nothing more"
    );
    for (headers, body) in &deliveries {
        let event: Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(event["event_type"], "created");
        assert_eq!(event["task_id"], id);
        let header = headers
            .get("todo-signature")
            .and_then(|v| v.to_str().ok())
            .expect("signature");
        let t: i64 = header
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .expect("timestamp");
        assert_eq!(header, signature(&secret, t, body.as_bytes()));
        assert_eq!(
            headers.get("todo-event-id").and_then(|v| v.to_str().ok()),
            Some(event["id"].to_string().as_str())
        );
    }
    let hooks = app.get("/api/v1/webhooks", &ada.token).await;
    assert_eq!(hooks.body[0]["consecutive_failures"], 0);
    stop.cancel();
    worker.await.expect("worker stops");
}

#[tokio::test]
async fn events_and_webhooks_routes_refuse_someone_elses_path() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    for uri in [
        format!("/api/{}/webhooks", bob.id),
        format!("/api/{}/events", bob.id),
    ] {
        app.send(Method::GET, &uri, Some(&ada.token), None)
            .await
            .problem(StatusCode::FORBIDDEN);
    }
    let own = app
        .get(&format!("/api/{}/webhooks", ada.id), &ada.token)
        .await;
    assert_eq!(own.status, StatusCode::OK);
}

/// A loopback "blackhole": accepts connections and never answers. Counts the connections.
async fn blackhole() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// The probe's attack: ten webhooks at a blackhole held up another user's reminder for two
/// minutes. Reminders run in a lane of their own, and one user's deliveries in flight are
/// bounded, so the reminder comes at once while the deliveries hang.
#[tokio::test]
async fn another_users_hanging_webhooks_do_not_hold_up_a_reminder() {
    let app = TestApp::spawn().await;
    let open = replica_allowing_private_webhooks(&app).await;
    let ada = app.signup("ada@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let (url, accepted) = blackhole().await;
    for i in 0..10 {
        let created = open
            .post(
                "/api/v1/webhooks",
                &ada.token,
                json!({"url": format!("{url}/hook{i}")}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    for i in 0..3 {
        app.task(&ada, &format!("noisy {i}")).await;
    }
    let settings = JobSettings {
        // Each of ada's 30 deliveries hangs this long.
        webhook_timeout: Duration::from_secs(8),
        webhook_per_user: 3,
        ..JobSettings::default()
    };
    let stop = CancellationToken::new();
    let _worker =
        todo_server::jobs::spawn(open.todo.clone(), settings, stop.clone()).expect("worker");
    let mut stream = EventStream::open(&app, &bob.token, None).await;
    // Ada's deliveries are under way.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let soon = chrono::Utc::now() + chrono::Duration::seconds(1);
    app.post(
        "/api/v1/tasks",
        &bob.token,
        json!({"title": "Take pills", "reminders": [{"remind_at": soon}]}),
    )
    .await;
    assert_eq!(stream.next(WAIT).await["event_type"], "created");
    let reminder = stream.next(Duration::from_secs(5)).await;
    assert_eq!(reminder["event_type"], "reminder");
    assert!(
        accepted.load(std::sync::atomic::Ordering::SeqCst) <= 3,
        "at most 3 of ada's deliveries in flight at once"
    );
    stop.cancel();
}

/// A receiver that always answers 200, too late: each delivery times out, which is a failure,
/// and the webhook is disabled after `webhook_disable_after` of them like a failing one.
#[tokio::test]
async fn a_webhook_that_always_answers_too_late_is_disabled() {
    let app = TestApp::spawn().await;
    let open = replica_allowing_private_webhooks(&app).await;
    let ada = app.signup("ada@example.com").await;
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hook).await });
    let created = open
        .post("/api/v1/webhooks", &ada.token, json!({"url": url}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    app.task(&ada, "one").await;
    app.task(&ada, "two").await;

    let settings = JobSettings {
        webhook_timeout: Duration::from_millis(300),
        webhook_disable_after: 2,
        ..fast_jobs()
    };
    let stop = CancellationToken::new();
    let worker =
        todo_server::jobs::spawn(open.todo.clone(), settings, stop.clone()).expect("worker");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let webhook = loop {
        let hooks = app.get("/api/v1/webhooks", &ada.token).await;
        if !hooks.body[0]["disabled_at"].is_null() {
            break hooks.body[0].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not disabled in time: {}",
            hooks.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(webhook["consecutive_failures"], 2, "{webhook}");
    assert!(webhook["last_error"].is_string(), "{webhook}");
    stop.cancel();
    worker.await.expect("worker stops");
}
