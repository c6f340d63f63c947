//! API keys on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::api_key::{ApiKey, scopes_to_text};
use todo_core::ids::{ApiKeyId, UserId};
use todo_core::store::ApiKeyStore;
use todo_store_sql::{API_KEY_COLUMNS, ApiKeyRow};

use crate::PostgresStore;
use crate::sql;

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &ApiKey, hash: &str) -> Result<()> {
        let sql = "INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at, \
                   expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        let values = [
            (&key.id).into(),
            (&key.user_id).into(),
            (&key.name).into(),
            (&key.prefix).into(),
            hash.into(),
            scopes_to_text(&key.scopes).into(),
            key.created_at.into(),
            key.expires_at.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>> {
        let sql = format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = $1 \
             AND revoked_at IS NULL ORDER BY created_at DESC, id DESC"
        );
        sql::rows::<ApiKeyRow, _>(&self.pool, sql, [user_id.into()]).await
    }

    async fn revoke_api_key(
        &self,
        user_id: &UserId,
        id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let sql = "UPDATE api_keys SET revoked_at = $1 \
                   WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
        let values = [now.into(), id.into(), user_id.into()];
        sql::run(&self.pool, sql, values).await.map(|done| done > 0)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE hash = $1");
        sql::row::<ApiKeyRow, _>(&self.pool, sql, [hash.into()]).await
    }

    async fn touch_api_key(&self, id: &ApiKeyId, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE api_keys SET last_used_at = $1 WHERE id = $2";
        sql::run(&self.pool, sql, [now.into(), id.into()])
            .await
            .map(drop)
    }
}
