//! Operability against real processes: two replicas sharing Redis, and SIGTERM under load.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Client, Server};

async fn signup(server: &Server) -> String {
    let client = Client::new(server);
    let (status, body) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "load@example.com", "password": "a fine password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn two_replicas_sharing_redis_allow_30_writes_a_minute_in_total_not_60() {
    let Some(redis_url) = todo_testkit::redis_url().await else {
        return;
    };
    let prefix = todo_testkit::unique_prefix();
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("REDIS_URL", redis_url.as_str()),
        ("RATE_LIMIT_KEY_PREFIX", prefix.as_str()),
    ];
    let first = Server::start_with(dir.path(), "sqlite://todo.db", &env).await;
    let second = Server::start_with(dir.path(), "sqlite://todo.db", &env).await;
    let token = signup(&first).await;
    let clients = [&first, &second].map(|server| {
        let mut client = Client::new(server);
        client.token = Some(token.clone());
        client
    });

    let started = Instant::now();
    let mut created = [0, 0];
    for i in 0..60 {
        let (status, body) = clients[i % 2]
            .send(
                reqwest::Method::POST,
                "/api/v1/tasks",
                Some(json!({"title": format!("write {i}")})),
            )
            .await;
        match status {
            StatusCode::CREATED => created[i % 2] += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["type"], "urn:todo:problem:rate-limited");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // The quota refills one write every 2 s; allow for what refilled while this ran.
    let refilled = started.elapsed().as_secs() / 2;
    let total = created[0] + created[1];
    assert!(
        (30..=30 + refilled).contains(&total),
        "{total} writes allowed in total ({created:?} per replica)"
    );
    assert!(
        created.iter().all(|&n| n > 0),
        "both replicas served writes"
    );
    first.stop();
    second.stop();
}

/// What one load request came to.
enum Outcome {
    Answered(StatusCode, Instant),
    /// No HTTP response at all: the connection was refused or closed before an answer.
    NoAnswer,
}

