//! The statements both backends run to store an import (`todo_core::transfer::ImportBatch`):
//! the projects and sections it reuses or makes, and the tasks it finds by import key.
//! Written once with SQLite's `?N` placeholders; PostgreSQL runs them through
//! [`crate::tree::numbered`].

use todo_core::planning::Completion;
use todo_core::task::TaskId;

use crate::{Columns, CompletionRow, FromColumns};

/// An imported tag (`?1` user, `?2` name, `?3` key, `?4` colour, `?5` when), unless the user
/// has it.
pub const TAG: &str = "INSERT INTO tags (user_id, name, name_key, color, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, name_key) DO NOTHING";

/// A project the user (`?1`) owns named `?2` (not the Inbox), the oldest first.
pub const OWNED_PROJECT_NAMED: &str = "SELECT id FROM projects \
     WHERE owner_id = ?1 AND name = ?2 AND NOT inbox ORDER BY id LIMIT 1";

/// The user's (`?1`) Inbox.
pub const INBOX: &str = "SELECT id FROM projects WHERE owner_id = ?1 AND inbox";

/// Whether a project (`?1`) is archived.
pub const PROJECT_ARCHIVED: &str = "SELECT archived FROM projects WHERE id = ?1";

/// Archives a project (`?1`) an import has just made.
pub const ARCHIVE_PROJECT: &str = "UPDATE projects SET archived = ?2 WHERE id = ?1";

/// A section of project `?1` named `?2`, the first in order.
pub const SECTION_NAMED: &str = "SELECT id FROM sections \
     WHERE project_id = ?1 AND name = ?2 ORDER BY position, id LIMIT 1";

/// How many sections project `?1` has.
pub const SECTION_COUNT: &str = "SELECT COUNT(*) FROM sections WHERE project_id = ?1";

/// The position after a project's (`?1`) last section.
pub const NEXT_SECTION_POSITION: &str =
    "SELECT COALESCE(MAX(position), 0) + 1 FROM sections WHERE project_id = ?1";

/// The user's (`?1`) task imported with key `?2`.
pub const TASK_BY_IMPORT_KEY: &str = "SELECT id FROM tasks WHERE user_id = ?1 AND import_key = ?2";

/// Records an imported completion (`?1` task, `?2` when, `?3` by whom, then the due and rule
/// it had): the same row a completion writes.
pub const RECORD_COMPLETION: &str = crate::tree::RECORD_COMPLETION;

/// How a task row is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// A new task: last in its project, completed (if it is) now.
    New,
    /// An imported task: skipped when the user has its import key, at its own position and
    /// completion moment when it has them.
    Imported {
        position: Option<i64>,
        completed_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

impl Insert {
    pub fn skips_known_keys(self) -> bool {
        matches!(self, Insert::Imported { .. })
    }

    pub fn position(self) -> Option<i64> {
        match self {
            Insert::New => None,
            Insert::Imported { position, .. } => position,
        }
    }

    /// When a task inserted `now` as `completed` was completed.
    pub fn completed_at(
        self,
        completed: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        let given = match self {
            Insert::New => None,
            Insert::Imported { completed_at, .. } => completed_at,
        };
        completed.then(|| given.unwrap_or(now))
    }
}

/// Every completion of the tasks of the user's (`?1`) projects, task by task in order, at
/// most `?2`: for the export.
pub const USER_COMPLETIONS: &str = "SELECT c.id, c.completed_at, c.due_at, c.due_date, \
     c.due_local, c.due_timezone, c.recurrence, c.task_id FROM task_completions c \
     JOIN tasks t ON t.id = c.task_id \
     JOIN project_members m ON m.project_id = t.project_id AND m.user_id = ?1 \
     ORDER BY c.task_id, c.completed_at, c.id LIMIT ?2";

/// The latest completions of the recurring tasks in the user's (`?1`) projects that are open
/// (moved on to their next occurrence), newest first, at most `?2`, each with its task's title.
pub const RECURRING_COMPLETIONS: &str = "SELECT c.id, c.completed_at, c.due_at, c.due_date, \
     c.due_local, c.due_timezone, c.recurrence, c.task_id, t.title FROM task_completions c \
     JOIN tasks t ON t.id = c.task_id \
     JOIN project_members m ON m.project_id = t.project_id AND m.user_id = ?1 \
     WHERE t.recurrence IS NOT NULL AND NOT t.completed \
     ORDER BY c.completed_at DESC, c.id DESC LIMIT ?2";

/// A row of [`RECURRING_COMPLETIONS`]: a completion, its task and the task's title.
pub struct TitledCompletionRow(pub TaskId, pub String, pub Completion);

impl FromColumns for TitledCompletionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let TaskCompletionRow(task, completion) = TaskCompletionRow::from_columns(row)?;
        Ok(TitledCompletionRow(task, row.text(8)?, completion))
    }
}

impl From<TitledCompletionRow> for (TaskId, String, Completion) {
    fn from(row: TitledCompletionRow) -> Self {
        (row.0, row.1, row.2)
    }
}

/// A row of [`USER_COMPLETIONS`]: a completion and its task.
pub struct TaskCompletionRow(pub TaskId, pub Completion);

impl FromColumns for TaskCompletionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        let CompletionRow(completion) = CompletionRow::from_columns(row)?;
        Ok(TaskCompletionRow(TaskId::new(row.big(7)?), completion))
    }
}

impl From<TaskCompletionRow> for (TaskId, Completion) {
    fn from(row: TaskCompletionRow) -> Self {
        (row.0, row.1)
    }
}
