//! The statements both backends run for sharing: members, invitations, comments, activity and
//! the deletion of an account (the rules are `todo_core::sharing`'s). Written once with
//! SQLite's `?N` placeholders; PostgreSQL runs them through [`crate::tree::numbered`].

use todo_core::events::{Activity, EventId};
use todo_core::ids::{CommentId, InvitationId, ProjectId, UserId};
use todo_core::project::Role;
use todo_core::sharing::{ActivityEntry, Comment, Invitation, Member};
use todo_core::task::TaskId;

use crate::rows::{Columns, FromColumns};

/// What a unique violation on a pending invitation means.
pub const INVITATION_CONFLICT: &str = "this address has an invitation to the project already";
/// What a unique violation on `project_members` means.
pub const MEMBER_CONFLICT: &str = "already a member of this project";

/// A project's (`?1`) members, the owner first, then by when they joined.
pub const MEMBERS: &str = "SELECT m.user_id, u.name, u.email, m.role, m.created_at \
     FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 \
     ORDER BY CASE m.role WHEN 'owner' THEN 0 ELSE 1 END, m.created_at, m.user_id";

/// Gives a member (`?2`) of a project (`?1`) the role `?3`.
pub const SET_ROLE: &str =
    "UPDATE project_members SET role = ?3 WHERE project_id = ?1 AND user_id = ?2";

/// Makes `?2` the owner of project `?1` at `?3`.
pub const SET_OWNER: &str = "UPDATE projects SET owner_id = ?2, updated_at = ?3 WHERE id = ?1";

pub const REMOVE_MEMBER: &str =
    "DELETE FROM project_members WHERE project_id = ?1 AND user_id = ?2";

/// What a member (`?2`) leaving a project (`?1`) takes along: the tasks assigned to them are
/// unassigned; their reminders and labels on its tasks, and their webhooks scoped to it, go.
pub const LEAVING: [&str; 4] = [
    "UPDATE tasks SET assignee_id = NULL WHERE project_id = ?1 AND assignee_id = ?2",
    "DELETE FROM reminders WHERE user_id = ?2 \
     AND task_id IN (SELECT id FROM tasks WHERE project_id = ?1)",
    "DELETE FROM task_tags WHERE user_id = ?2 \
     AND task_id IN (SELECT id FROM tasks WHERE project_id = ?1)",
    "DELETE FROM webhooks WHERE user_id = ?2 AND project_id = ?1",
];

const INVITATION_SELECT: &str = "SELECT i.id, i.project_id, p.name, i.email, i.role, \
     i.invited_by, u.name, u.email, i.created_at FROM invitations i \
     JOIN projects p ON p.id = i.project_id JOIN users u ON u.id = i.invited_by \
     WHERE i.accepted_at IS NULL AND i.declined_at IS NULL";

/// A project's (`?1`) pending invitations.
pub static PROJECT_INVITATIONS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{INVITATION_SELECT} AND i.project_id = ?1 ORDER BY i.id"));

/// The pending invitations to the email of user `?1`.
pub static INVITATIONS_FOR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{INVITATION_SELECT} AND lower(i.email) = \
         (SELECT lower(email) FROM users WHERE id = ?1) ORDER BY i.id"
    )
});

/// One pending invitation (`?2`) to the email of user `?1`.
pub static INVITATION_FOR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{INVITATION_SELECT} AND lower(i.email) = \
         (SELECT lower(email) FROM users WHERE id = ?1) AND i.id = ?2"
    )
});

/// One pending invitation (`?2`) to a project (`?1`).
pub static PROJECT_INVITATION: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{INVITATION_SELECT} AND i.project_id = ?1 AND i.id = ?2"));

/// Whether the address `?2` (lower case) is a member's of project `?1`.
pub const IS_MEMBER_EMAIL: &str = "SELECT COUNT(*) FROM project_members m \
     JOIN users u ON u.id = m.user_id WHERE m.project_id = ?1 AND lower(u.email) = ?2";

/// A project's (`?1`) members and pending invitations.
pub const COUNT_MEMBERS_AND_PENDING: &str = "SELECT \
     (SELECT COUNT(*) FROM project_members WHERE project_id = ?1), \
     (SELECT COUNT(*) FROM invitations WHERE project_id = ?1 \
      AND accepted_at IS NULL AND declined_at IS NULL)";

/// A new invitation (`?1` project, `?2` email, `?3` role, `?4` by, `?5` when).
pub const INSERT_INVITATION: &str = "INSERT INTO invitations \
     (project_id, email, role, invited_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";

pub const CANCEL_INVITATION: &str = "DELETE FROM invitations WHERE project_id = ?1 AND id = ?2 \
     AND accepted_at IS NULL AND declined_at IS NULL";
pub const ACCEPT_INVITATION: &str = "UPDATE invitations SET accepted_at = ?2 WHERE id = ?1";
pub const DECLINE_INVITATION: &str = "UPDATE invitations SET declined_at = ?2 WHERE id = ?1";

/// A member's row as the sharing rules read it (`?1`, `?2`: project, user) — their role.
pub const ROLE: &str = "SELECT role FROM project_members WHERE project_id = ?1 AND user_id = ?2";

