//! The PostgreSQL backend: its own migrations and queries on native types.

mod api_keys;
mod chat;
mod dav;
mod events;
mod import;
mod jobs;
mod list;
mod mail;
mod notify;
mod oauth;
mod projects;
mod push;
mod reminders;
mod rows;
mod sharing;
mod sql;
mod tags;
mod tasks;
mod tx;
mod users;
mod webhooks;

use std::time::Duration;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use todo_core::store::{PoolStats, Store};
use todo_core::{Error, Result};

use crate::rows::db_error;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    signals: std::sync::Arc<events::Signals>,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(db_error)?;
        Ok(Self {
            pool,
            signals: events::Signals::new(),
        })
    }

    /// Applies pending migrations. sqlx holds a PostgreSQL advisory lock while it migrates,
    /// so replicas starting together apply each migration once.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| Error::internal(format!("migrating PostgreSQL: {e}")))
    }

    /// The pool, for operations outside the storage trait (tests, admin commands).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn setting_get_or_insert(&self, key: &str, candidate: &str) -> Result<String> {
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        sql::run(&self.pool, sql, [key.into(), candidate.into()]).await?;
        let sql = "SELECT value FROM settings WHERE key = $1";
        sql::scalar(&self.pool, sql, [key.into()])
            .await?
            .ok_or_else(|| Error::internal("the setting vanished"))
    }
}
