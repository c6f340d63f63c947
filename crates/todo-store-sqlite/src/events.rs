//! Events on SQLite. Events are written in the transaction of the change; one process owns
//! the file, so wake-ups go through an in-process channel that the store signals after each
//! commit. SQLite has one writer at a time, so event ids are committed in order.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::events::{Event, EventId, EventStore, EventType, Signal};
use todo_core::ids::UserId;
use todo_core::task::TaskId;
use todo_store_sql::{EVENT_COLUMNS, EventRow};
use tokio::sync::broadcast;

use crate::{SqliteStore, sql};

/// Writes one event in the change's transaction, queues a delivery to each of the user's
/// active webhooks. The caller signals listeners after the commit.
pub(crate) fn record(
    conn: &Connection,
    user_id: &UserId,
    kind: EventType,
    task_id: TaskId,
    task_data: &str,
    now: DateTime<Utc>,
) -> Result<EventId> {
    let sql = "INSERT INTO events (user_id, event_type, task_id, task_data, created_at) \
               VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
    let values = [
        user_id.into(),
        kind.as_str().into(),
        task_id.into(),
        task_data.into(),
        now.into(),
    ];
    let id: EventId = sql::scalar(conn, sql, values)?
        .ok_or_else(|| todo_core::Error::internal("insert returned no row"))?;
    let sql = "INSERT INTO jobs (kind, user_id, event_id, webhook_id, run_at) \
               SELECT 'webhook', user_id, ?2, id, ?3 FROM webhooks \
               WHERE user_id = ?1 AND disabled_at IS NULL";
    sql::run(conn, sql, [user_id.into(), id.into(), now.into()])?;
    Ok(id)
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>> {
        // The limit in the text, as in listings: a bound one re-prepares at every call.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE user_id = ?1 AND id > ?2 \
             ORDER BY id LIMIT {limit}"
        );
        let values = [user_id.into(), after.into()];
        self.read(move |conn| sql::rows::<EventRow, _>(conn, &sql, values))
            .await
    }

    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        let sql = "SELECT MAX(id) FROM events WHERE user_id = ?1";
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
