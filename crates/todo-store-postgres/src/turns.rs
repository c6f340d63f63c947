//! Each user's changes take turns, and a turn commits every change that queued for it (group
//! commit). A user's event ids must commit in order (a reader that has seen id n must never
//! later find a smaller one), so a user's changes hold the user's advisory lock until they
//! commit. With one change per turn, the commit's fsync bounded a user's write rate; here the
//! changes that queue in this process while a turn runs all go in the next one: one
//! transaction, one lock, one commit, and one statement for all their events (recorded in the
//! turn's `Tx` and written at its end). Callers hear back after the commit. Should a change
//! fail, the turn is rolled back and run again with each change in a savepoint of its own, so
//! that the failing one is undone alone (savepoints cost a round trip each, and failures are
//! rare: the first try goes without).
//!
//! The lock is a turn's first statement, before any row lock: a turn waiting for it holds no
//! row that another turn could need, so turns cannot deadlock, here or across replicas.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use todo_core::events::{EventId, EventType};
use todo_core::task::TaskId;
use todo_core::{Error, Result};
use tokio::sync::oneshot;

use todo_store_sql::db_error;

use crate::events::{self, NewEvent};

/// A turn's transaction, and the events its changes recorded that are not written yet: they
/// are written together, in one statement, when the turn (or, after a failure, each change)
/// ends. Derefs to the connection, like a sqlx transaction.
pub(crate) struct Tx {
    transaction: Transaction<'static, Postgres>,
    user_id: String,
    events: Vec<NewEvent>,
}

impl Tx {
    /// Records an event of the turn's user, written with the turn's others (see `flush`).
    pub(crate) fn record(
        &mut self,
        kind: EventType,
        task_id: TaskId,
        data: String,
        at: DateTime<Utc>,
    ) {
        self.events.push(NewEvent {
            kind,
            task_id,
            data,
            at,
        });
    }

    /// Writes the recorded events in their order; their ids.
    pub(crate) async fn flush(&mut self) -> Result<Vec<EventId>> {
        if self.events.is_empty() {
            return Ok(Vec::new());
        }
        let events = std::mem::take(&mut self.events);
        events::write(&mut self.transaction, &self.user_id, &events).await
    }
}

impl std::ops::Deref for Tx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.transaction
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.transaction
    }
}

pub(crate) type BoxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// Changes in one turn at most. Each savepoint that writes takes a subtransaction id, and past
/// 64 of them in one transaction PostgreSQL's snapshots take a slow path for every reader.
const MAX_TURN: usize = 64;

/// A queued change: run (perhaps twice) in a turn, then told how the turn ended.
trait Queued: Send {
    /// Runs the change in `tx`, keeping its outcome; whether it succeeded.
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool>;
    /// Makes `error` the change's outcome (its events could not be written).
    fn fail(&mut self, error: Error);
    /// Answers the caller: the change's outcome if its turn committed.
    fn finish(self: Box<Self>, turn: std::result::Result<(), &TurnFailed>);
}

struct Pending<T, F> {
    change: F,
    outcome: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Queued for Pending<T, F>
where
    T: Send,
    F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send,
{
    fn run<'t>(&'t mut self, tx: &'t mut Tx) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let outcome = (self.change)(tx).await;
            let ok = outcome.is_ok();
            self.outcome = Some(outcome);
            ok
        })
    }

    fn fail(&mut self, error: Error) {
        self.outcome = Some(Err(error));
    }

    fn finish(self: Box<Self>, turn: std::result::Result<(), &TurnFailed>) {
        let answer = match (turn, self.outcome) {
            (Ok(()), Some(outcome)) => outcome,
            (Ok(()), None) => Err(Error::internal("a change was not run")),
            (Err(failed), _) => Err(failed.error()),
        };
        let _ = self.reply.send(answer);
    }
}

/// Why a turn failed as a whole, told to each of its changes.
struct TurnFailed {
    unavailable: bool,
    message: String,
}

impl TurnFailed {
    fn new(doing: &str, err: sqlx::Error) -> Self {
        let message = format!("{doing}: {err}");
        Self {
            unavailable: matches!(db_error(err), Error::Unavailable(_)),
            message,
        }
    }

    fn error(&self) -> Error {
        if self.unavailable {
            Error::Unavailable(self.message.clone().into())
        } else {
            Error::internal(self.message.clone())
        }
    }
}

/// The queues of the users whose turns run in this process.
#[derive(Default)]
pub(crate) struct Turns {
    queues: Mutex<HashMap<String, Vec<Box<dyn Queued>>>>,
}

impl Turns {
    /// Runs `change` in the user's next turn; its outcome once the turn has committed. The
    /// change may run twice (see the module's comment): it must start from its inputs alone.
    pub(crate) async fn run<T, F>(
        self: &Arc<Self>,
        pool: &PgPool,
        user_id: &str,
        change: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.enqueue(
            pool,
            user_id,
            Box::new(Pending {
                change,
                outcome: None,
                reply,
            }),
        );
        answer
            .await
            .map_err(|_| Error::internal("a turn of writes ended without an answer"))?
    }

