//! Chooses the storage backend once, from the URL scheme.

use std::sync::Arc;

use anyhow::{Context, bail};
use todo_core::Store;
use todo_store_postgres::PostgresStore;
use todo_store_sqlite::SqliteStore;

pub enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Backend {
    pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        Ok(match scheme {
            "sqlite" => Self::Sqlite(SqliteStore::connect(url).await.context("opening SQLite")?),
            "postgres" | "postgresql" => Self::Postgres(
                PostgresStore::connect(url, max_connections)
                    .await
                    .context("connecting to PostgreSQL")?,
            ),
            _ => bail!("DATABASE_URL must start with sqlite:// or postgres://"),
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite(s) => s.migrate().await?,
            Self::Postgres(s) => s.migrate().await?,
        }
        Ok(())
    }

    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(s) => Arc::new(s.clone()),
            Self::Postgres(s) => Arc::new(s.clone()),
        }
    }
}
