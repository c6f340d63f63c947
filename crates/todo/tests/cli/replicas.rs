//! Several real `todo serve` processes on one PostgreSQL: reminders fire once across replicas
//! and across kill -9, live updates reach clients on other replicas, webhooks arrive once and
//! signed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use todo_testkit::TestDb;

use crate::{Client, Server};

const REPLICA_ENV: &[(&str, &str)] = &[
    ("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true"),
    ("JOB_LEASE_SECS", "3"),
    ("RATE_LIMIT_ENABLED", "false"),
];

async fn start(db: &TestDb, dir: &std::path::Path) -> Server {
    Server::start_with(dir, &db.url, REPLICA_ENV).await
}

async fn signed_up(server: &Server) -> Client {
    let mut client = Client::new(server);
    let (status, body) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "replicas@example.com", "password": "a fine password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    client.token = body["token"].as_str().map(str::to_owned);
    client
}

fn on(client: &Client, server: &Server) -> Client {
    Client {
        http: reqwest::Client::new(),
        base: server.base.clone(),
        token: client.token.clone(),
    }
}

/// An SSE connection to one replica, read event by event.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(client: &Client, last_event_id: Option<i64>) -> Self {
        let mut request = client
            .http
            .get(format!("{}/api/v1/events", client.base))
            .bearer_auth(client.token.as_deref().expect("token"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("open the stream");
        assert_eq!(response.status(), StatusCode::OK);
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when none comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let data: String = message
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                if !data.is_empty() {
                    return Some(serde_json::from_str(&data).expect("event JSON"));
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .expect("stream read")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Every event that arrives within `wait` of the previous one.
    async fn drain(&mut self, wait: Duration) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.next(wait).await {
            events.push(event);
        }
        events
    }
}

type Deliveries = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback: records (signature header, body) of each POST.
async fn receiver() -> (String, Deliveries) {
    let seen: Deliveries = Arc::default();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let signature = headers
                    .get("todo-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                record.lock().expect("lock").push((signature, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn in_two_seconds() -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_fire_a_reminder_once_stream_each_others_changes_and_sign_webhooks() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let a = start(&db, dir.path()).await;
    let b = start(&db, dir.path()).await;
    let c = start(&db, dir.path()).await;
    let on_a = signed_up(&a).await;
    let on_b = on(&on_a, &b);
    let on_c = on(&on_a, &c);

    let (url, deliveries) = receiver().await;
    let (status, hook) = on_b
        .send(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().expect("secret").to_owned();

    let mut stream = Events::open(&on_a, None).await;
    let (status, task) = on_c
        .send(
            reqwest::Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "Stand up", "reminders": [{"remind_at": in_two_seconds()}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let task_id = task["id"].as_i64().expect("id");

    let created = stream
        .next(Duration::from_secs(10))
        .await
        .expect("an event on A");
    assert_eq!(
        created["event_type"], "created",
        "A sees the change made through C"
    );
    assert_eq!(created["task_id"], task_id);
    let reminder = stream
        .next(Duration::from_secs(10))
        .await
        .expect("the reminder");
    assert_eq!(reminder["event_type"], "reminder");
    assert_eq!(reminder["task_id"], task_id);
    // Three workers raced for it; nothing more comes.
    assert_eq!(
        stream.drain(Duration::from_secs(3)).await,
        Vec::<Value>::new()
    );

    let (_, stored) = on_b
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/tasks/{task_id}"),
            None,
        )
        .await;
    assert!(stored["reminders"][0]["sent_at"].is_string());

    // The webhook got each event once, signed with its secret.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while deliveries.lock().expect("lock").len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = deliveries.lock().expect("lock").clone();
    let mut by_id: HashMap<i64, usize> = HashMap::new();
    for (header, body) in &got {
        let event: Value = serde_json::from_str(body).expect("JSON");
        *by_id.entry(event["id"].as_i64().expect("id")).or_default() += 1;
        let t: i64 = header
            .split(',')
            .find_map(|p| p.strip_prefix("t="))
            .and_then(|t| t.parse().ok())
            .expect("t=");
        assert_eq!(
            header,
            &todo_server::jobs::signature(&secret, t, body.as_bytes())
        );
    }
    let expected: HashMap<i64, usize> = [
        (created["id"].as_i64().expect("id"), 1),
        (reminder["id"].as_i64().expect("id"), 1),
    ]
    .into();
    assert_eq!(by_id, expected, "each event delivered once");
    for server in [a, b, c] {
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_whose_replica_was_killed_fires_once_after_restart_and_after_a_dead_lease() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let first = start(&db, dir.path()).await;
    let client = signed_up(&first).await;
    let (status, task) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "Take pills", "reminders": [{"remind_at": in_two_seconds()}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let task_id = task["id"].as_i64().expect("id");
    // kill -9 before the reminder is due: nothing runs while it is down.
    drop(first);
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // A replica that claimed the due job and then died: its lease holds the job for 3 s.
    let leased = db
        .store
        .claim_jobs(
            todo_core::jobs::JobKind::Reminder,
            todo_core::time::now(),
            chrono::Duration::seconds(3),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(leased.len(), 1, "the reminder's job was due");
    let lease_ends = chrono::Utc::now() + chrono::Duration::seconds(3);

    let second = start(&db, dir.path()).await;
    let client = on(&client, &second);
    let mut stream = Events::open(&client, Some(0)).await;
    let created = stream.next(Duration::from_secs(10)).await.expect("created");
    assert_eq!(created["event_type"], "created");
    let reminder = stream
        .next(Duration::from_secs(15))
        .await
        .expect("the reminder");
    assert_eq!(reminder["event_type"], "reminder");
    assert_eq!(reminder["task_id"], task_id);
    let fired_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(reminder["timestamp"].clone()).expect("timestamp");
    assert!(
        fired_at + chrono::Duration::milliseconds(200) >= lease_ends,
        "not before the dead holder's lease ended ({fired_at} < {lease_ends})"
    );
    assert_eq!(
        stream.drain(Duration::from_secs(3)).await,
        Vec::<Value>::new()
    );
    second.stop();
}
