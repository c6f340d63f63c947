//! Rows as either database returns them, read by column position in the order of the
//! column lists (a lookup by name costs a hash and a string comparison per column per row),
//! and their mapping to domain types, written once. Each backend reads its rows through
//! [`Columns`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use todo_core::Error;
use todo_core::api_key::{ApiKey, scopes_from_text};
use todo_core::chat::store::StoredCredential;
use todo_core::chat::{Conversation, Message, NewMessage, Role};
use todo_core::events::{Activity, Event, EventType};
use todo_core::ids::{
    ApiKeyId, ConversationId, ProjectId, PushSubscriptionId, SectionId, TagId, TaskId, UserId,
    WebhookId,
};
use todo_core::jobs::{Job, JobKind};
use todo_core::planning::Completion;
use todo_core::project::{Project, Role as ProjectRole, Section};
use todo_core::push::PushSubscription;
use todo_core::recurrence::RecurrenceMode;
use todo_core::tag::Tag;
use todo_core::task::{Due, DueChange};
use todo_core::task::{Priority, Task};
use todo_core::user::User;
use todo_core::webhooks::Webhook;

/// A row of a backend, read by position; each backend reads its values natively (SQLite's
/// moments and days are text).
pub trait Columns {
    type Error;
    fn bool(&self, i: usize) -> Result<bool, Self::Error>;
    fn small(&self, i: usize) -> Result<i16, Self::Error>;
    fn int(&self, i: usize) -> Result<i32, Self::Error>;
    fn big(&self, i: usize) -> Result<i64, Self::Error>;
    fn opt_big(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn time(&self, i: usize) -> Result<DateTime<Utc>, Self::Error>;
    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, Self::Error>;
    fn opt_date(&self, i: usize) -> Result<Option<NaiveDate>, Self::Error>;
    fn opt_local(&self, i: usize) -> Result<Option<NaiveDateTime>, Self::Error>;
}

/// A row type read from the first columns of a row, in the order of its column list.
pub trait FromColumns: Sized {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error>;
}

pub struct UserRow {
    pub id: UserId,
    pub email: Option<String>,
    pub name: Option<String>,
    pub timezone: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub email_verified_at: Option<DateTime<Utc>>,
}

impl FromColumns for UserRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(UserRow {
            id: UserId::new(row.text(0)?),
            email: row.opt_text(1)?,
            name: row.opt_text(2)?,
            timezone: row.text(3)?,
            created_at: row.time(4)?,
            updated_at: row.time(5)?,
            email_verified_at: row.opt_time(6)?,
        })
    }
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            email_verified: r.email_verified_at.is_some() && r.email.is_some(),
            email: r.email,
            name: r.name,
            timezone: r.timezone,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl FromColumns for ApiKeyRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(ApiKeyRow {
            id: ApiKeyId::new(row.text(0)?),
            user_id: UserId::new(row.text(1)?),
            name: row.text(2)?,
            prefix: row.text(3)?,
            scopes: row.text(4)?,
            created_at: row.time(5)?,
            last_used_at: row.opt_time(6)?,
            expires_at: row.opt_time(7)?,
            revoked_at: row.opt_time(8)?,
        })
    }
}

