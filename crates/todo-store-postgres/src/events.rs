//! Events on PostgreSQL. Events are written in the transaction of the change; `pg_notify`
//! inside it wakes every replica's listener on commit (and never for a rolled-back change).
//! Notifications carry no payload but the user id: readers read the table, so order and
//! resumption come from event ids.

use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use todo_core::Result;
use todo_core::events::{Event, EventId, EventStore, EventType, Signal};
use todo_core::ids::UserId;
use todo_core::task::TaskId;
use todo_store_sql::{EVENT_COLUMNS, EventRow};
use tokio::sync::broadcast;

use crate::{PostgresStore, sql};

pub const EVENTS_CHANNEL: &str = "todo_events";
pub const JOBS_CHANNEL: &str = "todo_jobs";

/// The wake-up channel of one store, fed by one LISTEN connection started on first use.
pub(crate) struct Signals {
    sender: broadcast::Sender<Signal>,
    started: OnceLock<()>,
}

impl Signals {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            sender: broadcast::channel(1024).0,
            started: OnceLock::new(),
        })
    }
}

async fn listen(pool: PgPool, sender: broadcast::Sender<Signal>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                tokio::time::sleep(StdDuration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen_all([EVENTS_CHANNEL, JOBS_CHANNEL]).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(StdDuration::from_secs(1)).await;
            continue;
        }
        // Whatever was committed while we were not listening is read on this resync.
        let _ = sender.send(Signal::Resync);
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) => {
                    let signal = if note.channel() == EVENTS_CHANNEL {
                        Signal::Events {
                            user_id: note.payload().into(),
                        }
                    } else {
                        Signal::Jobs
                    };
                    let _ = sender.send(signal);
                }
                // The connection dropped; `try_recv` reconnects on the next call, and
                // notifications sent meanwhile are lost: tell readers to look again.
                Ok(None) => {
                    let _ = sender.send(Signal::Resync);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection lost; reconnecting");
                    tokio::time::sleep(StdDuration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

/// Writes one event in the change's transaction, with a delivery job for each of the user's
/// webhooks that is not disabled, and notifies listeners (PostgreSQL delivers notifications
/// on commit, never for a rollback); the event's id. Writers of one user hold the user's lock
/// (`tx::begin`), so a user's event ids commit in order.
pub(crate) async fn record(
    tx: &mut PgConnection,
    user_id: &UserId,
    kind: EventType,
    task_id: TaskId,
    task_data: &str,
    at: DateTime<Utc>,
) -> Result<EventId> {
    let sql = "WITH event AS (INSERT INTO events (user_id, event_type, task_id, task_data, \
                 created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at), \
             queued AS (INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
                 SELECT 'webhook', w.user_id, event.id, w.id, event.created_at \
                 FROM webhooks w, event WHERE w.user_id = $1 AND w.disabled_at IS NULL \
                 RETURNING 1), \
             woken AS (SELECT pg_notify($6, $1) \
                 UNION ALL SELECT pg_notify($7, '') WHERE EXISTS (SELECT 1 FROM queued)) \
         SELECT event.id, (SELECT COUNT(*) FROM woken) > 0 FROM event";
    // (The second column is unused: it makes PostgreSQL evaluate `woken`, which a statement
    // that does not read it would skip.)
    let values = [
        user_id.into(),
        kind.as_str().into(),
        task_id.into(),
        task_data.into(),
        at.into(),
        EVENTS_CHANNEL.into(),
        JOBS_CHANNEL.into(),
    ];
    sql::scalar(tx, sql, values)
        .await?
        .ok_or_else(|| todo_core::Error::internal("insert returned no row"))
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let values = [user_id.into(), after.into(), i64::from(limit).into()];
        sql::rows::<EventRow, _>(&self.pool, sql, values).await
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let sql = "SELECT MAX(id) FROM events WHERE user_id = $1";
        let id = sql::scalar::<Option<EventId>>(&self.pool, sql, [user_id.into()]).await?;
        Ok(id.flatten().unwrap_or(0))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        sql::run(
            &self.pool,
            "DELETE FROM events WHERE created_at < $1",
            [before.into()],
        )
        .await
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        let receiver = self.signals.sender.subscribe();
        self.signals.started.get_or_init(|| {
            tokio::spawn(listen(self.pool.clone(), self.signals.sender.clone()));
        });
        receiver
    }
}