const COMMENT_SELECT: &str = "SELECT c.id, c.task_id, c.author_id, u.name, c.body, \
     c.created_at, c.updated_at FROM comments c JOIN users u ON u.id = c.author_id";

/// A task's (`?1`) comments, oldest first.
pub static COMMENTS: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{COMMENT_SELECT} WHERE c.task_id = ?1 ORDER BY c.id"));

/// A comment (`?1`) and the role of user `?2` in its task's project, if they are a member.
pub static COMMENT_AND_ROLE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    "SELECT c.id, c.task_id, c.author_id, u.name, c.body, c.created_at, c.updated_at, \
     m.role FROM comments c JOIN users u ON u.id = c.author_id \
     JOIN tasks t ON t.id = c.task_id \
     JOIN project_members m ON m.project_id = t.project_id AND m.user_id = ?2 \
     WHERE c.id = ?1"
        .to_owned()
});

/// One comment (`?1`).
pub static COMMENT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{COMMENT_SELECT} WHERE c.id = ?1"));

pub const COUNT_COMMENTS: &str = "SELECT COUNT(*) FROM comments WHERE task_id = ?1";
/// A new comment (`?1` task, `?2` author, `?3` body, `?4` when).
pub const INSERT_COMMENT: &str = "INSERT INTO comments (task_id, author_id, body, created_at, \
     updated_at) VALUES (?1, ?2, ?3, ?4, ?4) RETURNING id";
pub const EDIT_COMMENT: &str = "UPDATE comments SET body = ?2, updated_at = ?3 WHERE id = ?1";
pub const DELETE_COMMENT: &str = "DELETE FROM comments WHERE id = ?1";

/// A project's (`?1`) events below id `?2`, newest first, at most `?3` (reminders are
/// personal: not the project's activity).
pub const ACTIVITY: &str = "SELECT e.id, e.action, e.event_type, e.task_id, e.task_data, \
     e.user_id, u.name, e.created_at FROM events e LEFT JOIN users u ON u.id = e.user_id \
     WHERE e.project_id = ?1 AND e.id < ?2 AND e.event_type <> 'reminder' \
     ORDER BY e.id DESC LIMIT ?3";

/// The shared projects user `?1` owns (an Inbox is never shared, and goes with the account).
pub const OWNED_PROJECTS: &str = "SELECT id FROM projects WHERE owner_id = ?1 AND NOT inbox";

/// Tasks the leaving user `?1` made in projects that stay (owned by others) pass to the
/// project's owner, so the account's deletion does not take them (their import keys are the
/// leaving user's: dropped).
pub const HAND_OVER_TASKS: &str = "UPDATE tasks SET \
     user_id = (SELECT owner_id FROM projects WHERE projects.id = tasks.project_id), \
     import_key = NULL WHERE user_id = ?1 AND project_id IN \
     (SELECT id FROM projects WHERE owner_id <> ?1)";

pub const DELETE_PROJECT: &str = "DELETE FROM projects WHERE id = ?1";
pub const DELETE_USER: &str = "DELETE FROM users WHERE id = ?1";

fn role(text: &str) -> Role {
    // Only the store writes role columns, from `Role::as_str`.
    text.parse().unwrap_or(Role::Viewer)
}

pub struct MemberRow(pub Member);

impl FromColumns for MemberRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(MemberRow(Member {
            user_id: UserId::new(row.text(0)?),
            name: row.opt_text(1)?,
            email: row.opt_text(2)?,
            role: role(&row.text(3)?),
            joined_at: row.time(4)?,
        }))
    }
}

impl From<MemberRow> for Member {
    fn from(row: MemberRow) -> Self {
        row.0
    }
}

pub struct InvitationRow(pub Invitation);

impl FromColumns for InvitationRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(InvitationRow(Invitation {
            id: InvitationId::new(row.big(0)?),
            project_id: ProjectId::new(row.big(1)?),
            project_name: row.text(2)?,
            email: row.text(3)?,
            role: role(&row.text(4)?),
            invited_by: UserId::new(row.text(5)?),
            invited_by_name: row.opt_text(6)?,
            invited_by_email: row.opt_text(7)?,
            created_at: row.time(8)?,
        }))
    }
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Self {
        row.0
    }
}

pub struct CommentRow(pub Comment);

impl FromColumns for CommentRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(CommentRow(Comment {
            id: CommentId::new(row.big(0)?),
            task_id: TaskId::new(row.big(1)?),
            author_id: UserId::new(row.text(2)?),
            author_name: row.opt_text(3)?,
            body: row.text(4)?,
            created_at: row.time(5)?,
            updated_at: row.time(6)?,
        }))
    }
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        row.0
    }
}

/// A comment and the reader's role in its project ([`COMMENT_AND_ROLE`]).
pub struct CommentAndRoleRow(pub Comment, pub Role);

impl FromColumns for CommentAndRoleRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let CommentRow(comment) = CommentRow::from_columns(row)?;
        Ok(CommentAndRoleRow(comment, role(&row.text(7)?)))
    }
}

pub struct ActivityRow(pub ActivityEntry);