impl From<ApiKeyRow> for ApiKey {
    fn from(r: ApiKeyRow) -> Self {
        ApiKey {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            prefix: r.prefix,
            scopes: scopes_from_text(&r.scopes),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// A task as stored.
pub struct TaskRow {
    pub id: TaskId,
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub section_id: Option<SectionId>,
    pub parent_id: Option<TaskId>,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub priority: i16,
    pub due_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub due_local: Option<NaiveDateTime>,
    pub due_timezone: Option<String>,
    pub recurrence: Option<String>,
    pub recurrence_mode: String,
    pub position: i64,
    pub assignee_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Tag names as a JSON array.
    pub tags: Option<String>,
    /// Reminders as a JSON array of objects.
    pub reminders: Option<String>,
}

/// The columns of a task row before its tags and reminders, in [`TaskRow`]'s order, as a
/// literal: each backend appends its two aggregates with `concat!`.
#[macro_export]
macro_rules! task_row_columns {
    () => {
        "id, user_id, project_id, section_id, parent_id, title, description, completed, \
         completed_at, priority, due_at, due_date, due_local, due_timezone, recurrence, \
         recurrence_mode, position, assignee_id, created_at, updated_at"
    };
}
/// How many columns a task row has, tags and reminders included: a listing's total follows.
pub const TASK_COLUMN_COUNT: usize = 22;

impl FromColumns for TaskRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(TaskRow {
            id: TaskId::new(row.big(0)?),
            user_id: UserId::new(row.text(1)?),
            project_id: ProjectId::new(row.big(2)?),
            section_id: row.opt_big(3)?.map(SectionId::new),
            parent_id: row.opt_big(4)?.map(TaskId::new),
            title: row.text(5)?,
            description: row.opt_text(6)?,
            completed: row.bool(7)?,
            completed_at: row.opt_time(8)?,
            priority: row.small(9)?,
            due_at: row.opt_time(10)?,
            due_date: row.opt_date(11)?,
            due_local: row.opt_local(12)?,
            due_timezone: row.opt_text(13)?,
            recurrence: row.opt_text(14)?,
            recurrence_mode: row.text(15)?,
            position: row.big(16)?,
            assignee_id: row.opt_text(17)?.map(UserId::new),
            created_at: row.time(18)?,
            updated_at: row.time(19)?,
            tags: row.opt_text(20)?,
            reminders: row.opt_text(21)?,
        })
    }
}

impl From<TaskRow> for Task {
    fn from(r: TaskRow) -> Self {
        Task {
            id: r.id,
            user_id: r.user_id,
            project_id: r.project_id,
            section_id: r.section_id,
            parent_id: r.parent_id,
            title: r.title,
            description: r.description,
            completed: r.completed,
            completed_at: r.completed_at,
            priority: Priority::from_rank(r.priority),
            due_at: r.due_at,
            due_date: r.due_date,
            due_local: r.due_local,
            due_timezone: r.due_timezone,
            recurrence: r.recurrence,
            recurrence_mode: RecurrenceMode::from_text(&r.recurrence_mode),
            position: r.position,
            assignee_id: r.assignee_id,
            tags: r
                .tags
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
            reminders: r
                .reminders
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A project as a member sees it: `PROJECT_COLUMNS` of `projects p` joined with the member's
/// row `m`.
pub struct ProjectRow {
    pub id: ProjectId,
    pub name: String,
    pub color: Option<String>,
    pub archived: bool,
    pub position: i64,
    pub inbox: bool,
    pub role: String,
    pub open_tasks: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: i64,
}

/// The columns of a [`ProjectRow`], from `projects p` and `project_members m`.
pub const PROJECT_COLUMNS: &str = "p.id, p.name, p.color, p.archived, m.position, p.inbox, \
     m.role, (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND NOT t.completed), \
     p.created_at, p.updated_at, \
     (SELECT COUNT(*) FROM project_members pm WHERE pm.project_id = p.id)";

impl FromColumns for ProjectRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(ProjectRow {
            id: ProjectId::new(row.big(0)?),
            name: row.text(1)?,
            color: row.opt_text(2)?,
            archived: row.bool(3)?,
            position: row.big(4)?,
            inbox: row.bool(5)?,
            role: row.text(6)?,
            open_tasks: row.big(7)?,
            created_at: row.time(8)?,
            updated_at: row.time(9)?,
            members: row.big(10)?,
        })
    }
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Project {
            id: r.id,
            name: r.name,
            color: r.color,
            archived: r.archived,
            position: r.position,
            inbox: r.inbox,
            // Only the store writes this column, from `Role::as_str`.
            role: r.role.parse().unwrap_or(ProjectRole::Viewer),
            members: r.members,
            open_tasks: r.open_tasks,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct SectionRow {
    pub id: SectionId,
    pub project_id: ProjectId,
    pub name: String,
    pub position: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const SECTION_COLUMNS: &str = "id, project_id, name, position, created_at, updated_at";

impl FromColumns for SectionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(SectionRow {
            id: SectionId::new(row.big(0)?),
            project_id: ProjectId::new(row.big(1)?),
            name: row.text(2)?,
            position: row.big(3)?,
            created_at: row.time(4)?,
            updated_at: row.time(5)?,
        })
    }
}

impl From<SectionRow> for Section {
    fn from(r: SectionRow) -> Self {
        Section {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            position: r.position,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A task's completion as recorded.
pub struct CompletionRow(pub Completion);

impl FromColumns for CompletionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let due = match (row.opt_time(2)?, row.opt_date(3)?) {
            (Some(at), _) => Due::At(at),
            (None, Some(date)) => Due::Date(date),
            (None, None) => Due::None,
        };
        Ok(CompletionRow(Completion {
            id: row.big(0)?,
            completed_at: row.time(1)?,
            due: DueChange {
                due,
                // Placed again when it is put back (`DueChange::replaced_in`).
                key: None,
                local: row.opt_local(4)?,
                zone: row.opt_text(5)?.and_then(|z| z.parse().ok()),
            },
            recurrence: row.opt_text(6)?,
        }))
    }
}

pub struct TagRow {
    pub id: TagId,
    pub name: String,
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
    pub task_count: i64,
}

impl FromColumns for TagRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(TagRow {
            id: TagId::new(row.big(0)?),
            name: row.text(1)?,
            color: row.opt_text(2)?,
            created_at: row.time(3)?,
            task_count: row.big(4)?,
        })
    }
}

impl From<TagRow> for Tag {
    fn from(r: TagRow) -> Self {
        Tag {
            id: r.id,
            name: r.name,
            color: r.color,
            task_count: r.task_count,
            created_at: r.created_at,
        }
    }
}

pub struct ConversationRow {
    pub id: ConversationId,
    pub user_id: UserId,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FromColumns for ConversationRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(ConversationRow {
            id: ConversationId::new(row.big(0)?),
            user_id: UserId::new(row.text(1)?),
            title: row.text(2)?,
            created_at: row.time(3)?,
            updated_at: row.time(4)?,
        })
    }
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Conversation {
            id: r.id,
            user_id: r.user_id,
            title: r.title,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct EventRow {
    pub id: i64,
    pub user_id: UserId,
    pub event_type: String,
    pub task_id: TaskId,
    pub task_data: String,
    pub created_at: DateTime<Utc>,
    pub action: Option<String>,
    pub project_id: Option<ProjectId>,
}

impl FromColumns for EventRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(EventRow {
            id: row.big(0)?,
            user_id: UserId::new(row.text(1)?),
            event_type: row.text(2)?,
            task_id: TaskId::new(row.big(3)?),
            task_data: row.text(4)?,
            created_at: row.time(5)?,
            action: row.opt_text(6)?,
            project_id: row.opt_big(7)?.map(ProjectId::new),
        })
    }
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        // Only the store writes these columns, from `as_str`; events from before activities
        // were recorded have none, and read as their type.
        let event_type = EventType::from_text(&r.event_type).unwrap_or(EventType::Updated);
        let action =
            r.action
                .as_deref()
                .and_then(Activity::from_text)
                .unwrap_or(match event_type {
                    EventType::Created => Activity::Created,
                    EventType::Completed => Activity::Completed,
                    EventType::Deleted => Activity::Deleted,
                    EventType::Reminder => Activity::Reminder,
                    EventType::Updated => Activity::Updated,
                });
        Event {
            id: r.id,
            event_type,
            action,
            project_id: r.project_id,
            task_id: r.task_id,
            task_data: serde_json::from_str(&r.task_data).unwrap_or_default(),
            user_id: r.user_id,
            timestamp: r.created_at,
        }
    }
}

