//! Partial updates: one `UPDATE` that sets only the fields a change names, so concurrent
//! changes to different fields do not lose each other.

use chrono::{DateTime, Utc};
use todo_core::ids::UserId;
use todo_core::store::ProfileChanges;
use todo_core::tag::{TagChanges, TagId};
use todo_core::task::{TaskChanges, TaskId};

use crate::sql::{Dialect, Sql};

/// `UPDATE tasks` for the fields `changes` names; completing keeps the first `completed_at`.
/// The caller has read the task in its transaction, as the user may see it.
pub fn task(dialect: &Dialect, id: TaskId, changes: &TaskChanges, now: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE tasks SET updated_at = ");
    sql.bind(now);
    if let Some(title) = &changes.title {
        sql.push(", title = ").bind(title.clone());
    }
    if let Some(description) = &changes.description {
        sql.push(", description = ").bind(description.clone());
    }
    if let Some(priority) = changes.priority {
        sql.push(", priority = ").bind(priority.rank());
    }
    if let Some(due) = &changes.due {
        sql.push(", due_at = ").bind(due.due.at());
        sql.push(", due_date = ").bind(due.due.date());
        sql.push(", due_key = ").bind(due.key);
        sql.push(", due_local = ").bind(due.local);
        sql.push(", due_timezone = ")
            .bind(due.zone.map(|z| z.name().to_owned()));
    }
    if let Some(recurrence) = &changes.recurrence {
        sql.push(", recurrence = ").bind(recurrence.clone());
    }
    if let Some(mode) = changes.recurrence_mode {
        sql.push(", recurrence_mode = ").bind(mode.as_str());
    }
    if let Some(completed) = changes.completed {
        sql.push(", completed = ").bind(completed);
        sql.push(", completed_at = CASE WHEN ").bind(completed);
        sql.push(" THEN COALESCE(completed_at, ").bind(now);
        sql.push(") ELSE NULL END");
    }
    if let Some(assignee) = &changes.assignee {
        sql.push(", assignee_id = ")
            .bind(assignee.as_ref().map(UserId::as_str));
    }
    sql.push(" WHERE id = ").bind(id);
    sql
}

/// `UPDATE users` for the fields `changes` names.
pub fn user(dialect: &Dialect, id: &UserId, changes: &ProfileChanges, now: DateTime<Utc>) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE users SET updated_at = ");
    sql.bind(now);
    if let Some(name) = &changes.name {
        sql.push(", name = ").bind(name.clone());
    }
    if let Some(tz) = &changes.timezone {
        sql.push(", timezone = ").bind(tz.as_str());
    }
    sql.push(" WHERE id = ").bind(id);
    sql
}

/// `UPDATE tags` for the fields `changes` names.
pub fn tag(dialect: &Dialect, user_id: &UserId, id: TagId, changes: &TagChanges) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE tags SET user_id = user_id");
    if let Some(name) = &changes.name {
        sql.push(", name = ").bind(name.name.as_str());
        sql.push(", name_key = ").bind(name.key.as_str());
    }
    if let Some(color) = &changes.color {
        sql.push(", color = ").bind(color.clone());
    }
    sql.push(" WHERE user_id = ").bind(user_id);
    sql.push(" AND id = ").bind(id);
    sql
}