impl FromColumns for ActivityRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let action = row
            .opt_text(1)?
            .as_deref()
            .and_then(Activity::from_text)
            .or_else(|| Activity::from_text(&row.text(2).ok()?))
            .unwrap_or(Activity::Updated);
        let data: serde_json::Value = serde_json::from_str(&row.text(4)?).unwrap_or_default();
        Ok(ActivityRow(ActivityEntry {
            id: row.big(0)?,
            action,
            task_id: TaskId::new(row.big(3)?),
            task_title: data["title"].as_str().unwrap_or_default().to_owned(),
            user_id: UserId::new(row.text(5)?),
            user_name: row.opt_text(6)?,
            timestamp: row.time(7)?,
        }))
    }
}

impl From<ActivityRow> for ActivityEntry {
    fn from(row: ActivityRow) -> Self {
        row.0
    }
}

/// The id below which an activity page reads.
pub fn activity_before(before: Option<EventId>) -> i64 {
    before.unwrap_or(i64::MAX)
}

/// The events that reached user `?1` with ids above `?2`, oldest first.
pub static EVENTS_AFTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM event_recipients r JOIN events e ON e.id = r.event_id \
         WHERE r.user_id = ?1 AND r.event_id > ?2 ORDER BY r.event_id LIMIT ?3",
        crate::EVENT_COLUMNS
    )
});

/// The newest event that reached user `?1`.
pub const LAST_EVENT: &str = "SELECT MAX(event_id) FROM event_recipients WHERE user_id = ?1";

/// One event (`?1`), for a webhook delivery.
pub static EVENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {} FROM events e WHERE e.id = ?1",
        crate::EVENT_COLUMNS
    )
});

/// Who an event (`?1` its id) reaches: the members of its project `?2` (and of `?3`, the
/// project a move took the task from), or with `?4`, only the acting user `?5` (a reminder, or
/// a task outside any project).
pub const INSERT_RECIPIENTS: &str = "INSERT INTO event_recipients (user_id, event_id) \
     SELECT DISTINCT a.user_id, ?1 FROM ( \
         SELECT user_id FROM project_members WHERE NOT ?4 AND project_id IN (?2, ?3) \
         UNION SELECT ?5 WHERE ?4) a";

/// Deliveries of an event (`?1`, at `?2`) to the webhooks it is for: the project's (`?3`)
/// owner's, or with `?4` the acting user's (`?5`), unscoped or scoped to that project.
pub const QUEUE_DELIVERIES: &str = "INSERT INTO jobs (kind, user_id, event_id, webhook_id, \
     run_at) SELECT 'webhook', w.user_id, ?1, w.id, ?2 FROM webhooks w \
     WHERE w.disabled_at IS NULL AND (w.project_id IS NULL OR w.project_id = ?3) \
     AND w.user_id = CASE WHEN ?4 THEN ?5 \
         ELSE (SELECT owner_id FROM projects WHERE id = ?3) END";

/// Whether user `?2` is a member of project `?1` (an assignee must be).
pub const IS_MEMBER: &str =
    "SELECT COUNT(*) FROM project_members WHERE project_id = ?1 AND user_id = ?2";

/// Unassigns the tasks of project `?1` whose assignee is not one of its members (after a move
/// brought them from another project).
pub const UNASSIGN_STRANGERS: &str = "UPDATE tasks SET assignee_id = NULL \
     WHERE project_id = ?1 AND assignee_id IS NOT NULL \
     AND assignee_id NOT IN (SELECT user_id FROM project_members WHERE project_id = ?1)";

/// The reminders on task `?1` of users other than `?2`, grouped by user.
pub const OTHERS_REMINDERS: &str = "SELECT user_id, id, remind_at, minutes_before, sent_at \
     FROM reminders WHERE task_id = ?1 AND user_id <> ?2 ORDER BY user_id, remind_at, id";

/// A reminder and whose it is ([`OTHERS_REMINDERS`]).
pub struct OwnedReminderRow(pub UserId, pub todo_core::reminders::Reminder);

impl FromColumns for OwnedReminderRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(OwnedReminderRow(
            UserId::new(row.text(0)?),
            todo_core::reminders::Reminder {
                id: row.big(1)?,
                remind_at: row.time(2)?,
                minutes_before: row.opt_big(3)?,
                sent_at: row.opt_time(4)?,
            },
        ))
    }
}

impl From<OwnedReminderRow> for (UserId, todo_core::reminders::Reminder) {
    fn from(row: OwnedReminderRow) -> Self {
        (row.0, row.1)
    }
}

/// `rows` (ordered by user) as each user's reminders.
pub fn by_user(
    rows: Vec<(UserId, todo_core::reminders::Reminder)>,
) -> Vec<(UserId, Vec<todo_core::reminders::Reminder>)> {
    let mut grouped: Vec<(UserId, Vec<todo_core::reminders::Reminder>)> = Vec::new();
    for (user, reminder) in rows {
        match grouped.last_mut() {
            Some((last, list)) if *last == user => list.push(reminder),
            _ => grouped.push((user, vec![reminder])),
        }
    }
    grouped
}
