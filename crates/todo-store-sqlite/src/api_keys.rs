//! API keys on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::Result;
use todo_core::api_key::{ApiKey, scopes_to_text};
use todo_core::ids::{ApiKeyId, UserId};
use todo_core::store::ApiKeyStore;
use todo_core::time::to_sortable_text as ts;

use crate::SqliteStore;
use todo_store_sql::{API_KEY_COLUMNS, ApiKeyRow};

use crate::rows::{db_error, decode};
use crate::sql;

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKey, hash: &str) -> Result<()> {
        let (key, hash) = (key.clone(), hash.to_owned());
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO api_keys (id, user_id, name, prefix, hash, scopes, created_at, \
                 expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                (
                    &key.id,
                    &key.user_id,
                    &key.name,
                    &key.prefix,
                    &hash,
                    scopes_to_text(&key.scopes),
                    ts(&key.created_at),
                    key.expires_at.as_ref().map(ts),
                ),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn list_api_keys(&self, user_id: &UserId) -> Result<Vec<ApiKey>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE user_id = ?1 \
                 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC"
            );
            let rows = sql::all(conn, &sql, [&user_id], decode::<ApiKeyRow>).map_err(db_error)?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        user_id: &UserId,
        id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let (user_id, id) = (user_id.to_owned(), id.to_owned());
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "UPDATE api_keys SET revoked_at = ?1 \
                 WHERE id = ?2 AND user_id = ?3 AND revoked_at IS NULL",
                (ts(&now), &id, &user_id),
            )
            .map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKey>> {
        let hash = hash.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE hash = ?1");
            let row = sql::one(conn, &sql, [&hash], decode::<ApiKeyRow>).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn touch_api_key(&self, id: &ApiKeyId, now: DateTime<Utc>) -> Result<()> {
        let id = id.to_owned();
        self.write(move |conn| {
            sql::execute(
                conn,
                "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2",
                (ts(&now), &id),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }
}
