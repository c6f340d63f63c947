//! The SQLite backend: an embedded file in WAL mode, its own migrations and queries, on
//! rusqlite. Every store method runs its whole unit of work in one blocking call (see
//! `pool`); docs/architecture.md says why this is not sqlx.

mod api_keys;
mod chat;
mod dav;
mod events;
mod import;
mod jobs;
mod list;
mod mail;
mod migrate;
mod notify;
mod oauth;
mod pool;
mod projects;
mod push;
mod reminders;
mod rows;
mod sharing;
mod sql;
mod tags;
mod tasks;
mod users;
mod webhooks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use rusqlite::{Connection, Savepoint};
use todo_core::events::Signal;
use todo_core::store::{PoolStats, Store};
use todo_core::{Error, Result};
use tokio::sync::broadcast;

use crate::pool::{Connections, Role};
use crate::rows::db_error;
use crate::writer::Writer;

/// Reader connections. WAL lets them read in parallel with each other and with the writer;
/// on the two cores this runs on, more than a handful only adds switching (measured with
/// `bench/load`: see docs/benchmarks.md).
const READERS: u32 = 4;

/// SQLite allows one writer at a time. Writes go through `writer`, one connection on its own
/// thread, so concurrent writers queue for it (in order, without spinning) instead of each
/// taking a connection of their own and then sleeping in SQLite's busy handler until the lock
/// is free, which under load made write latency a lottery; the queued writes commit together.
/// Reads use `readers`, in parallel (WAL).
#[derive(Clone)]
pub struct SqliteStore {
    readers: Connections,
    writer: Writer,
    /// Wake-ups for this process's listeners, sent after each commit.
    signals: broadcast::Sender<Signal>,
}

/// The file a `sqlite://` URL names (`sqlite://data/todo.db`, `sqlite:///abs/todo.db`,
/// optionally `?mode=rwc`). The file and its folder are created when missing, whatever the
/// mode says, as before.
fn database_path(url: &str) -> Result<PathBuf> {
    let invalid = |why: &str| Error::internal(format!("invalid SQLite URL {url:?}: {why}"));
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("it must start with sqlite://"))?;
    let (file, params) = rest.split_once('?').unwrap_or((rest, ""));
    for param in params.split('&').filter(|p| !p.is_empty()) {
        match param {
            "mode=rwc" | "mode=rw" => {}
            _ => return Err(invalid(&format!("unsupported parameter {param:?}"))),
        }
    }
    if file.is_empty() || file == ":memory:" {
        return Err(invalid(
            "name a file (in-memory databases are not supported)",
        ));
    }
    let file = percent_encoding::percent_decode_str(file)
        .decode_utf8()
        .map_err(|_| invalid("the path is not UTF-8"))?;
    Ok(PathBuf::from(file.as_ref()))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file named by a `sqlite://` URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let path = database_path(url)?;
        if let Some(dir) = Path::new(&path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::internal(format!("creating {}: {e}", dir.display())))?;
        }
        let store = Self {
            readers: Connections::new(&path, Role::Reader, READERS),
            writer: Writer::new(&path)?,
            signals: broadcast::channel(1024).0,
        };
        // Open the writer now: it creates the file and switches it to WAL, and a bad path
        // fails here rather than on the first request.
        store.writer.alone(|_| Ok(())).await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        self.writer.alone(migrate::run).await
    }

    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Runs `work` on a reader connection, in one blocking call.
    async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.readers.run(work).await
    }

    /// Runs `work` on the writer connection, after the writes queued before it, committed
    /// with the others of its batch (see `writer`).
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(work, None).await
    }

    /// [`Self::write`] for a write that records events: once it has committed, the users its
    /// events reached hear that they have new events, and job runners that jobs may have
    /// changed (sent by the writer, so a caller that stops waiting cannot lose them). Who was
    /// reached is read in the write, from the events it added.
    async fn write_announcing<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let reached = Arc::new(Mutex::new(Vec::new()));
        let (signals, heard) = (self.signals.clone(), reached.clone());
        let announce = Box::new(move || {
            let users = std::mem::take(&mut *heard.lock().unwrap_or_else(PoisonError::into_inner));
            for user_id in users {
                let _ = signals.send(Signal::Events { user_id });
            }
            let _ = signals.send(Signal::Jobs);
        });
        let work = move |conn: &mut Connection| {
            let mark = events::high_water(conn)?;
            let done = work(conn)?;
            *reached.lock().unwrap_or_else(PoisonError::into_inner) =
                events::reached_since(conn, mark)?;
            Ok(done)
        };
        self.writer.write(work, Some(announce)).await
    }
}

/// A unit of a write that must be all or nothing: a savepoint inside the writer's batch
/// transaction, which took the write lock at once (`BEGIN IMMEDIATE`; see `writer`).
fn savepoint(conn: &mut Connection) -> Result<Savepoint<'_>> {
    conn.savepoint().map_err(db_error)
}

#[async_trait]
impl Store for SqliteStore {
    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.open() + self.writer.open(),
            // The writer's connection is always in use: it belongs to its thread.
            idle: self.readers.idle(),
            max: self.readers.max() + 1,
        }
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| sql::one(conn, "SELECT 1", [], |_| Ok(())).map_err(db_error))
            .await?;
        Ok(())
    }

    async fn setting_get_or_insert(&self, key: &str, candidate: &str) -> Result<String> {
        let values = [key.into(), candidate.into()];
        self.write(move |conn| {
            let sql =
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING";
            sql::run(conn, sql, values.clone())?;
            let sql = "SELECT value FROM settings WHERE key = ?1";
            sql::scalar(conn, sql, values.into_iter().take(1))?
                .ok_or_else(|| Error::internal("the setting vanished"))
        })
        .await
    }
}
