//! A write's transaction. A user's events must commit in the order of their ids (a reader that
//! has seen id n must never later find a smaller one, or SSE resumption would skip it), so
//! every write that records events first takes the user's transaction-scoped advisory lock,
//! held until commit: a user's writes run one after another, across replicas, while different
//! users' writes run in parallel. The lock is the first statement, before any row lock, so
//! writes cannot deadlock on it. Its key is PostgreSQL's `hashtext` of the user id, a bound
//! parameter (no user text is ever written into SQL) — the same key earlier versions took, so
//! old and new replicas exclude each other during a rolling deploy. Two users whose ids hash
//! alike only wait for each other now and then.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use todo_core::Result;
use todo_core::events::{EventId, EventType};
use todo_core::ids::UserId;
use todo_core::task::TaskId;
use todo_store_sql::db_error;

use crate::events::{self, NewEvent};

/// An open write of one user: derefs to the connection, like a sqlx transaction. Events
/// recorded during the write are written together, in order, at [`Tx::commit`] (or earlier
/// with [`Tx::flush`]). Dropped without committing, it rolls back.
pub(crate) struct Tx {
    transaction: Transaction<'static, Postgres>,
    user_id: UserId,
    events: Vec<NewEvent>,
}

impl Tx {
    /// Begins a write of `user_id`'s, holding the user's lock.
    pub(crate) async fn begin(pool: &PgPool, user_id: &UserId) -> Result<Self> {
        let mut transaction = pool.begin().await.map_err(db_error)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
            .bind(user_id)
            .execute(&mut *transaction)
            .await
            .map_err(db_error)?;
        Ok(Self {
            transaction,
            user_id: user_id.to_owned(),
            events: Vec::new(),
        })
    }

    /// Records an event of the write's user, written with the others (see [`Tx::flush`]).
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

    /// Writes the recorded events and commits.
    pub(crate) async fn commit(mut self) -> Result<()> {
        self.flush().await?;
        self.transaction.commit().await.map_err(db_error)
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
