//! Tags on PostgreSQL, and linking tags to a task inside the task's transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use todo_core::ids::UserId;
use todo_core::store::TagStore;
use todo_core::tag::{Tag, TagChanges, TagId, TagName};
use todo_core::task::TaskId;
use todo_core::{Error, Result};
use todo_store_sql::{TagRow, updates};

use crate::PostgresStore;
use crate::rows::conflict;
use crate::sql::{self, DIALECT, bound};
use todo_store_sql::TAG_CONFLICT;

#[async_trait]
impl TagStore for PostgresStore {
    async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>> {
        list(&self.pool, user_id).await
    }

    async fn insert_tag(
        &self,
        user_id: &UserId,
        name: &TagName,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Tag> {
        let id: TagId = sqlx::query_scalar(
            "INSERT INTO tags (user_id, name, name_key, color, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(&name.name)
        .bind(&name.key)
        .bind(color)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(conflict(TAG_CONFLICT))?;
        get(&self.pool, user_id, id)
            .await?
            .ok_or_else(|| Error::internal("inserted tag vanished"))
    }

    async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        changes: &TagChanges,
    ) -> Result<Option<Tag>> {
        let done = bound(updates::tag(&DIALECT, user_id, id, changes))?
            .execute(&self.pool)
            .await
            .map_err(conflict(TAG_CONFLICT))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        get(&self.pool, user_id, id).await
    }

    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool> {
        let sql = "DELETE FROM tags WHERE user_id = $1 AND id = $2";
        let done = sql::run(&self.pool, sql, [user_id.into(), id.into()]).await?;
        Ok(done > 0)
    }
}

const TAG_SELECT: &str = "SELECT t.id, t.name, t.color, t.created_at, \
     (SELECT COUNT(*) FROM task_tags tt WHERE tt.user_id = t.user_id AND tt.tag_id = t.id) AS task_count FROM tags t";

/// Creates the tags that do not exist yet and links all of them to the task.
pub async fn link(
    tx: &mut sqlx::PgConnection,
    user_id: &UserId,
    task_id: TaskId,
    tags: &[TagName],
    now: DateTime<Utc>,
) -> Result<()> {
    for tag in tags {
        let sql = "INSERT INTO tags (user_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
                   ON CONFLICT (user_id, name_key) DO NOTHING";
        let values = [
            user_id.into(),
            (&tag.name).into(),
            (&tag.key).into(),
            now.into(),
        ];
        sql::run(&mut *tx, sql, values).await?;
        let sql = "INSERT INTO task_tags (user_id, task_id, tag_id) \
                   SELECT $1, $2, id FROM tags WHERE user_id = $1 AND name_key = $3 \
                   ON CONFLICT DO NOTHING";
        sql::run(
            &mut *tx,
            sql,
            [user_id.into(), task_id.into(), (&tag.key).into()],
        )
        .await?;
    }
    Ok(())
}

pub async fn list<'e>(executor: impl PgExecutor<'e>, user_id: &UserId) -> Result<Vec<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = $1 ORDER BY t.name_key");
    sql::rows::<TagRow, _>(executor, sql, [user_id.into()]).await
}

pub async fn get<'e>(
    executor: impl PgExecutor<'e>,
    user_id: &UserId,
    id: TagId,
) -> Result<Option<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = $1 AND t.id = $2");
    sql::row::<TagRow, _>(executor, sql, [user_id.into(), id.into()]).await
}