pub struct MessageRow {
    pub id: i64,
    pub role: String,
    pub content: String,
    /// JSON array of `MessageToolCall`.
    pub tool_calls: Option<String>,
    pub tool_call_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl FromColumns for MessageRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(MessageRow {
            id: row.big(0)?,
            role: row.text(1)?,
            content: row.text(2)?,
            tool_calls: row.opt_text(3)?,
            tool_call_id: row.opt_text(4)?,
            created_at: row.time(5)?,
        })
    }
}

impl TryFrom<MessageRow> for Message {
    type Error = Error;

    fn try_from(r: MessageRow) -> Result<Self, Error> {
        let role = Role::parse(&r.role)
            .ok_or_else(|| Error::internal(format!("unknown message role {:?}", r.role)))?;
        let tool_calls = match r.tool_calls {
            Some(json) => serde_json::from_str(&json).map_err(Error::internal)?,
            None => Vec::new(),
        };
        Ok(Message {
            id: r.id,
            role,
            content: r.content,
            tool_calls,
            tool_call_id: r.tool_call_id,
            created_at: r.created_at,
        })
    }
}

pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub user_id: UserId,
    pub reminder_id: Option<i64>,
    pub event_id: Option<i64>,
    pub webhook_id: Option<WebhookId>,
    pub attempts: i32,
    pub subscription_id: Option<PushSubscriptionId>,
}

impl FromColumns for JobRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(JobRow {
            id: row.big(0)?,
            kind: row.text(1)?,
            user_id: UserId::new(row.text(2)?),
            reminder_id: row.opt_big(3)?,
            event_id: row.opt_big(4)?,
            webhook_id: row.opt_big(5)?.map(WebhookId::new),
            attempts: row.int(6)?,
            subscription_id: row.opt_big(7)?.map(PushSubscriptionId::new),
        })
    }
}

