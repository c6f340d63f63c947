//! Tag queries, and linking tags to a task inside the task's transaction.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::tag::{Tag, TagId, TagName};
use todo_core::task::TaskId;

use todo_store_sql::{TagRow, db_error};

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
    let rows = sqlx::query_as::<_, TagRow>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
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
    let row = sqlx::query_as::<_, TagRow>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(executor)
        .await
        .map_err(db_error)?;
    Ok(row.map(Into::into))
}