    fn enqueue(self: &Arc<Self>, pool: &PgPool, user_id: &str, change: Box<dyn Queued>) {
        let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = queues.get_mut(user_id) {
            queue.push(change);
            return;
        }
        queues.insert(user_id.to_owned(), vec![change]);
        drop(queues);
        tokio::spawn(Arc::clone(self).take_turns(pool.clone(), user_id.to_owned()));
    }

    /// Runs the user's turns until the queue is empty.
    async fn take_turns(self: Arc<Self>, pool: PgPool, user_id: String) {
        let mut leave = Leave {
            turns: &self,
            user_id: &user_id,
            done: false,
        };
        loop {
            let mut changes: Vec<Box<dyn Queued>> = {
                let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(queue) = queues.get_mut(&user_id) else {
                    break;
                };
                if queue.is_empty() {
                    queues.remove(&user_id);
                    break;
                }
                let n = queue.len().min(MAX_TURN);
                queue.drain(..n).collect()
            };
            let turn = run_turn(&pool, &user_id, &mut changes).await;
            for change in changes {
                change.finish(turn.as_ref().map(|_| ()));
            }
        }
        leave.done = true;
    }
}

/// Should a turn panic, its user's queue goes with it (each waiting caller hears of it), so
/// that the next change starts afresh.
struct Leave<'a> {
    turns: &'a Turns,
    user_id: &'a str,
    done: bool,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut queues = self
                .turns
                .queues
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            queues.remove(self.user_id);
        }
    }
}

/// One turn: the lock, every change, their events, the commit; again in savepoints if a
/// change (or the writing of the events) failed.
async fn run_turn(
    pool: &PgPool,
    user_id: &str,
    changes: &mut [Box<dyn Queued>],
) -> std::result::Result<(), TurnFailed> {
    let mut tx = begin(pool, user_id).await?;
    let mut failed = false;
    for change in changes.iter_mut() {
        if !change.run(&mut tx).await {
            failed = true;
            break;
        }
    }
    if !failed {
        match tx.flush().await {
            Ok(_) => return commit(tx).await,
            Err(e) => {
                if let [alone] = changes {
                    alone.fail(e);
                }
            }
        }
    }
    // Nothing of this try stays; a change alone has its answer (its error) already.
    let _ = tx.transaction.rollback().await;
    if changes.len() == 1 {
        return Ok(());
    }
    let mut tx = begin(pool, user_id).await?;
    for change in changes.iter_mut() {
        step(&mut tx, "SAVEPOINT change").await?;
        let mut ok = change.run(&mut tx).await;
        if ok && let Err(e) = tx.flush().await {
            change.fail(e);
            ok = false;
        }
        tx.events.clear();
        let end = if ok {
            "RELEASE SAVEPOINT change"
        } else {
            "ROLLBACK TO SAVEPOINT change"
        };
        step(&mut tx, end).await?;
    }
    commit(tx).await
}

/// `BEGIN` and the user's lock, in one round trip (a simple query of two statements, which
/// cannot carry parameters: the user id is written as a literal).
async fn begin(pool: &PgPool, user_id: &str) -> std::result::Result<Tx, TurnFailed> {
    let statement = format!(
        "BEGIN; SELECT pg_advisory_xact_lock(hashtext({}))",
        literal(user_id)
    );
    let transaction = pool
        .begin_with(sqlx::AssertSqlSafe(statement))
        .await
        .map_err(|e| TurnFailed::new("starting a turn of writes and taking the user's turn", e))?;
    Ok(Tx {
        transaction,
        user_id: user_id.to_owned(),
        events: Vec::new(),
    })
}

/// `text` as an SQL string literal: `E'…'` with backslashes and quotes escaped, which reads
/// the same whatever `standard_conforming_strings` says.
fn literal(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 3);
    quoted.push_str("E'");
    for c in text.chars() {
        if c == '\\' || c == '\'' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('\'');
    quoted
}

async fn step(tx: &mut Tx, statement: &'static str) -> std::result::Result<(), TurnFailed> {
    sqlx::raw_sql(statement)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .map_err(|e| TurnFailed::new("managing a savepoint", e))
}

async fn commit(tx: Tx) -> std::result::Result<(), TurnFailed> {
    tx.transaction
        .commit()
        .await
        .map_err(|e| TurnFailed::new("committing a turn of writes", e))
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn literals_escape_quotes_and_backslashes() {
        assert_eq!(literal("01a2-b"), "E'01a2-b'");
        assert_eq!(literal(r"o'k\'; DROP"), r"E'o\'k\\\'; DROP'");
    }
}