impl JobRow {
    /// `None` for a kind this version does not know (left for a newer replica).
    pub fn into_job(self) -> Option<Job> {
        Some(Job {
            id: self.id,
            kind: JobKind::from_text(&self.kind)?,
            user_id: self.user_id,
            reminder_id: self.reminder_id,
            event_id: self.event_id,
            webhook_id: self.webhook_id,
            subscription_id: self.subscription_id,
            attempts: self.attempts,
        })
    }
}

/// The tool calls of a message as stored: a JSON array, or null when there are none.
pub fn tool_calls_json(message: &NewMessage) -> Result<Option<String>, Error> {
    if message.tool_calls.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(&message.tool_calls)
        .map(Some)
        .map_err(Error::internal)
}

pub struct CredentialRow {
    pub user_id: UserId,
    pub api_key_ciphertext: String,
    pub key_hint: String,
    pub model: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FromColumns for CredentialRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(CredentialRow {
            user_id: UserId::new(row.text(0)?),
            api_key_ciphertext: row.text(1)?,
            key_hint: row.text(2)?,
            model: row.opt_text(3)?,
            created_at: row.time(4)?,
            updated_at: row.time(5)?,
        })
    }
}

impl From<CredentialRow> for StoredCredential {
    fn from(r: CredentialRow) -> Self {
        StoredCredential {
            user_id: r.user_id,
            api_key_ciphertext: r.api_key_ciphertext,
            key_hint: r.key_hint,
            model: r.model,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct WebhookRow {
    pub id: WebhookId,
    pub url: String,
    pub created_at: DateTime<Utc>,
    pub consecutive_failures: i32,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub project_id: Option<ProjectId>,
}

impl FromColumns for WebhookRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(WebhookRow {
            id: WebhookId::new(row.big(0)?),
            url: row.text(1)?,
            created_at: row.time(2)?,
            consecutive_failures: row.int(3)?,
            disabled_at: row.opt_time(4)?,
            last_error: row.opt_text(5)?,
            project_id: row.opt_big(6)?.map(ProjectId::new),
        })
    }
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        Webhook {
            id: r.id,
            url: r.url,
            created_at: r.created_at,
            consecutive_failures: r.consecutive_failures,
            disabled_at: r.disabled_at,
            last_error: r.last_error,
            project_id: r.project_id,
        }
    }
}

pub struct PushSubscriptionRow(pub PushSubscription);

impl FromColumns for PushSubscriptionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(PushSubscriptionRow(PushSubscription {
            id: PushSubscriptionId::new(row.big(0)?),
            user_id: UserId::new(row.text(1)?),
            endpoint: row.text(2)?,
            p256dh: row.text(3)?,
            auth: row.text(4)?,
            created_at: row.time(5)?,
        }))
    }
}

impl From<PushSubscriptionRow> for PushSubscription {
    fn from(r: PushSubscriptionRow) -> Self {
        r.0
    }
}

pub const USER_COLUMNS: &str =
    "id, email, name, timezone, created_at, updated_at, email_verified_at";
pub const API_KEY_COLUMNS: &str =
    "id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at";
pub const CONVERSATION_COLUMNS: &str = "id, user_id, title, created_at, updated_at";
pub const MESSAGE_COLUMNS: &str = "id, role, content, tool_calls, tool_call_id, created_at";
pub const CREDENTIAL_COLUMNS: &str =
    "user_id, api_key_ciphertext, key_hint, model, created_at, updated_at";
pub const WEBHOOK_COLUMNS: &str =
    "id, url, created_at, consecutive_failures, disabled_at, last_error, project_id";
pub const PUSH_SUBSCRIPTION_COLUMNS: &str = "id, user_id, endpoint, p256dh, auth, created_at";
pub const JOB_COLUMNS: &str =
    "id, kind, user_id, reminder_id, event_id, webhook_id, attempts, subscription_id";
/// The columns of an [`EventRow`], from `events e`.
pub const EVENT_COLUMNS: &str =
    "e.id, e.user_id, e.event_type, e.task_id, e.task_data, e.created_at, e.action, e.project_id";

/// The reminder a `reminder` event is about, added to its task's JSON.
pub fn reminder_task_data(task: &Task, reminder_id: i64) -> String {
    let mut value = serde_json::to_value(task).unwrap_or_default();
    if let Some(reminder) = task.reminders.iter().find(|r| r.id == reminder_id)
        && let Some(object) = value.as_object_mut()
    {
        object.insert(
            "reminder".into(),
            serde_json::to_value(reminder).unwrap_or_default(),
        );
    }
    value.to_string()
}
