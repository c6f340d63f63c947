//! The storage traits every database backend implements, one per resource (each backend has a
//! file per trait), and `Store`, all of them together. Every task query is scoped by the
//! projects the user is a member of: the project is the tenant (docs/architecture.md).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::accounts::{NewUser, Session};
use crate::api_key::{ApiKey, ApiKeyId};
use crate::caldav::DavObject;
use crate::chat::ChatStore;
use crate::error::Result;
use crate::events::{EventId, EventStore};
use crate::jobs::JobStore;
use crate::mail::MailStore;
use crate::notify::NotifyStore;
use crate::oauth::OAuthStore;
use crate::page::TaskQuery;
use crate::placement::MoveInput;
use crate::planning::{Completion, WriteContext};
use crate::project::{
    NewProject, Project, ProjectChanges, ProjectId, Role, Section, SectionChanges, SectionId,
};
use crate::push::PushStore;
use crate::sharing::{
    ActivityEntry, Comment, CommentId, Invitation, InvitationId, InvitationInput, Member,
};
use crate::tag::{Tag, TagChanges, TagId, TagName};
use crate::task::{NewTask, Task, TaskChanges, TaskId};
use crate::transfer::ImportBatch;
use crate::user::{User, UserId};
use crate::webhooks::WebhookStore;

/// Part of a listing and the size of the whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSlice {
    pub tasks: Vec<Task>,
    pub total: u64,
}

/// Changes to a profile: `None` leaves the field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChanges {
    pub name: Option<Option<String>>,
    pub timezone: Option<String>,
}

/// The connection pool's state, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections, idle or in use.
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

/// Everything a backend stores. Its resources' methods are callable on a `dyn Store` without
/// importing their traits.
#[async_trait]
pub trait Store:
    UserStore
    + ApiKeyStore
    + TaskStore
    + ProjectStore
    + TagStore
    + SharingStore
    + DavStore
    + ChatStore
    + EventStore
    + JobStore
    + MailStore
    + PushStore
    + NotifyStore
    + WebhookStore
    + OAuthStore
    + Send
    + Sync
    + 'static
{
    /// Fails unless the database answers a trivial query.
    async fn ping(&self) -> Result<()>;

    fn pool_stats(&self) -> PoolStats;

    /// Returns the stored value for `key`, storing `candidate` first if there is none.
    async fn setting_get_or_insert(&self, key: &str, candidate: &str) -> Result<String>;
}