/// A request whose body arrives slowly: the head and half the body now, the rest when told.
struct SlowRequest {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl SlowRequest {
    async fn start(base: &str, token: &str, title: &str) -> Self {
        let address = base.trim_start_matches("http://");
        let body = json!({ "title": title }).to_string().into_bytes();
        let head = format!(
            "POST /api/v1/tasks HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let mut stream = TcpStream::connect(address).await.expect("connect");
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(head.as_bytes()).await.expect("head");
        stream.write_all(first).await.expect("first half");
        Self {
            stream,
            rest: rest.to_vec(),
        }
    }

    /// Sends the rest of the body; the status of the answer, if any.
    async fn finish(mut self) -> Option<u16> {
        self.stream.write_all(&self.rest).await.ok()?;
        let mut answer = Vec::new();
        self.stream.read_to_end(&mut answer).await.ok()?;
        let text = String::from_utf8_lossy(&answer);
        text.split_whitespace().nth(1)?.parse().ok()
    }
}

async fn in_flight(base: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix("todo_http_requests_in_flight "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// "Accepted" is what the server acted on. Eight requests are provably accepted before the
/// signal (the server counts them in flight while they send their bodies) and finish their
/// bodies only once the server has stopped accepting: they must be answered 201. Under the
/// load of 64 connections, each request creates a task with a unique title, so after the
/// stop the database says which requests the server carried out: none of those may have
/// failed at the client, and every answer must be a success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_a_load_of_64_connections_fails_no_accepted_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    let env = [("RATE_LIMIT_ENABLED", "false"), ("RUST_LOG", "error")];
    let server = Server::start_with(dir.path(), url, &env).await;
    let token = signup(&server).await;
    let base = server.base.clone();

    let mut slow = Vec::new();
    for i in 0..8 {
        slow.push(SlowRequest::start(&base, &token, &format!("slow {i}")).await);
    }
    let mut accepted = false;
    for _ in 0..200 {
        // The scrape itself is in flight too.
        if in_flight(&base).await >= 9.0 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(accepted, "the slow requests were not taken in");

    let completed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..64)
        .map(|worker| {
            let (base, token, completed) = (base.clone(), token.clone(), completed.clone());
            tokio::spawn(async move {
                // A client each: 64 connections, kept alive between requests.
                let http = reqwest::Client::new();
                let mut outcomes = Vec::new();
                for i in 0.. {
                    let title = format!("load {worker}-{i}");
                    let sent = http
                        .post(format!("{base}/api/v1/tasks"))
                        .bearer_auth(&token)
                        .json(&json!({ "title": title }))
                        .send()
                        .await;
                    completed.fetch_add(1, Ordering::Relaxed);
                    match sent {
                        Ok(response) => {
                            outcomes.push((
                                title,
                                Outcome::Answered(response.status(), Instant::now()),
                            ));
                        }
                        Err(_) => {
                            outcomes.push((title, Outcome::NoAnswer));
                            break;
                        }
                    }
                }
                outcomes
            })
        })
        .collect();

    for _ in 0..600 {
        if completed.load(Ordering::Relaxed) >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        completed.load(Ordering::Relaxed) >= 500,
        "the load did not get going"
    );
    let signalled = Instant::now();
    server.terminate();
    let port = base.rsplit(':').next().expect("port").to_owned();
    let mut closed = false;
    for _ in 0..400 {
        if TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .is_err()
        {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        closed,
        "the server kept accepting connections after SIGTERM"
    );
    let mut slow_statuses = Vec::new();
    for request in slow {
        slow_statuses.push(request.finish().await);
    }
    assert_eq!(
        slow_statuses,
        vec![Some(201); 8],
        "requests in flight at SIGTERM are finished"
    );
    let mut outcomes = Vec::new();
    for worker in workers {
        outcomes.extend(worker.await.expect("worker"));
    }
    server.assert_exits_cleanly();

    let succeeded: HashSet<&str> = outcomes
        .iter()
        .filter_map(|(title, outcome)| match outcome {
            Outcome::Answered(StatusCode::CREATED, _) => Some(title.as_str()),
            _ => None,
        })
        .collect();
    let failed_answers: Vec<_> = outcomes
        .iter()
        .filter_map(|(title, outcome)| match outcome {
            Outcome::Answered(status, _) if *status != StatusCode::CREATED => {
                Some((title, *status))
            }
            _ => None,
        })
        .collect();
    assert!(
        failed_answers.is_empty(),
        "failed answers: {failed_answers:?}"
    );
    let drained = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, Outcome::Answered(_, at) if *at > signalled))
        .count();
    assert!(
        drained > 0,
        "no request in flight at SIGTERM was finished after it"
    );

    // What the server carried out, read back from the database by a fresh server.
    let server = Server::start_with(dir.path(), url, &env).await;
    let carried_out = all_titles(&server, &token).await;
    server.stop();
    let lost: Vec<_> = carried_out
        .iter()
        .filter(|title| !succeeded.contains(title.as_str()) && !title.starts_with("slow "))
        .collect();
    assert!(lost.is_empty(), "carried out but not answered: {lost:?}");
    assert_eq!(carried_out.len(), succeeded.len() + 8);
    eprintln!(
        "SIGTERM under load: {} requests answered 201 ({drained} after the signal), {} without an answer (not accepted)",
        succeeded.len(),
        outcomes.len() - succeeded.len()
    );
}

/// Every task title of the user, following the `Link` header page by page.
async fn all_titles(server: &Server, token: &str) -> Vec<String> {
    let http = reqwest::Client::new();
    let mut titles = Vec::new();
    let mut next = Some(format!("{}/api/v1/tasks?limit=500", server.base));
    while let Some(url) = next.take() {
        let response = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        next = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split_once('<')?
                    .1
                    .split_once('>')
                    .map(|(path, _)| path.to_owned())
            })
            .map(|path| format!("{}{path}", server.base));
        let page: Value = response.json().await.expect("page");
        titles.extend(
            page.as_array()
                .into_iter()
                .flatten()
                .filter_map(|task| task["title"].as_str().map(str::to_owned)),
        );
    }
    titles
}

#[tokio::test]
async fn requests_still_running_when_the_grace_period_ends_do_not_hold_the_exit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("SHUTDOWN_GRACE_SECS", "1"),
        ("REQUEST_TIMEOUT_SECS", "600"),
    ];
    let server = Server::start_with(dir.path(), "sqlite://todo.db", &env).await;
    let token = signup(&server).await;
    let stuck = SlowRequest::start(&server.base, &token, "never finished").await;
    let mut accepted = false;
    for _ in 0..200 {
        if in_flight(&server.base).await >= 2.0 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(accepted, "the stuck request was not taken in");

    let signalled = Instant::now();
    server.terminate();
    server.assert_exits_cleanly();
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "the exit waited for the stuck request ({:?})",
        signalled.elapsed()
    );
    drop(stuck);
}
