//! Fresh, isolated databases for tests: a temporary SQLite file, or a new PostgreSQL schema.
//!
//! PostgreSQL is found at `TODO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the PostgreSQL half of
//! a test is skipped with a warning, except under `CI=true`, where that is a failure. Redis
//! (`TODO_TEST_REDIS_URL`, or a private `redis-server`) follows the same rule.

use std::sync::Arc;

use sqlx::Connection;
use todo_core::Store;
use todo_store_postgres::PostgresStore;
use todo_store_sqlite::SqliteStore;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated store and what keeps it alive (the temporary directory of a SQLite file).
pub struct TestDb {
    pub backend: &'static str,
    pub store: Arc<dyn Store>,
    /// A URL that reaches the same data, for starting a real server process on it.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new store over the same data, sharing nothing in memory with [`TestDb::store`]: what
    /// a restarted process (or another replica) would open.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        if self.backend == "postgres" {
            Arc::new(
                PostgresStore::connect(&self.url, 4)
                    .await
                    .expect("reconnect to PostgreSQL"),
            )
        } else {
            Arc::new(
                SqliteStore::connect(&self.url)
                    .await
                    .expect("reopen SQLite"),
            )
        }
    }
}

pub fn postgres_url() -> String {
    std::env::var("TODO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("todo.db").display());
    let store = SqliteStore::connect(&url).await.expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    TestDb {
        backend: "sqlite",
        store: Arc::new(store),
        url,
        _dir: Some(dir),
    }
}

/// A store on a schema of its own, or `None` when PostgreSQL is unreachable outside CI.
pub async fn postgres() -> Option<TestDb> {
    let base = postgres_url();
    let mut admin = match sqlx::PgConnection::connect(&base).await {
        Ok(conn) => conn,
        Err(e) if !in_ci() => {
            eprintln!(
                "warning: PostgreSQL at {base} is unreachable ({e}); skipping its half of this test"
            );
            return None;
        }
        Err(e) => panic!("PostgreSQL at {base} is unreachable under CI=true: {e}"),
    };
    let schema = format!("todo_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");
    let url = schema_url(&base, &schema);
    let store = PostgresStore::connect(&url, 4)
        .await
        .expect("connect to PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(TestDb {
        backend: "postgres",
        store: Arc::new(store),
        url,
        _dir: None,
    })
}

/// The URL with `search_path` set to `schema`, so everything lands in that schema.
pub fn schema_url(base: &str, schema: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

/// Every backend available here: SQLite always, PostgreSQL when reachable.
pub async fn all() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    dbs.extend(postgres().await);
    dbs
}

/// The backend named by `TODO_TEST_DATABASE` (`sqlite`, the default, or `postgres`).
pub async fn selected() -> TestDb {
    match std::env::var("TODO_TEST_DATABASE").as_deref() {
        Ok("postgres") => postgres()
            .await
            .expect("TODO_TEST_DATABASE=postgres but PostgreSQL is unreachable"),
        _ => sqlite().await,
    }
}

pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The shared Redis at `TODO_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`), or `None`
/// (with a warning) when it does not answer outside CI. Tests that use it keep their keys
/// apart with [`unique_prefix`].
pub async fn redis_url() -> Option<String> {
    let url = std::env::var("TODO_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.into());
    let address = url
        .trim_start_matches("redis://")
        .split(['/', '?'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    if redis_answers(&address).await {
        return Some(url);
    }
    skip_or_fail(&format!("Redis at {url} does not answer"));
    None
}

/// A prefix no other test (or run) uses, for Redis keys.
pub fn unique_prefix() -> String {
    format!("todo-test:{}:", uuid::Uuid::new_v4().simple())
}

fn skip_or_fail(why: &str) {
    assert!(!in_ci(), "{why}, and CI=true");
    eprintln!("warning: {why}; skipping the Redis part of this test");
}

/// Whether a Redis server answers PING at `host:port`.
pub async fn redis_answers(address: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        stream.write_all(b"PING\r\n").await.ok()?;
        let mut reply = [0u8; 7];
        stream.read_exact(&mut reply).await.ok()?;
        (&reply == b"+PONG\r\n").then_some(())
    };
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(2), attempt).await,
        Ok(Some(()))
    )
}

/// A private `redis-server` on a free port, for tests that stop and start Redis without
/// disturbing anyone else. Killed on drop.
pub struct RedisServer {
    pub port: u16,
    pub url: String,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// `None` (with a warning) when `redis-server` is not installed, outside CI.
    pub async fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut server = Self {
            port,
            url: format!("redis://127.0.0.1:{port}"),
            child: None,
        };
        match server.spawn() {
            Ok(()) => {
                server.wait_until_up().await;
                Some(server)
            }
            Err(e) => {
                skip_or_fail(&format!("redis-server cannot be started ({e})"));
                None
            }
        }
    }

    fn spawn(&mut self) -> std::io::Result<()> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits (bounded) until the server answers PING.
    pub async fn wait_until_up(&self) {
        let address = format!("127.0.0.1:{}", self.port);
        for _ in 0..200 {
            if redis_answers(&address).await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("redis-server on port {} did not come up", self.port);
    }

    /// Kills the server (as a crash or an outage would) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().expect("restart redis-server");
        self.wait_until_up().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
