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
use crate::rows::{db_error, decode, tag_conflict};
use crate::sql::{DIALECT, bound};

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
        .map_err(tag_conflict)?;
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
            .map_err(tag_conflict)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        get(&self.pool, user_id, id).await
    }

    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tags WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
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
        sqlx::query(
            "INSERT INTO tags (user_id, name, name_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, name_key) DO NOTHING",
        )
        .bind(user_id)
        .bind(&tag.name)
        .bind(&tag.key)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO task_tags (user_id, task_id, tag_id) \
             SELECT $1, $2, id FROM tags WHERE user_id = $1 AND name_key = $3 \
             ON CONFLICT DO NOTHING",
        )
        .bind(user_id)
        .bind(task_id)
        .bind(&tag.key)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

pub async fn list<'e>(executor: impl PgExecutor<'e>, user_id: &UserId) -> Result<Vec<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = $1 ORDER BY t.name_key");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .try_map(|row| decode::<TagRow>(&row))
        .fetch_all(executor)
        .await
        .map_err(db_error)?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn get<'e>(
    executor: impl PgExecutor<'e>,
    user_id: &UserId,
    id: TagId,
) -> Result<Option<Tag>> {
    let sql = format!("{TAG_SELECT} WHERE t.user_id = $1 AND t.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .try_map(|row| decode::<TagRow>(&row))
        .fetch_optional(executor)
        .await
        .map_err(db_error)?;
    Ok(row.map(Into::into))
}
