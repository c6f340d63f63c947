//! Tags on SQLite, and linking tags to a task inside the task's transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use todo_core::ids::UserId;
use todo_core::store::TagStore;
use todo_core::tag::{Tag, TagChanges, TagId, TagName};
use todo_core::task::TaskId;
use todo_core::time::to_sortable_text as ts;
use todo_core::{Error, Result};
use todo_store_sql::{TAG_CONFLICT, TagRow, updates};

use crate::rows::{conflict, db_error};
use crate::sql::{self, DIALECT, Run};
use crate::{SqliteStore, savepoint};

#[async_trait]
impl TagStore for SqliteStore {
    async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| list(conn, &user_id)).await
    }

    async fn insert_tag(
        &self,
        user_id: &UserId,
        name: &TagName,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Tag> {
        let (user_id, name, color) = (user_id.to_owned(), name.clone(), color.map(str::to_owned));
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let id: TagId = sql::one(
                &tx,
                "INSERT INTO tags (user_id, name, name_key, color, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                (&user_id, &name.name, &name.key, &color, ts(&now)),
                |row| row.get(0),
            )
            .map_err(conflict(TAG_CONFLICT))?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
            let tag =
                get(&tx, &user_id, id)?.ok_or_else(|| Error::internal("inserted tag vanished"))?;
            tx.commit().map_err(db_error)?;
            Ok(tag)
        })
        .await
    }

    async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        changes: &TagChanges,
    ) -> Result<Option<Tag>> {
        let sql = updates::tag(&DIALECT, user_id, id, changes);
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            if sql.execute(&tx).map_err(conflict(TAG_CONFLICT))? == 0 {
                return Ok(None);
            }
            let tag = get(&tx, &user_id, id)?;
            tx.commit().map_err(db_error)?;
            Ok(tag)
        })
        .await
    }

    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool> {
        let sql = "DELETE FROM tags WHERE user_id = ?1 AND id = ?2";
        let values = [user_id.into(), id.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(|done| done > 0))
            .await
    }
}

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
        let sql = "INSERT INTO tags (user_id, name, name_key, created_at) VALUES (?1, ?2, ?3, ?4) \
                   ON CONFLICT (user_id, name_key) DO NOTHING";
        let values = [
            user_id.into(),
            (&tag.name).into(),
            (&tag.key).into(),
            now.into(),
        ];
        sql::run(conn, sql, values)?;
        let sql = "INSERT INTO task_tags (user_id, task_id, tag_id) \
                   SELECT ?1, ?2, id FROM tags WHERE user_id = ?1 AND name_key = ?3 \
                   ON CONFLICT DO NOTHING";
        sql::run(
            conn,
            sql,
            [user_id.into(), task_id.into(), (&tag.key).into()],
        )?;
    }
    Ok(())
}

pub fn list(conn: &Connection, user_id: &UserId) -> Result<Vec<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = ?1 ORDER BY t.name_key");
    sql::rows::<TagRow, _>(conn, &sql, [user_id.into()])
}

pub fn get(conn: &Connection, user_id: &UserId, id: TagId) -> Result<Option<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = ?1 AND t.id = ?2");
    sql::row::<TagRow, _>(conn, &sql, [user_id.into(), id.into()])
}
