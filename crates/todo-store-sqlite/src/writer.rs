//! The one writer, with group commit. SQLite takes one write transaction at a time, so writes
//! queue for a single connection that lives on its own thread. The thread takes every write
//! waiting in the queue (up to `MAX_BATCH`) and runs them in one `BEGIN IMMEDIATE`
//! transaction, each in a savepoint of its own: a write that fails is rolled back alone, the
//! others commit together. One commit, one WAL append and one thread hop then serve the whole
//! batch instead of each write; under load that is what lets writes keep up (see
//! docs/benchmarks.md). Callers hear back only after the commit, so an acknowledged write is
//! committed; a write's `then` (the wake-ups of its listeners) runs on this thread after the
//! commit, only if the write and the commit succeeded, even when its caller stopped waiting.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;
use todo_core::{Error, Result};
use tokio::sync::oneshot;

use crate::pool::{Role, connect};

/// Writes committed together at most; bounds how long the first of a batch waits.
const MAX_BATCH: usize = 64;

/// What runs once a write has committed (the wake-ups of its listeners).
pub(crate) type AfterCommit = Box<dyn FnOnce() + Send>;

/// What a queued write reports once its batch has committed (or failed to).
type Finish = Box<dyn FnOnce(&std::result::Result<(), CommitFailed>) + Send>;

/// Runs a write on the writer connection (`None`: it cannot run), and says whether it
/// succeeded and how to report.
type Run = Box<dyn FnOnce(Option<&mut Connection>) -> (bool, Finish) + Send>;

/// A queued write: runs on the writer thread (or, given no connection, does not run), says
/// whether it succeeded, and how to report.
struct Job {
    /// Run outside any transaction (migrations take their own).
    alone: bool,
    run: Run,
}

/// Why a batch's commit failed, given to each of its writes.
#[derive(Clone)]
struct CommitFailed {
    busy: bool,
    message: String,
}

impl CommitFailed {
    fn new(err: &rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        Self {
            busy: matches!(
                err.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ),
            message: format!("committing a batch of writes: {err}"),
        }
    }

    fn error(&self) -> Error {
        if self.busy {
            Error::Unavailable(self.message.clone().into())
        } else {
            Error::internal(self.message.clone())
        }
    }
}

#[derive(Clone)]
pub(crate) struct Writer {
    inner: Arc<Inner>,
}

struct Inner {
    queue: Mutex<Option<Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    open: Arc<AtomicBool>,
}

