//! Tag queries, and linking tags to a task inside the task's transaction.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::tag::{Tag, TagId, TagName};
use todo_core::task::TaskId;
use todo_core::time::to_sortable_text as ts;

use crate::rows::{db_error, tag};
use crate::sql;

const TAG_SELECT: &str = "SELECT t.id, t.name, t.color, t.created_at, \
     (SELECT COUNT(*) FROM task_tags tt WHERE tt.tag_id = t.id) AS task_count FROM tags t";

/// Creates the tags that do not exist yet and links all of them to the task.
pub fn link(
    conn: &Connection,
    user_id: &UserId,
    task_id: TaskId,
    tags: &[TagName],
    now: DateTime<Utc>,
) -> Result<()> {
    for tag in tags {
        sql::execute(
            conn,
            "INSERT INTO tags (user_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (user_id, name_key) DO NOTHING",
            (user_id, &tag.name, &tag.key, ts(&now)),
        )
        .map_err(db_error)?;
        sql::execute(
            conn,
            "INSERT INTO task_tags (user_id, task_id, tag_id) \
             SELECT ?1, ?2, id FROM tags WHERE user_id = ?1 AND name_key = ?3 \
             ON CONFLICT DO NOTHING",
            (user_id, task_id, &tag.key),
        )
        .map_err(db_error)?;
    }
    Ok(())
}

pub fn list(conn: &Connection, user_id: &UserId) -> Result<Vec<Tag>> {
    let rows = sql::all(
        conn,
        &format!("{TAG_SELECT} WHERE t.user_id = ?1 ORDER BY t.name_key"),
        [user_id],
        tag,
    )
    .map_err(db_error)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub fn get(conn: &Connection, user_id: &UserId, id: TagId) -> Result<Option<Tag>> {
    let row = sql::one(
        conn,
        &format!("{TAG_SELECT} WHERE t.user_id = ?1 AND t.id = ?2"),
        (user_id, id),
        tag,
    )
    .map_err(db_error)?;
    Ok(row.map(Into::into))
}
