//! The statements both backends run for CalDAV's objects (`todo_core::caldav::DavObject`),
//! with SQLite's `?N` placeholders (PostgreSQL runs them through [`crate::tree::numbered`]).

use todo_core::caldav::DavObject;
use todo_core::task::TaskId;

use crate::rows::{Columns, FromColumns};

pub struct DavRow(pub DavObject);

impl FromColumns for DavRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(DavRow(DavObject {
            task_id: TaskId::new(row.big(0)?),
            name: row.text(1)?,
            uid: row.text(2)?,
            extra: row.text(3)?,
        }))
    }
}

impl From<DavRow> for DavObject {
    fn from(row: DavRow) -> Self {
        row.0
    }
}

/// The objects of the tasks in project `?1`.
pub const OF_PROJECT: &str = "SELECT d.task_id, d.name, d.uid, d.extra FROM dav_objects d \
     JOIN tasks t ON t.id = d.task_id WHERE t.project_id = ?1";

/// The object of task `?1`.
pub const OF_TASK: &str = "SELECT task_id, name, uid, extra FROM dav_objects WHERE task_id = ?1";

/// The task of project `?1` named `?2`.
pub const NAMED: &str = "SELECT d.task_id FROM dav_objects d JOIN tasks t ON t.id = d.task_id \
     WHERE t.project_id = ?1 AND d.name = ?2";

/// Stores task `?1`'s object: name `?2`, UID `?3`, extra lines `?4`, at `?5`.
pub const PUT: &str = "INSERT INTO dav_objects (task_id, name, uid, extra, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (task_id) DO UPDATE SET name = excluded.name, \
     uid = excluded.uid, extra = excluded.extra, updated_at = excluded.updated_at";

/// Forgets the objects of deleted tasks written before `?1`.
pub const PRUNE: &str = "DELETE FROM dav_objects WHERE updated_at < ?1 \
     AND NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.id = dav_objects.task_id)";

/// The user's (`?1`) calendars a client named: (name, project).
pub const COLLECTIONS: &str = "SELECT name, project_id FROM dav_collections WHERE user_id = ?1";

/// Two calendars made at once at the same path: the second is told so.
pub const COLLECTION_CONFLICT: &str = "a calendar is already at that path";

/// Names project `?3` `?2` for user `?1`.
pub const PUT_COLLECTION: &str =
    "INSERT INTO dav_collections (user_id, name, project_id) VALUES (?1, ?2, ?3)";
