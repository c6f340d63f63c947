//! Events on SQLite. Events are written in the transaction of the change; one process owns
//! the file, so wake-ups go through an in-process channel that the store signals after each
//! commit. SQLite has one writer at a time, so event ids are committed in order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::events::{Activity, Event, EventId, EventStore, Signal};
use todo_core::ids::{ProjectId, UserId};
use todo_core::task::TaskId;
use todo_store_sql::EventRow;
use todo_store_sql::sharing as statements;
use tokio::sync::broadcast;

use crate::{SqliteStore, sql};

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
/// project, or the acting user alone for a reminder) and a delivery to each webhook it is for
/// (`todo_store_sql::sharing::QUEUE_DELIVERIES`). The store wakes each recipient's listeners
/// after the commit (`SqliteStore::write_announcing`).
pub(crate) fn record(conn: &Connection, event: Written<'_>) -> Result<EventId> {
    let sql = "INSERT INTO events (user_id, event_type, action, project_id, task_id, task_data, \
               created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";
    let values = [
        event.actor.into(),
        event.activity.event_type().as_str().into(),
        event.activity.as_str().into(),
        event.project.into(),
        event.task_id.into(),
        event.task_data.into(),
        event.at.into(),
    ];
    let id: EventId = sql::scalar(conn, sql, values)?
        .ok_or_else(|| todo_core::Error::internal("insert returned no row"))?;
    let personal = event.activity.is_personal() || event.project.is_none();
    let values = [
        id.into(),
        event.project.into(),
        event.from_project.into(),
        personal.into(),
        event.actor.into(),
    ];
    sql::run(conn, statements::INSERT_RECIPIENTS, values)?;
    let values = [
        id.into(),
        event.at.into(),
        event.project.into(),
        personal.into(),
        event.actor.into(),
    ];
    sql::run(conn, statements::QUEUE_DELIVERIES, values)?;
    Ok(id)
}

/// The newest event id (0 when none): what a write's new events are above.
pub(crate) fn high_water(conn: &Connection) -> Result<EventId> {
    Ok(
        sql::scalar::<Option<EventId>>(conn, "SELECT MAX(id) FROM events", std::iter::empty())?
            .flatten()
            .unwrap_or(0),
    )
}

/// Who the events above `mark` reached.
pub(crate) fn reached_since(conn: &Connection, mark: EventId) -> Result<Vec<UserId>> {
    sql::all(
        conn,
        "SELECT DISTINCT user_id FROM event_recipients WHERE event_id > ?1",
        [mark],
        |row| row.get::<_, String>(0),
    )
    .map(|users| users.into_iter().map(UserId::new).collect())
    .map_err(crate::rows::db_error)
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>> {
        let values = [user_id.into(), after.into(), i64::from(limit).into()];
        self.read(move |conn| sql::rows::<EventRow, _>(conn, &statements::EVENTS_AFTER, values))
            .await
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let sql = statements::LAST_EVENT;
        let values = [user_id.into()];
        let id = self
            .read(move |conn| sql::scalar::<Option<EventId>>(conn, sql, values))
            .await?;
        Ok(id.flatten().unwrap_or(0))
    }

    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64> {
        let sql = "DELETE FROM events WHERE created_at < ?1";
        self.write(move |conn| sql::run(conn, sql, [before.into()]).map(|done| done as u64))
            .await
    }

    fn signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }
}