/// Users, their external identities and their sessions (what a login token stands for, so
/// logout can end it).
#[async_trait]
pub trait UserStore {
    /// Fails with `Error::Conflict` when the email is taken.
    async fn insert_user(&self, user: &NewUser) -> Result<User>;
    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>>;
    /// The user linked to an external identity: `(issuer, subject)`, or else a `legacy`
    /// identity with that subject (external users from before identities had issuers).
    async fn external_user(&self, issuer: &str, subject: &str) -> Result<Option<User>>;
    /// Creates `user` and links `(issuer, subject)` to it, in one transaction. Fails with
    /// `Error::Conflict` when the email is taken or the identity was linked meanwhile.
    async fn insert_external_user(
        &self,
        issuer: &str,
        subject: &str,
        user: &NewUser,
    ) -> Result<User>;
    /// The user with this (normalised) email and their password hash, if any.
    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>>;
    async fn update_user(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<User>>;
    async fn list_users(&self) -> Result<Vec<User>>;

    async fn insert_session(&self, session: &Session) -> Result<()>;
    /// The user of a session that exists and has not expired at `now`.
    async fn session_user(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<User>>;
    async fn delete_session(&self, session_id: &str) -> Result<()>;
    /// The user's sessions that have not expired at `now`, newest first.
    async fn list_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<Vec<Session>>;
    /// Ends one of the user's sessions; `false` when they have no such session.
    async fn end_session(&self, user_id: &UserId, session_id: &str) -> Result<bool>;
    /// Ends every session of the user but `keep`; the ids of those it ended.
    async fn end_other_sessions(&self, user_id: &UserId, keep: Option<&str>)
    -> Result<Vec<String>>;
    /// The user's password hash: `None` for no such user, `Some(None)` for an account
    /// without a password (an external identity).
    async fn password_hash(&self, user_id: &UserId) -> Result<Option<Option<String>>>;
    async fn set_password(&self, user_id: &UserId, hash: &str, now: DateTime<Utc>) -> Result<()>;
}

#[async_trait]
pub trait ApiKeyStore {
    async fn insert_api_key(&self, key: &ApiKey, hash: &str) -> Result<()>;
    /// The user's keys that are not revoked, newest first.
    async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>>;
    /// Marks the key revoked; false when the user has no such usable key.
    async fn revoke_api_key(
        &self,
        user_id: &UserId,
        id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>>;
    async fn touch_api_key(&self, id: &ApiKeyId, now: DateTime<Utc>) -> Result<()>;
}

/// Tasks. A write reads the task, applies the change, and writes what the change means by
/// [`crate::planning`] (events, reminders, completions), in one transaction. Writes that
/// carry tags create missing tags and link them in the same transaction.
#[async_trait]
pub trait TaskStore {
    /// Inserts the task where [`crate::placement::place`] puts it (its destination, else the
    /// user's Inbox), last among its siblings, and what that means by
    /// [`crate::planning::created`].
    async fn insert_task(
        &self,
        user_id: &UserId,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> Result<Task>;
    /// Stores an import in one transaction ([`ImportBatch`]): the tags (with their colours)
    /// the user does not have yet; each project, reusing a project of that name the user owns
    /// (else creating it, with its colour and archived state), and its sections, reusing a
    /// section of that name; then the tasks in order, each in its project and section or under
    /// its parent (an earlier task of the batch, by index: a parent that was imported before
    /// is found by its import key), with the completions it had. Tasks whose `import_key` the
    /// user has already are skipped; returns how many tasks were inserted. A batch with tasks
    /// of which none is new stores nothing at all (no project or section is made again, say
    /// after the user renamed the project). All or nothing:
    /// should any row fail, or the caller stop waiting (the future is dropped: a client abort,
    /// a request timeout), nothing is stored.
    async fn import_tasks(
        &self,
        user_id: &UserId,
        batch: &ImportBatch,
        now: DateTime<Utc>,
    ) -> Result<u64>;
    async fn get_task(&self, user_id: &UserId, id: TaskId) -> Result<Option<Task>>;
    /// Applies the changes as [`crate::planning::resolve`] reads them, and what they mean by
    /// [`crate::planning::changed`] (the event, the reminders, the completion recorded or
    /// undone); completing a task completes its open subtasks. `None` when the user cannot
    /// see such a task; `Error::InsufficientRole` when their role does not edit it.
    async fn update_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        context: &WriteContext,
    ) -> Result<Option<Task>>;
    /// Sets completion, or flips it when `completed` is `None`
    /// ([`crate::planning::completion`]), then as `update_task`. Of two requests completing a
    /// task at once, only the one that changed the row records a completion (a recurring task
    /// is open again after the first, so the second moves it one occurrence further).
    async fn set_task_completed(
        &self,
        user_id: &UserId,
        id: TaskId,
        completed: Option<bool>,
        context: &WriteContext,
    ) -> Result<Option<Task>>;
    /// Moves the task with its subtasks as [`crate::placement::place_move`] says, to index
    /// `position` among its new siblings (default: last), recording `updated` for each task
    /// whose place changed.
    async fn move_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        to: &MoveInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>>;
    /// Deletes the task and its subtasks, recording [`crate::planning::deleted`] for each.
    async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<bool>;
    /// Up to `limit` tasks matching the query, after its cursor, in its order; and how many
    /// match the filter in all (cursor aside).
    async fn list_tasks(
        &self,
        user_id: &UserId,
        query: &TaskQuery,
        limit: u32,
    ) -> Result<TaskSlice>;
    /// The completions recorded for the tasks of the user's projects (`task_completions`),
    /// task by task, oldest first, at most `limit`.
    async fn completions(&self, user_id: &UserId, limit: u32) -> Result<Vec<(TaskId, Completion)>>;
    /// The latest completions of open recurring tasks (their earlier occurrences), newest
    /// first, at most `limit`, each with its task's title.
    async fn recurring_completions(
        &self,
        user_id: &UserId,
        limit: u32,
    ) -> Result<Vec<(TaskId, String, Completion)>>;
    /// The user's tasks that are due on a day rather than at a time.
    async fn all_day_due_dates(&self, user_id: &UserId) -> Result<Vec<(TaskId, NaiveDate)>>;
    /// The open tasks the user created whose timed due floats with their zone, with their
    /// wall-clock time and the moment now stored (a completed task keeps the moment it was
    /// due).
    async fn floating_dues(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(TaskId, NaiveDateTime, DateTime<Utc>)>>;
    /// Stores new due moments (`Task::due_key`) for the user's tasks.
    async fn set_due_keys(&self, user_id: &UserId, keys: &[(TaskId, DateTime<Utc>)]) -> Result<()>;
}

/// Projects and their sections. Each read and write is as the user sees the project (their
/// role in it); a project they are not a member of is `None`. Rules come from
/// [`crate::project`]; the store checks them inside the write's transaction.
#[async_trait]
pub trait ProjectStore {
    /// The user's projects: the Inbox first, then by their position.
    async fn list_projects(&self, user_id: &UserId) -> Result<Vec<Project>>;
    async fn project(&self, user_id: &UserId, id: ProjectId) -> Result<Option<Project>>;
    /// Fails with `Error::Validation` when the user owns
    /// [`crate::project::MAX_PROJECTS_PER_USER`] projects already.
    async fn insert_project(
        &self,
        user_id: &UserId,
        project: &NewProject,
        now: DateTime<Utc>,
    ) -> Result<Project>;
    /// Applies the changes that [`crate::project::check_change`] allows.
    async fn update_project(
        &self,
        user_id: &UserId,
        id: ProjectId,
        changes: &ProjectChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>>;
    /// Deletes a project that [`crate::project::deletable`] allows, with its sections and
    /// tasks (recording `deleted` for each task).
    async fn delete_project(&self, user_id: &UserId, id: ProjectId) -> Result<bool>;

    /// The project's sections in order; `None` when the user cannot see the project.
    async fn list_sections(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
    ) -> Result<Option<Vec<Section>>>;
    /// Adds a section at `position` (default: last); needs a role that edits the project.
    async fn insert_section(
        &self,
        user_id: &UserId,
        project_id: ProjectId,
        name: &str,
        position: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>>;
    /// A section of a project the user is a member of.
    async fn section(&self, user_id: &UserId, id: SectionId) -> Result<Option<Section>>;
    async fn update_section(
        &self,
        user_id: &UserId,
        id: SectionId,
        changes: &SectionChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<Section>>;
    /// Deletes the section and its tasks (as Todoist does), recording `deleted` for each.
    async fn delete_section(&self, user_id: &UserId, id: SectionId) -> Result<bool>;
}

/// What CalDAV clients named and wrote that todo does not model ([`crate::caldav::DavObject`]).
/// A row outlives its task, so a sync can name a deleted resource.
#[async_trait]
pub trait DavStore {
    /// The objects of the tasks in `project`.
    async fn dav_objects(&self, project: ProjectId) -> Result<Vec<DavObject>>;
    /// The object of a task, its task deleted or not.
    async fn dav_object(&self, task: TaskId) -> Result<Option<DavObject>>;
    /// The task of `project` a client named `name`.
    async fn dav_task_named(&self, project: ProjectId, name: &str) -> Result<Option<TaskId>>;
    /// Stores a task's object, replacing the one it had.
    async fn put_dav_object(&self, object: &DavObject) -> Result<()>;
    /// The user's calendars a client made and named: (name, project).
    async fn dav_collections(&self, user_id: &UserId) -> Result<Vec<(String, ProjectId)>>;
    /// Names `project` `name` for the user (a conflict when the name is taken).
    async fn put_dav_collection(
        &self,
        user_id: &UserId,
        name: &str,
        project: ProjectId,
    ) -> Result<()>;
    /// Forgets the objects of deleted tasks last written before `before`.
    async fn prune_dav_objects(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// Members, invitations, comments and activity: each method reads what the rules in
/// [`crate::sharing`] need, asks them, and writes, in one transaction.
#[async_trait]
pub trait SharingStore {
    /// The project's members, the owner first; `None` when the user is not one of them.
    async fn members(&self, user_id: &UserId, project: ProjectId) -> Result<Option<Vec<Member>>>;
    /// Gives `target` the role `role` as [`crate::sharing::role_change`] allows (`owner`: hands
    /// the project over); the members after. `None` when the project or the member is not
    /// there for the user.
    async fn change_role(
        &self,
        user_id: &UserId,
        project: ProjectId,
        target: &UserId,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<Member>>>;
    /// Removes `target` (or the user leaves) as [`crate::sharing::removal`] allows, unassigning
    /// their tasks in the project and dropping their reminders and labels on them.
    async fn remove_member(
        &self,
        user_id: &UserId,
        project: ProjectId,
        target: &UserId,
    ) -> Result<bool>;
    /// Fails with `Error::Conflict` when the address is a member's or has an invitation
    /// pending.
    async fn invite(
        &self,
        user_id: &UserId,
        project: ProjectId,
        input: &InvitationInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Invitation>>;
    async fn project_invitations(
        &self,
        user_id: &UserId,
        project: ProjectId,
    ) -> Result<Option<Vec<Invitation>>>;
    async fn cancel_invitation(
        &self,
        user_id: &UserId,
        project: ProjectId,
        id: InvitationId,
    ) -> Result<bool>;
    /// Pending invitations to the user's email.
    async fn invitations_for(&self, user_id: &UserId) -> Result<Vec<Invitation>>;
    async fn accept_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<Option<Project>>;
    async fn decline_invitation(
        &self,
        user_id: &UserId,
        id: InvitationId,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    /// A task's comments, oldest first; `None` when the user cannot see the task.
    async fn comments(&self, user_id: &UserId, task: TaskId) -> Result<Option<Vec<Comment>>>;
    async fn comment(&self, user_id: &UserId, id: CommentId) -> Result<Option<Comment>>;
    /// Adds a comment (any member may) and records `commented`.
    async fn add_comment(
        &self,
        user_id: &UserId,
        task: TaskId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>>;
    async fn edit_comment(
        &self,
        user_id: &UserId,
        id: CommentId,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Comment>>;
    async fn delete_comment(&self, user_id: &UserId, id: CommentId) -> Result<bool>;
    /// The project's events, newest first, with ids below `before`.
    async fn activity(
        &self,
        user_id: &UserId,
        project: ProjectId,
        before: Option<EventId>,
        limit: u32,
    ) -> Result<Option<Vec<ActivityEntry>>>;
    /// Deletes the account and its data; each shared project it owns goes to
    /// [`crate::sharing::successor`], else goes with it. `false` when there is no such user.
    async fn delete_account(&self, user_id: &UserId) -> Result<bool>;
}

#[async_trait]
pub trait TagStore {
    /// The user's tags by name (without regard to case), with how many tasks carry each.
    async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>>;
    /// Fails with `Error::Conflict` when the user has a tag of that name.
    async fn insert_tag(
        &self,
        user_id: &UserId,
        name: &TagName,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Tag>;
    /// Fails with `Error::Conflict` when renaming onto another tag's name.
    async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        changes: &TagChanges,
    ) -> Result<Option<Tag>>;
    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool>;
}
