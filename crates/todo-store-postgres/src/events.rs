//! Events on PostgreSQL. Events are written in the transaction of the change; `pg_notify`
//! inside it wakes every replica's listener on commit (and never for a rolled-back change).
//! Notifications carry no payload but the user id: readers read the table, so order and
//! resumption come from event ids.

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};
use todo_core::Result;
use todo_core::events::{Activity, Event, EventId, EventStore, Signal};
use todo_core::ids::{ProjectId, UserId};
use todo_core::task::TaskId;
use todo_store_sql::EventRow;
use todo_store_sql::sharing as statements;
use todo_store_sql::tree::numbered;
use tokio::sync::broadcast;

use crate::{PostgresStore, sql};

static EVENTS_AFTER: LazyLock<String> = LazyLock::new(|| numbered(&statements::EVENTS_AFTER));
static LAST_EVENT: LazyLock<String> = LazyLock::new(|| numbered(statements::LAST_EVENT));

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

/// What an event is about: who acted, what they did, to which task in which project.
pub(crate) struct Written<'a> {
    pub actor: &'a UserId,
    pub activity: Activity,
    /// The task's project; `None` only for a task outside any (never, since projects).
    pub project: Option<ProjectId>,
    /// The project a move took the task from: its members hear of it too.
    pub from_project: Option<ProjectId>,
    pub task_id: TaskId,
    pub task_data: &'a str,
    pub at: DateTime<Utc>,
}

/// Writes one event in the change's transaction, with its recipients (the members of its
/// project, or the acting user alone for a reminder) and a delivery job for each webhook it
/// is for (see `todo_store_sql::sharing::QUEUE_DELIVERIES`), and notifies each recipient's
/// listeners (PostgreSQL delivers notifications on commit, never for a rollback); the event's
/// id. The writer holds the locks of everyone who shares a project with the actor
/// (`tx::begin`), so each recipient's event ids commit in order.
pub(crate) async fn record(tx: &mut PgConnection, event: Written<'_>) -> Result<EventId> {
    let sql = "WITH event AS (INSERT INTO events (user_id, event_type, action, project_id, \
                 task_id, task_data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 RETURNING id, created_at), \
             reached AS (INSERT INTO event_recipients (user_id, event_id) \
                 SELECT DISTINCT a.user_id, event.id FROM event, ( \
                     SELECT user_id FROM project_members \
                     WHERE NOT $10 AND project_id IN ($4, $11) \
                     UNION SELECT $1::text WHERE $10) a \
                 RETURNING user_id), \
             queued AS (INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
                 SELECT 'webhook', w.user_id, event.id, w.id, event.created_at \
                 FROM webhooks w, event WHERE w.disabled_at IS NULL \
                 AND (w.project_id IS NULL OR w.project_id = $4) \
                 AND w.user_id = CASE WHEN $10 THEN $1 \
                     ELSE (SELECT owner_id FROM projects WHERE id = $4) END \
                 RETURNING 1), \
             woken AS (SELECT pg_notify($8, user_id) FROM reached \
                 UNION ALL SELECT pg_notify($9, '') WHERE EXISTS (SELECT 1 FROM queued)) \
         SELECT event.id, (SELECT COUNT(*) FROM woken) > 0 FROM event";
    // (The second column is unused: it makes PostgreSQL evaluate `woken`, which a statement
    // that does not read it would skip.)
    let personal = event.activity.is_personal() || event.project.is_none();
    let values = [
        event.actor.into(),
        event.activity.event_type().as_str().into(),
        event.activity.as_str().into(),
        event.project.into(),
        event.task_id.into(),
        event.task_data.into(),
        event.at.into(),
        EVENTS_CHANNEL.into(),
        JOBS_CHANNEL.into(),
        personal.into(),
        event.from_project.into(),
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
        let values = [user_id.into(), after.into(), i64::from(limit).into()];
        sql::rows::<EventRow, _>(&self.pool, EVENTS_AFTER.as_str(), values).await
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let id = sql::scalar::<Option<EventId>>(&self.pool, LAST_EVENT.as_str(), [user_id.into()])
            .await?;
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
