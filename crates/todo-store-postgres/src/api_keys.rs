//! API keys on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::api_key::{ApiKey, scopes_to_text};
use todo_core::ids::{ApiKeyId, UserId};
use todo_core::store::ApiKeyStore;
use todo_store_sql::{API_KEY_COLUMNS, ApiKeyRow};

use crate::PostgresStore;
use crate::rows::{db_error, decode};

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &ApiKey, hash: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(&key.user_id)
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(hash)
        .bind(scopes_to_text(&key.scopes))
        .bind(key.created_at)
        .bind(key.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .try_map(|row| decode::<ApiKeyRow>(&row))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_key(
        &self,
        user_id: &UserId,
        id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .bind(user_id)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hash)
            .try_map(|row| decode::<ApiKeyRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn touch_api_key(&self, id: &ApiKeyId, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
