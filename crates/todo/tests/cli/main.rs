//! The real binary: started as a newcomer would start it, driven over HTTP and the command
//! line, stopped with SIGTERM and started again; in `operations`, replicas sharing Redis and a
//! SIGTERM under load; in `faults`, kill -9 under a write load and a PostgreSQL restart.

mod chat;
mod faults;
mod operations;
mod replicas;
mod transfer;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_todo");

/// A `todo` process serving on a free loopback port.
struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn todo(dir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", database_url);
    command
}

impl Server {
    async fn start(dir: &Path, database_url: &str) -> Self {
        Self::start_with(dir, database_url, &[]).await
    }

    /// With extra environment variables (configuration).
    async fn start_with(dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        // Port 0: the server binds a free port itself and logs it. A port picked here and bound
        // there could be taken by another test's server in between (seen in CI: a replica
        // failed to bind and the test reached another test's server).
        let log = env
            .iter()
            .find(|(name, _)| *name == "RUST_LOG")
            .map_or("warn", |(_, value)| *value);
        let mut child = todo(dir, database_url)
            .envs(env.iter().copied())
            .env("RUST_LOG", format!("{log},todo::listening=info"))
            .env("LOG_FORMAT", "json")
            .env("PORT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start todo");
        let stderr = child.stderr.take().expect("stderr");
        let (port, bound) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                eprintln!("{line}");
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["fields"]["message"] == "listening"
                    && let Some(port_of_line) = entry["fields"]["address"]
                        .as_str()
                        .and_then(|at| at.rsplit(':').next())
                {
                    let _ = port.send(port_of_line.to_owned());
                }
            }
        });
        let port = tokio::task::spawn_blocking(move || bound.recv_timeout(Duration::from_secs(20)))
            .await
            .expect("join")
            .expect("todo logs the address it listens on");
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if let Ok(response) = client.get(format!("{}/health", self.base)).send().await
                && response.status() == StatusCode::OK
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("todo did not become healthy at {}", self.base);
    }

    /// SIGTERM, then the exit status must be success (a graceful stop).
    fn stop(self) {
        self.terminate();
        self.assert_exits_cleanly();
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn assert_exits_cleanly(mut self) {
        let exit = self.child.wait().expect("wait");
        assert!(exit.success(), "todo exited with {exit} after SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(server: &Server) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: server.base.clone(),
            token: None,
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// signup → create → list → complete → restart → still there → delete.
async fn walk_through(dir: &Path, database_url: &str) {
    let server = Server::start(dir, database_url).await;
    let mut client = Client::new(&server);
    let (status, body) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/signup",
            Some(json!({"email": "new@example.com", "password": "a fine password"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    client.token = body["token"].as_str().map(str::to_owned);

    let (status, task) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "Buy milk"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = task["id"].as_i64().expect("id");
    let (_, list) = client
        .send(reqwest::Method::GET, "/api/v1/tasks", None)
        .await;
    assert_eq!(list[0]["title"], "Buy milk");
    let (status, done) = client
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/tasks/{id}/complete"),
            None,
        )
        .await;
    assert_eq!(
        (status, done["completed"].as_bool()),
        (StatusCode::OK, Some(true))
    );

    server.stop();
    let server = Server::start(dir, database_url).await;
    client.base = server.base.clone();

    let (status, me) = client.send(reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the session survives a restart: {me}"
    );
    let (_, list) = client
        .send(reqwest::Method::GET, "/api/v1/tasks", None)
        .await;
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["completed"], true);
    let (status, _) = client
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/tasks/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = client
        .send(reqwest::Method::GET, "/api/v1/tasks", None)
        .await;
    assert_eq!(list, json!([]));
    server.stop();
}

#[tokio::test]
async fn a_newcomer_walks_through_on_the_default_sqlite_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    walk_through(dir.path(), "sqlite://data/todo.db").await;
    assert!(
        dir.path().join("data/todo.db").exists(),
        "the default database file is created"
    );
}

#[tokio::test]
async fn the_same_walk_works_on_postgres() {
    let Some(db) = todo_testkit::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    walk_through(dir.path(), &db.url).await;
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("run todo");
    assert!(
        output.status.success(),
        "todo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn the_cli_creates_users_and_api_keys_that_the_server_accepts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    run(todo(dir.path(), url).arg("migrate"));
    let created = run(todo(dir.path(), url)
        .args([
            "user",
            "create",
            "--email",
            "Cli@Example.com",
            "--name",
            "Cli",
        ])
        .env("TODO_USER_PASSWORD", "a fine password"));
    let created: Value = serde_json::from_slice(&created.stdout).expect("user as JSON");
    let id = created["id"].as_str().expect("id");
    // A user is found by id as well as by email.
    let by_id = run(todo(dir.path(), url).args(["api-key", "create", "--user", id]));
    assert!(String::from_utf8_lossy(&by_id.stdout).starts_with("todo_"));
    let missing = todo(dir.path(), url)
        .args(["api-key", "create", "--user", "nobody@example.com"])
        .output()
        .expect("run");
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user with id or email"));
    let listed = run(todo(dir.path(), url).args(["user", "list"]));
    assert!(String::from_utf8_lossy(&listed.stdout).contains("cli@example.com"));
    let key = run(todo(dir.path(), url).args([
        "api-key",
        "create",
        "--user",
        "cli@example.com",
        "--scope",
        "read",
    ]));
    let secret = String::from_utf8_lossy(&key.stdout).trim().to_owned();
    assert!(secret.starts_with("todo_"), "{secret}");

    let server = Server::start(dir.path(), url).await;
    let mut client = Client::new(&server);
    client.token = Some(secret);
    let (status, me) = client.send(reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!((status, me["name"].as_str()), (StatusCode::OK, Some("Cli")));
    let (status, _) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/tasks",
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a read-only key cannot write"
    );
    server.stop();
}

/// An operator resets a forgotten password (every session ends) and deletes an account.
#[tokio::test]
async fn the_cli_sets_a_password_and_deletes_a_user() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    let server = Server::start(dir.path(), url).await;
    let mut client = Client::new(&server);
    let signup = json!({"email": "ops@example.com", "password": "forgotten one"});
    let (status, body) = client
        .send(reqwest::Method::POST, "/api/v1/auth/signup", Some(signup))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    client.token = body["token"].as_str().map(str::to_owned);

    let short = todo(dir.path(), url)
        .args(["user", "set-password", "--user", "ops@example.com"])
        .env("TODO_USER_PASSWORD", "short")
        .output()
        .expect("run");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    run(todo(dir.path(), url)
        .args(["user", "set-password", "--user", "ops@example.com"])
        .env("TODO_USER_PASSWORD", "remembered now"));

    let (status, _) = client.send(reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old session ended");
    client.token = None;
    let login = json!({"email": "ops@example.com", "password": "remembered now"});
    let (status, _) = client
        .send(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some(login.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let unconfirmed = todo(dir.path(), url)
        .args(["user", "delete", "--user", "ops@example.com"])
        .output()
        .expect("run");
    assert!(!unconfirmed.status.success());
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    run(todo(dir.path(), url).args(["user", "delete", "--user", "ops@example.com", "--yes"]));
    let (status, _) = client
        .send(reqwest::Method::POST, "/api/v1/auth/login", Some(login))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the account is gone");
    let listed = run(todo(dir.path(), url).args(["user", "list"]));
    assert!(!String::from_utf8_lossy(&listed.stdout).contains("ops@example.com"));
    server.stop();
}

#[test]
fn bad_configuration_fails_with_a_message_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = todo(dir.path(), "mysql://nope")
        .arg("migrate")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let output = todo(dir.path(), "sqlite://todo.db")
        .args(["user", "create", "--email", "bad"])
        .env("TODO_USER_PASSWORD", "short")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("email:") && stderr.contains("password:"),
        "{stderr}"
    );
}

#[test]
fn the_server_refuses_to_start_with_a_weak_signing_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, value) in [
        ("TODO_JWT_SECRET", ""),
        ("TODO_JWT_SECRET", "short"),
        ("BETTER_AUTH_SECRET", ""),
        ("BETTER_AUTH_SECRET", "31-bytes-31-bytes-31-bytes-31-b"),
    ] {
        let output = todo(dir.path(), "sqlite://todo.db")
            .args(["serve", "--port", "0"])
            .env(name, value)
            .output()
            .expect("run");
        assert!(!output.status.success(), "{name}={value:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(name) && stderr.contains("at least 32"),
            "{name}={value:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_server_refuses_to_start_with_a_public_url_oauth_cannot_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    for value in [
        "http://todo.example.com",
        "todo.example.com",
        "https://todo.example.com/?x=1",
    ] {
        let output = todo(dir.path(), "sqlite://todo.db")
            .args(["serve", "--port", "0"])
            .env("PUBLIC_URL", value)
            .output()
            .expect("run");
        assert!(!output.status.success(), "PUBLIC_URL={value:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("PUBLIC_URL"), "{value:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn every_command_explains_itself() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["user", "create", "--help"],
        &["user", "set-password", "--help"],
        &["user", "delete", "--help"],
        &["api-key", "create", "--help"],
        &["export", "--help"],
        &["import", "--help"],
    ] {
        let output = Command::new(BIN).args(args).output().expect("run");
        assert!(output.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Usage:"), "{args:?}: {help}");
    }
    let help = String::from_utf8_lossy(
        &Command::new(BIN)
            .arg("--help")
            .output()
            .expect("run")
            .stdout,
    )
    .into_owned();
    for word in [
        "serve",
        "migrate",
        "user",
        "api-key",
        "export",
        "import",
        "DATABASE_URL",
        "PORT",
    ] {
        assert!(help.contains(word), "--help should mention {word}: {help}");
    }
}

#[tokio::test]
async fn healthcheck_tells_a_running_server_from_a_stopped_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = "sqlite://todo.db";
    let server = Server::start(dir.path(), url).await;
    let port = server.base.rsplit(':').next().expect("port").to_owned();
    let healthy = todo(dir.path(), url)
        .arg("healthcheck")
        .env("HOST", "0.0.0.0")
        .env("PORT", &port)
        .output()
        .expect("run");
    assert!(
        healthy.status.success(),
        "{}",
        String::from_utf8_lossy(&healthy.stderr)
    );
    server.stop();

    let stopped = todo(dir.path(), url)
        .arg("healthcheck")
        .env("PORT", &port)
        .output()
        .expect("run");
    assert!(!stopped.status.success());
    assert!(String::from_utf8_lossy(&stopped.stderr).contains("connecting to 127.0.0.1"));
}

#[test]
fn todo_mcp_needs_a_key_or_a_user_and_keeps_stdout_for_the_protocol() {
    let dir = tempfile::tempdir().expect("tempdir");

    let output = todo(dir.path(), "sqlite://todo.db")
        .arg("mcp")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TODO_API_KEY"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout carries the protocol alone"
    );

    let output = todo(dir.path(), "sqlite://todo.db")
        .arg("mcp")
        .env("TODO_API_KEY", "todo_not_a_real_key")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TODO_API_KEY"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "stdout carries the protocol alone"
    );
}
