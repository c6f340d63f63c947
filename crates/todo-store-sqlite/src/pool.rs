//! The reader connections, and the one blocking call each read makes. A caller waits for a
//! connection in async land (a fair semaphore); then its whole unit of work, however many
//! statements, runs with that connection on tokio's blocking pool, and the connection goes
//! back. One hop to a blocking thread and one back per call. (Writes go to `writer`.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use todo_core::{Error, Result};
use tokio::sync::Semaphore;

use crate::rows::db_error;

/// How long a call waits for a connection before it is refused as unavailable (sqlx's
/// default acquire timeout, which this store had before).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long SQLite waits for a lock another process holds.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Prepared statements kept per connection. The listing queries are built per filter shape,
/// so there are more distinct texts than rusqlite's default of 16 (sqlx kept 100).
const STATEMENT_CACHE: usize = 128;

#[derive(Clone, Copy, Debug)]
pub(crate) enum Role {
    /// The one connection that writes.
    Writer,
    /// Read-only connections (`query_only`), reading in parallel under WAL.
    Reader,
}

/// Up to `max` connections to one file, opened when first needed.
#[derive(Clone)]
pub(crate) struct Connections {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    role: Role,
    max: u32,
    permits: Arc<Semaphore>,
    idle: Mutex<Vec<Connection>>,
    /// Open connections, idle or in use.
    open: AtomicU32,
}

impl Connections {
    pub fn new(path: &Path, role: Role, max: u32) -> Self {
        Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                role,
                max,
                permits: Arc::new(Semaphore::new(max as usize)),
                idle: Mutex::new(Vec::new()),
                open: AtomicU32::new(0),
            }),
        }
    }

    /// Runs `work` with a connection of this pool, on the blocking pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let acquire = self.inner.permits.clone().acquire_owned();
        let permit = match tokio::time::timeout(ACQUIRE_TIMEOUT, acquire).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(Error::Unavailable("the SQLite store is closed".into())),
            Err(_) => {
                return Err(Error::Unavailable(
                    format!(
                        "no SQLite {:?} connection came free within {ACQUIRE_TIMEOUT:?}",
                        self.inner.role
                    )
                    .into(),
                ));
            }
        };
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // Declared first, dropped last: the connection is back before the next caller
            // gets the permit, so it finds it idle instead of opening another.
            let _permit = permit;
            let mut lease = Lease::take(&inner)?;
            work(lease.connection()?)
        })
        .await
        .map_err(|e| {
            if e.is_panic() {
                Error::internal(format!("a SQLite call panicked: {e}"))
            } else {
                Error::Unavailable("the runtime is shutting down".into())
            }
        })?
    }

    pub fn open(&self) -> u32 {
        self.inner.open.load(Ordering::Relaxed)
    }

    pub fn idle(&self) -> u32 {
        u32::try_from(self.inner.idle().len()).unwrap_or(u32::MAX)
    }

    pub fn max(&self) -> u32 {
        self.inner.max
    }

    /// Waits for the calls in flight, then refuses new ones and closes every connection.
    pub async fn close(&self) {
        if let Ok(all) = self.inner.permits.acquire_many(self.inner.max).await {
            self.inner.permits.close();
            drop(all);
        }
        let idle = std::mem::take(&mut *self.inner.idle());
        let closed = u32::try_from(idle.len()).unwrap_or(u32::MAX);
        self.inner.open.fetch_sub(closed, Ordering::Relaxed);
        // Closing the last connection checkpoints the WAL: file I/O, so off the runtime.
        let _ = tokio::task::spawn_blocking(move || drop(idle)).await;
    }
}

impl Inner {
    fn idle(&self) -> MutexGuard<'_, Vec<Connection>> {
        // A panic elsewhere cannot leave the list half-changed (push and pop only).
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        connect(&self.path, self.role)
    }
}

/// Opens a connection to the file, set up for its role.
pub(crate) fn connect(path: &Path, role: Role) -> rusqlite::Result<Connection> {
    // Not SQLITE_OPEN_URI: the path is a file name, never a `file:` URI.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    // The busy timeout first: switching to WAL takes a lock another process may hold.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    if let Role::Reader = role {
        // A write slipped onto a reader would bypass the writer's queue and wait in the
        // busy handler instead; make it fail loudly.
        conn.execute_batch("PRAGMA query_only = ON;")?;
    }
    Ok(conn)
}

/// A connection taken from the pool (or newly opened), given back on drop.
struct Lease<'a> {
    inner: &'a Inner,
    conn: Option<Connection>,
}

impl<'a> Lease<'a> {
    fn take(inner: &'a Inner) -> Result<Self> {
        let idle = inner.idle().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = inner.connect().map_err(db_error)?;
                inner.open.fetch_add(1, Ordering::Relaxed);
                conn
            }
        };
        Ok(Self {
            inner,
            conn: Some(conn),
        })
    }

    fn connection(&mut self) -> Result<&mut Connection> {
        self.conn
            .as_mut()
            .ok_or_else(|| Error::internal("a SQLite lease without its connection"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // Not reused: a connection whose work panicked, one still inside a transaction
        // (rusqlite rolls back on drop, so only a failed rollback leaves one), or one of a
        // closed pool.
        if std::thread::panicking() || !conn.is_autocommit() || self.inner.permits.is_closed() {
            self.inner.open.fetch_sub(1, Ordering::Relaxed);
            drop(conn);
        } else {
            self.inner.idle().push(conn);
        }
    }
}
