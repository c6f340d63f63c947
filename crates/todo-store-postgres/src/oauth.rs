//! OAuth clients, grants and tokens on PostgreSQL. Each conditional write is one `UPDATE …
//! WHERE <not yet>` inside a transaction with what follows it: a code is spent once, a refresh
//! token rotates once, whichever replica is asked.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::oauth::{
    Client, ConnectedApp, Grant, NewTokens, OAuthStore, TokenRecord, scopes_to_text,
};
use todo_store_sql::{
    CONNECTED_APP_COLUMNS, ConnectedAppRow, OAUTH_CLIENT_COLUMNS, OAUTH_GRANT_COLUMNS,
    OAUTH_TOKEN_COLUMNS, OAuthClientRow, OAuthGrantRow, OAuthTokenRow, redirect_uris_to_text,
};

use crate::rows::db_error;
use crate::{PostgresStore, sql};

/// Stores a new access and refresh token, and forgets the grant's tokens that have expired.
async fn insert_tokens(
    tx: &mut Transaction<'static, Postgres>,
    tokens: &NewTokens,
    now: DateTime<Utc>,
) -> Result<()> {
    let sql = "INSERT INTO oauth_tokens (hash, grant_id, kind, scopes, expires_at) \
               VALUES ($1, $2, $3, $4, $5)";
    let scopes = scopes_to_text(&tokens.scopes);
    for (hash, kind, expires_at) in [
        (&tokens.access_hash, "access", tokens.access_expires_at),
        (&tokens.refresh_hash, "refresh", tokens.refresh_expires_at),
    ] {
        let values = [
            hash.into(),
            (&tokens.grant_id).into(),
            kind.into(),
            (&scopes).into(),
            expires_at.into(),
        ];
        sql::run(&mut **tx, sql, values).await?;
    }
    let sql = "DELETE FROM oauth_tokens WHERE grant_id = $1 AND expires_at <= $2";
    sql::run(&mut **tx, sql, [(&tokens.grant_id).into(), now.into()]).await?;
    Ok(())
}

