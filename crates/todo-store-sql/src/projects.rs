//! The statements both backends run for projects, their members and sections (the rules are
//! `todo_core::project`'s). Written once with SQLite's `?N` placeholders; PostgreSQL runs them
//! through [`crate::tree::numbered`].

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use todo_core::project::{ProjectChanges, ProjectId, SectionId};

use crate::rows::{PROJECT_COLUMNS, SECTION_COLUMNS};
use crate::sql::{Dialect, Sql};

/// The user's projects (`?1`), the Inbox first, then in their order.
pub static LIST: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PROJECT_COLUMNS} FROM projects p \
         JOIN project_members m ON m.project_id = p.id AND m.user_id = ?1 \
         ORDER BY p.inbox DESC, m.position, p.id"
    )
});

/// One of the user's (`?1`) projects (`?2`).
pub static ONE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PROJECT_COLUMNS} FROM projects p \
         JOIN project_members m ON m.project_id = p.id AND m.user_id = ?1 WHERE p.id = ?2"
    )
});

/// How many projects a user (`?1`) owns.
pub const COUNT_OWNED: &str = "SELECT COUNT(*) FROM projects WHERE owner_id = ?1";

/// A new project (`?1` owner, `?2` name, `?3` colour, `?4` inbox or not, `?5` when).
pub const INSERT: &str = "INSERT INTO projects (owner_id, name, color, inbox, created_at, \
     updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id";

/// A member (`?1` project, `?2` user, `?3` role, `?4` when), last in their sidebar.
pub const INSERT_MEMBER: &str = "INSERT INTO project_members (project_id, user_id, role, \
     position, created_at) VALUES (?1, ?2, ?3, \
     (SELECT COALESCE(MAX(position), 0) + 1 FROM project_members WHERE user_id = ?2), ?4)";

/// The positions of the user's (`?1`) other projects (not `?2`, not the Inbox), in order.
pub const MEMBER_POSITIONS: &str = "SELECT m.position FROM project_members m \
     JOIN projects p ON p.id = m.project_id \
     WHERE m.user_id = ?1 AND m.project_id <> ?2 AND NOT p.inbox ORDER BY m.position, m.project_id";

/// Makes room at position `?3` in the user's (`?1`) sidebar, for project `?2`.
pub const MEMBER_MAKE_ROOM: &str = "UPDATE project_members SET position = position + 1 \
     WHERE user_id = ?1 AND project_id <> ?2 AND position >= ?3";

/// Puts project `?2` at position `?3` in the user's (`?1`) sidebar.
pub const MEMBER_PLACE: &str =
    "UPDATE project_members SET position = ?3 WHERE user_id = ?1 AND project_id = ?2";

/// The ids of a project's (`?1`) tasks.
pub const TASK_IDS: &str = "SELECT id FROM tasks WHERE project_id = ?1 ORDER BY id";

pub const DELETE: &str = "DELETE FROM projects WHERE id = ?1";

/// A section (`?1`) and the user's (`?2`) role in its project, if they are a member.
pub static SECTION_AND_ROLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, m.role FROM sections s \
         JOIN project_members m ON m.project_id = s.project_id AND m.user_id = ?2 WHERE s.id = ?1",
        crate::prefixed("s", SECTION_COLUMNS)
    )
});

/// A project's (`?1`) sections in order.
pub static SECTIONS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SECTION_COLUMNS} FROM sections WHERE project_id = ?1 ORDER BY position, id")
});

/// The positions of a project's (`?1`) sections but `?2`, in order.
pub const SECTION_POSITIONS: &str =
    "SELECT position FROM sections WHERE project_id = ?1 AND id <> ?2 ORDER BY position, id";

/// Makes room at position `?3` among a project's (`?1`) sections, for section `?2`.
pub const SECTION_MAKE_ROOM: &str = "UPDATE sections SET position = position + 1 \
     WHERE project_id = ?1 AND id <> ?2 AND position >= ?3";

/// A new section (`?1` project, `?2` name, `?3` position, `?4` when).
pub static INSERT_SECTION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO sections (project_id, name, position, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4) RETURNING {SECTION_COLUMNS}"
    )
});

/// The top-level tasks of a section (`?1`): deleting it deletes them with their subtasks.
pub const SECTION_TASKS: &str =
    "SELECT id FROM tasks WHERE section_id = ?1 AND parent_id IS NULL ORDER BY id";

pub const DELETE_SECTION: &str = "DELETE FROM sections WHERE id = ?1";

/// `UPDATE projects` for the fields `changes` names (the sidebar position is the member's).
pub fn update(
    dialect: &Dialect,
    id: ProjectId,
    changes: &ProjectChanges,
    now: DateTime<Utc>,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE projects SET updated_at = ");
    sql.bind(now);
    if let Some(name) = &changes.name {
        sql.push(", name = ").bind(name.as_str());
    }
    if let Some(color) = &changes.color {
        sql.push(", color = ").bind(color.clone());
    }
    if let Some(archived) = changes.archived {
        sql.push(", archived = ").bind(archived);
    }
    sql.push(" WHERE id = ").bind(id);
    sql
}

/// `UPDATE sections` for a new name and position.
pub fn update_section(
    dialect: &Dialect,
    id: SectionId,
    name: Option<&str>,
    position: Option<i64>,
    now: DateTime<Utc>,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE sections SET updated_at = ");
    sql.bind(now);
    if let Some(name) = name {
        sql.push(", name = ").bind(name);
    }
    if let Some(position) = position {
        sql.push(", position = ").bind(position);
    }
    sql.push(" WHERE id = ").bind(id);
    sql
}
