//! Events: every task change and every reminder, written by the store in the same transaction
//! as the change (a transactional outbox), read back by id for live streams and webhooks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::Todo;
use crate::error::Result;
use crate::ids::{ProjectId, UserId};
use crate::task::{Task, TaskId};

pub type EventId = i64;

/// Most events one read returns.
pub const EVENT_PAGE: u32 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Created,
    Updated,
    Completed,
    Deleted,
    Reminder,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "created",
            EventType::Updated => "updated",
            EventType::Completed => "completed",
            EventType::Deleted => "deleted",
            EventType::Reminder => "reminder",
        }
    }

    pub fn from_text(text: &str) -> Option<Self> {
        Some(match text {
            "created" => EventType::Created,
            "updated" => EventType::Updated,
            "completed" => EventType::Completed,
            "deleted" => EventType::Deleted,
            "reminder" => EventType::Reminder,
            _ => return None,
        })
    }
}

/// What happened to a task, as a project's activity names it. Streams and webhooks carry each
/// as one of the five [`EventType`]s they always had.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Activity {
    Created,
    Updated,
    Completed,
    Reopened,
    Moved,
    Deleted,
    Commented,
    Reminder,
}

impl Activity {
    const ALL: [Activity; 8] = [
        Activity::Created,
        Activity::Updated,
        Activity::Completed,
        Activity::Reopened,
        Activity::Moved,
        Activity::Deleted,
        Activity::Commented,
        Activity::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Created => "created",
            Activity::Updated => "updated",
            Activity::Completed => "completed",
            Activity::Reopened => "reopened",
            Activity::Moved => "moved",
            Activity::Deleted => "deleted",
            Activity::Commented => "commented",
            Activity::Reminder => "reminder",
        }
    }

    pub fn from_text(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == text)
    }

    /// The type a stream or webhook gives it.
    pub fn event_type(self) -> EventType {
        match self {
            Activity::Created => EventType::Created,
            Activity::Completed => EventType::Completed,
            Activity::Deleted => EventType::Deleted,
            Activity::Reminder => EventType::Reminder,
            Activity::Updated | Activity::Reopened | Activity::Moved | Activity::Commented => {
                EventType::Updated
            }
        }
    }

    /// Whether it is personal (reaches only its user) rather than the project's.
    pub fn is_personal(self) -> bool {
        self == Activity::Reminder
    }
}

/// One event, as streams and webhooks carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Increases with every event of a user; the SSE `id` (resume with `Last-Event-ID`).
    pub id: EventId,
    pub event_type: EventType,
    pub task_id: TaskId,
    /// The task after the change (as it was, for `deleted`). A `reminder` event's task also
    /// carries `reminder`: the reminder that fired.
    #[schema(value_type = Object)]
    pub task_data: serde_json::Value,
    /// Who made the change (for a reminder: whose reminder it is).
    pub user_id: UserId,
    /// What the change was, more finely than `event_type` (`moved`, `reopened`, `commented`).
    pub action: Activity,
    /// The task's project when the event was written.
    pub project_id: Option<ProjectId>,
    pub timestamp: DateTime<Utc>,
}

/// The JSON a store keeps as an event's `task_data`.
pub fn task_data(task: &Task) -> String {
    serde_json::to_string(task).unwrap_or_else(|_| "{}".into())
}

/// A wake-up: something was committed that listeners may want to read. It carries no payload:
/// readers read the tables, which keeps order and resumption simple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// The user has new events.
    Events { user_id: UserId },
    /// Jobs were added or moved earlier.
    Jobs,
    /// Signals may have been lost (a listener reconnected): re-read everything.
    Resync,
}

#[async_trait]
pub trait EventStore {
    /// The events that reached the user with ids above `after`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        user_id: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<Event>>;
    /// The id of the user's newest event, 0 when there is none.
    async fn last_event_id(&self, user_id: &UserId) -> Result<EventId>;
    /// Deletes events from before `before`; returns how many.
    async fn prune_events(&self, before: DateTime<Utc>) -> Result<u64>;
    /// Wake-ups for new events and jobs: from this process on SQLite (one process owns the
    /// file), from every replica on PostgreSQL (LISTEN/NOTIFY).
    fn signals(&self) -> broadcast::Receiver<Signal>;
}

impl Todo {
    pub async fn events_after(&self, user_id: &UserId, after: EventId) -> Result<Vec<Event>> {
        self.store.events_after(user_id, after, EVENT_PAGE).await
    }

    pub async fn last_event_id(&self, user_id: &UserId) -> Result<EventId> {
        self.store.last_event_id(user_id).await
    }

    pub fn signals(&self) -> broadcast::Receiver<Signal> {
        self.store.signals()
    }
}