impl Writer {
    pub fn new(path: &Path) -> Result<Self> {
        let (queue, jobs) = channel::<Job>();
        let open = Arc::new(AtomicBool::new(false));
        let (path, flag) = (path.to_owned(), open.clone());
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&path, &jobs, &flag))
            .map_err(|e| Error::internal(format!("starting the SQLite writer: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                queue: Mutex::new(Some(queue)),
                thread: Mutex::new(Some(thread)),
                open,
            }),
        })
    }

    /// Runs `work` in the next batch, in a savepoint of the batch's transaction; its result
    /// comes back after the batch commits. Once committed, `then` runs (on the writer thread,
    /// before the answer is sent); never for a write or a batch that failed.
    pub async fn write<T, F>(&self, work: F, then: Option<AfterCommit>) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.submit(false, work, then).await
    }

    /// Runs `work` on the writer connection by itself, outside any transaction.
    pub async fn alone<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.submit(true, work, None).await
    }

    async fn submit<T, F>(&self, alone: bool, work: F, then: Option<AfterCommit>) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            alone,
            run: Box::new(move |conn| {
                let ran = conn.is_some();
                let result = match conn {
                    Some(conn) => catch_unwind(AssertUnwindSafe(|| work(conn)))
                        .unwrap_or_else(|_| Err(Error::internal("a SQLite write panicked"))),
                    None => Err(Error::internal("not run")),
                };
                let ok = result.is_ok();
                let finish: Finish = Box::new(move |commit| {
                    let result = match (result, commit) {
                        // Its own failure says more than the commit's, if it ran.
                        (Err(e), Err(_)) if ran => Err(e),
                        (_, Err(failed)) => Err(failed.error()),
                        (result, Ok(())) => result,
                    };
                    if let (Ok(_), Some(then)) = (&result, then) {
                        then();
                    }
                    let _ = reply.send(result);
                });
                (ok, finish)
            }),
        };
        let sent = self
            .inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|queue| queue.send(job).is_ok());
        if sent != Some(true) {
            return Err(Error::Unavailable("the SQLite store is closed".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(Error::Unavailable("the SQLite writer stopped".into())))
    }

    pub fn open(&self) -> u32 {
        u32::from(self.inner.open.load(Ordering::Relaxed))
    }

    /// Lets the queued writes finish, then stops the thread and closes the connection.
    pub async fn close(&self) {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let thread = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // Closing the connection checkpoints the WAL: file I/O, so off the runtime.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// The writer thread: batches from the queue until it closes.
fn run(path: &Path, jobs: &Receiver<Job>, open: &AtomicBool) {
    let mut conn: Option<Connection> = None;
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let conn = match &mut conn {
            Some(conn) => conn,
            slot => match connect(path, Role::Writer) {
                Ok(opened) => {
                    open.store(true, Ordering::Relaxed);
                    slot.insert(opened)
                }
                Err(e) => {
                    let failed = CommitFailed::new(&e);
                    tracing::error!(error = %e, "opening the SQLite writer connection");
                    for job in batch {
                        let (_, finish) = (job.run)(None);
                        finish(&Err(failed.clone()));
                    }
                    continue;
                }
            },
        };
        // Writes that must run alone split the batch; the others commit together.
        let mut together = Vec::new();
        for job in batch {
            if job.alone {
                commit_together(conn, std::mem::take(&mut together));
                let (_, finish) = (job.run)(Some(conn));
                finish(&Ok(()));
            } else {
                together.push(job);
            }
        }
        commit_together(conn, together);
    }
    if conn.take().is_some() {
        open.store(false, Ordering::Relaxed);
    }
}

/// Runs the jobs in one transaction, each in its own savepoint, then reports to each.
fn commit_together(conn: &mut Connection, jobs: Vec<Job>) {
    if jobs.is_empty() {
        return;
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let failed = CommitFailed::new(&e);
        for job in jobs {
            // Not run: the write lock was not to be had (another process held it too long).
            let (_, finish) = (job.run)(None);
            finish(&Err(failed.clone()));
        }
        return;
    }
    let mut finishes = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        let began = conn.execute_batch("SAVEPOINT write");
        let (ok, finish) = (job.run)(began.is_ok().then_some(&mut *conn));
        if began.is_ok() {
            let ended = if ok {
                conn.execute_batch("RELEASE write")
            } else {
                conn.execute_batch("ROLLBACK TO write; RELEASE write")
            };
            if let Err(e) = ended {
                tracing::error!(error = %e, "ending a write's savepoint");
            }
        }
        finishes.push(finish);
        if conn.is_autocommit() {
            // SQLite rolled the whole transaction back (an I/O error, a full disk): the writes
            // so far are lost; the rest get a batch of their own.
            let failed = CommitFailed {
                busy: false,
                message: "a write failed and SQLite rolled its batch back".into(),
            };
            for finish in finishes {
                finish(&Err(failed.clone()));
            }
            commit_together(conn, jobs.collect());
            return;
        }
    }
    let committed = conn.execute_batch("COMMIT").map_err(|e| {
        let failed = CommitFailed::new(&e);
        let _ = conn.execute_batch("ROLLBACK");
        tracing::error!(error = %e, writes = finishes.len(), "committing a batch of writes");
        failed
    });
    for finish in finishes {
        finish(&committed);
    }
}
