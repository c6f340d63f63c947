//! Faults against the real binary: `kill -9` in the middle of a write load (SQLite and
//! PostgreSQL), and a PostgreSQL restart under load (a private instance, never the shared one).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{Client, Server, free_port};

const NO_LIMITS: [(&str, &str); 2] = [("RATE_LIMIT_ENABLED", "false"), ("RUST_LOG", "error")];

async fn signup(server: &Server) -> String {
    let (status, body) = Client::new(server)
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "faults@example.com", "password": "a fine password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

/// Every task title the user has, from the export (all of the user's data in one answer).
async fn stored_titles(server: &Server, token: &str) -> HashSet<String> {
    let mut client = Client::new(server);
    client.token = Some(token.to_owned());
    let (status, body) = client
        .send(reqwest::Method::GET, "/api/v1/export", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .filter_map(|task| task["title"].as_str().map(str::to_owned))
        .collect()
}

/// Writers that create tasks with unique titles until stopped; the titles that were
/// answered 201.
struct WriteLoad {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    workers: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl WriteLoad {
    fn start(base: &str, token: &str, connections: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let workers = (0..connections)
            .map(|worker| {
                let (base, token) = (base.to_owned(), token.to_owned());
                let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
                tokio::spawn(async move {
                    let http = reqwest::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .build()
                        .expect("client");
                    let mut created = Vec::new();
                    for i in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let title = format!("write {worker}-{i}");
                        let sent = http
                            .post(format!("{base}/api/v1/tasks"))
                            .bearer_auth(&token)
                            .json(&json!({ "title": title }))
                            .send()
                            .await;
                        match sent {
                            Ok(response) if response.status() == StatusCode::CREATED => {
                                created.push(title);
                                acknowledged.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(_) => {}
                            // No answer (the server or its database is gone): not
                            // acknowledged; try again until stopped.
                            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                    created
                })
            })
            .collect();
        Self {
            stop,
            acknowledged,
            workers,
        }
    }

    async fn wait_for(&self, n: usize) {
        for _ in 0..1000 {
            if self.acknowledged.load(Ordering::Relaxed) >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the write load stalled");
    }

    async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        let mut created = Vec::new();
        for worker in self.workers {
            created.extend(worker.await.expect("worker"));
        }
        created
    }
}

impl Server {
    /// SIGKILL: no shutdown, no flush, nothing the process can do about it.
    fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        self.child.wait().expect("wait");
    }
}

/// 16 connections write; the server is killed with SIGKILL mid-load and started again on the
/// same database: every write it answered 201 must be there.
async fn acknowledged_writes_survive_kill_9(dir: &Path, database_url: &str) {
    let server = Server::start_with(dir, database_url, &NO_LIMITS).await;
    let token = signup(&server).await;
    let load = WriteLoad::start(&server.base, &token, 16);
    load.wait_for(300).await;
    server.kill_9();
    let acknowledged = load.finish().await;
    assert!(acknowledged.len() >= 300);

    let server = Server::start_with(dir, database_url, &NO_LIMITS).await;
    let stored = stored_titles(&server, &token).await;
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|title| !stored.contains(*title))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    acknowledged_writes_survive_kill_9(dir.path(), "sqlite://todo.db").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    acknowledged_writes_survive_kill_9(dir.path(), &db.url).await;
}

/// A PostgreSQL cluster of this test's own (initdb + pg_ctl from the PostgreSQL 15 binaries)
/// on a free port, so that stopping it disturbs nobody. Run as the `postgres` user when the
/// test runs as root, because initdb refuses root.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
}

impl PrivatePostgres {
    /// `None` (with a warning) outside CI when the binaries are missing.
    fn start() -> Option<Self> {
        let bin = PathBuf::from(
            std::env::var("TODO_TEST_PG_BIN")
                .unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()),
        );
        if !bin.join("initdb").exists() {
            let message = format!("no initdb in {}", bin.display());
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "{message} and CI=true (set TODO_TEST_PG_BIN)"
            );
            eprintln!("warning: {message}; skipping the PostgreSQL restart test");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = Self {
            dir,
            port: free_port(),
            bin,
        };
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown the cluster directory to postgres");
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster.pg_ctl_start();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program).display().to_string();
        let output = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--", &program])
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        }
        .expect("run a PostgreSQL program");
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// An immediate stop: connections are cut, as in a crash or a failover.
    fn stop(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data();
        let program = self.bin.join("pg_ctl").display().to_string();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--", &program])
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

async fn ready_status(base: &str) -> Option<(StatusCode, Value)> {
    let response = reqwest::Client::new()
        .get(format!("{base}/ready"))
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .ok()?;
    let status = response.status();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// Polls `/ready` (bounded) until it answers `want`; what it said last.
async fn wait_for_ready(base: &str, want: StatusCode, within: Duration) -> Value {
    let started = Instant::now();
    let mut last = Value::Null;
    while started.elapsed() < within {
        if let Some((status, body)) = ready_status(base).await {
            if status == want {
                return body;
            }
            last = body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/ready never answered {want} within {within:?}; last: {last}");
}

/// PostgreSQL stops under a write load: `/ready` says 503 while it is down, the process keeps
/// serving `/health`, and once PostgreSQL is back the same process is ready and writes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rides_out_a_postgres_restart_and_is_unready_meanwhile() {
    let Some(postgres) = PrivatePostgres::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_with(dir.path(), &postgres.url(), &NO_LIMITS).await;
    let token = signup(&server).await;
    let pid = server.child.id();
    let load = WriteLoad::start(&server.base, &token, 8);
    load.wait_for(100).await;

    postgres.stop();
    let down = wait_for_ready(
        &server.base,
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(down["database"], "unreachable");
    let health = reqwest::get(format!("{}/health", server.base))
        .await
        .expect("health while PostgreSQL is down");
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "liveness does not depend on it"
    );
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/tasks", server.base))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "while the database is down"}))
        .send()
        .await
        .expect("a write while PostgreSQL is down");
    assert_eq!(
        refused.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "a database outage is a 503 to retry, not a 500"
    );
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    let problem: Value = refused.json().await.expect("problem body");
    assert_eq!(problem["type"], "urn:todo:problem:unavailable");

    postgres.pg_ctl_start();
    let up = wait_for_ready(&server.base, StatusCode::OK, Duration::from_secs(30)).await;
    assert_eq!(up["database"], "ok");
    let before = load.acknowledged.load(Ordering::Relaxed);
    load.wait_for(before + 100).await;
    let acknowledged = load.finish().await;

    assert!(
        server.child.try_wait().expect("try_wait").is_none(),
        "the same process (pid {pid}) recovered, without a restart"
    );
    let stored = stored_titles(&server, &token).await;
    assert!(
        acknowledged.iter().all(|title| stored.contains(title)),
        "an acknowledged write is missing after the restart"
    );
    server.stop();
}