#[async_trait]
impl OAuthStore for PostgresStore {
    async fn insert_client(
        &self,
        client: &Client,
        unused_before: DateTime<Utc>,
        max_unused: usize,
    ) -> Result<bool> {
        let unused =
            "NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)";
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // One registration at a time, across replicas, so the count below stays true.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('todo oauth_clients'))")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let forget = format!("DELETE FROM oauth_clients WHERE created_at < $1 AND {unused}");
        sql::run(&mut *tx, forget, [unused_before.into()]).await?;
        let count = format!("SELECT COUNT(*) FROM oauth_clients WHERE {unused}");
        let waiting: i64 = sql::scalar(&mut *tx, count, []).await?.unwrap_or(0);
        if waiting >= i64::try_from(max_unused).unwrap_or(i64::MAX) {
            return Ok(false);
        }
        let insert = "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
                      VALUES ($1, $2, $3, $4)";
        let values = [
            (&client.id).into(),
            (&client.name).into(),
            redirect_uris_to_text(&client.redirect_uris).into(),
            client.created_at.into(),
        ];
        sql::run(&mut *tx, insert, values).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn oauth_client(&self, id: &str) -> Result<Option<Client>> {
        let sql = format!("SELECT {OAUTH_CLIENT_COLUMNS} FROM oauth_clients c WHERE c.id = $1");
        sql::row::<OAuthClientRow, _>(&self.pool, sql, [id.into()]).await
    }

    async fn upsert_client(&self, client: &Client) -> Result<()> {
        let sql = "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
                   VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE \
                   SET name = excluded.name, redirect_uris = excluded.redirect_uris, \
                   created_at = excluded.created_at";
        let values = [
            (&client.id).into(),
            (&client.name).into(),
            redirect_uris_to_text(&client.redirect_uris).into(),
            client.created_at.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn insert_grant(&self, grant: &Grant, code_hash: &str) -> Result<()> {
        let sql = "INSERT INTO oauth_grants (id, user_id, client_id, scopes, resource, \
                   redirect_uri, code_hash, code_challenge, code_expires_at, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let values = [
            (&grant.id).into(),
            (&grant.user_id).into(),
            (&grant.client_id).into(),
            scopes_to_text(&grant.scopes).into(),
            (&grant.resource).into(),
            (&grant.redirect_uri).into(),
            code_hash.into(),
            (&grant.code_challenge).into(),
            grant.code_expires_at.into(),
            grant.created_at.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn grant_by_code(&self, code_hash: &str) -> Result<Option<Grant>> {
        let sql =
            format!("SELECT {OAUTH_GRANT_COLUMNS} FROM oauth_grants g WHERE g.code_hash = $1");
        sql::row::<OAuthGrantRow, _>(&self.pool, sql, [code_hash.into()]).await
    }

    async fn redeem_code(
        &self,
        grant_id: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let sql = "UPDATE oauth_grants SET code_used_at = $1, last_used_at = $1 \
                   WHERE id = $2 AND code_used_at IS NULL AND revoked_at IS NULL";
        if sql::run(&mut *tx, sql, [now.into(), grant_id.into()]).await? == 0 {
            return Ok(false);
        }
        insert_tokens(&mut tx, tokens, now).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn oauth_token(&self, hash: &str) -> Result<Option<(TokenRecord, Grant)>> {
        let sql = format!(
            "SELECT {OAUTH_TOKEN_COLUMNS}, {OAUTH_GRANT_COLUMNS} FROM oauth_tokens t \
             JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = $1"
        );
        sql::row::<OAuthTokenRow, _>(&self.pool, sql, [hash.into()]).await
    }

    async fn rotate_refresh(
        &self,
        refresh_hash: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let sql = "UPDATE oauth_tokens SET spent_at = $1 \
                   WHERE hash = $2 AND kind = 'refresh' AND spent_at IS NULL";
        if sql::run(&mut *tx, sql, [now.into(), refresh_hash.into()]).await? == 0 {
            return Ok(false);
        }
        insert_tokens(&mut tx, tokens, now).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn revoke_grant(
        &self,
        grant_id: &str,
        user_id: Option<&UserId>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let sql = "UPDATE oauth_grants SET revoked_at = $1 \
                   WHERE id = $2 AND revoked_at IS NULL AND ($3::text IS NULL OR user_id = $3)";
        let values = [
            now.into(),
            grant_id.into(),
            user_id.map(UserId::as_str).into(),
        ];
        let revoked = sql::run(&mut *tx, sql, values).await? > 0;
        if revoked {
            let sql = "DELETE FROM oauth_tokens WHERE grant_id = $1";
            sql::run(&mut *tx, sql, [grant_id.into()]).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(revoked)
    }

    async fn list_grants(&self, user_id: &UserId) -> Result<Vec<ConnectedApp>> {
        let sql = format!(
            "SELECT {CONNECTED_APP_COLUMNS} FROM oauth_grants g \
             JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = $1 AND g.revoked_at IS NULL AND g.code_used_at IS NOT NULL \
             ORDER BY g.created_at DESC, g.id DESC"
        );
        sql::rows::<ConnectedAppRow, _>(&self.pool, sql, [user_id.into()]).await
    }

    async fn touch_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE oauth_grants SET last_used_at = $1 WHERE id = $2";
        sql::run(&self.pool, sql, [now.into(), grant_id.into()])
            .await
            .map(drop)
    }

    async fn prune_oauth(&self, now: DateTime<Utc>, unused_before: DateTime<Utc>) -> Result<u64> {
        let tokens = "DELETE FROM oauth_tokens WHERE expires_at <= $1";
        let grants = "DELETE FROM oauth_grants WHERE revoked_at IS NOT NULL \
                      OR (code_used_at IS NULL AND code_expires_at <= $1)";
        let clients = "DELETE FROM oauth_clients WHERE created_at < $1 AND NOT EXISTS \
                       (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)";
        let mut gone = sql::run(&self.pool, tokens, [now.into()]).await?;
        gone += sql::run(&self.pool, grants, [now.into()]).await?;
        gone += sql::run(&self.pool, clients, [unused_before.into()]).await?;
        Ok(gone)
    }
}
