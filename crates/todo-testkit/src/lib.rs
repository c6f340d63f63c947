//! Fresh, isolated databases for tests: a temporary SQLite file, or a new PostgreSQL schema.
//!
//! PostgreSQL is found at `TODO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). When it cannot be reached the PostgreSQL half of
//! a test is skipped with a warning, except under `CI=true`, where that is a failure.

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
