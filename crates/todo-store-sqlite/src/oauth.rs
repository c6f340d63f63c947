//! OAuth clients, grants and tokens on SQLite. Each conditional write runs on the one writer
//! connection, inside a savepoint: a code is spent once, a refresh token rotates once.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
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
use crate::{SqliteStore, savepoint, sql};

/// Stores a new access and refresh token, and forgets the grant's tokens that have expired.
fn insert_tokens(conn: &Connection, tokens: &NewTokens, now: DateTime<Utc>) -> Result<()> {
    let sql = "INSERT INTO oauth_tokens (hash, grant_id, kind, scopes, expires_at) \
               VALUES (?1, ?2, ?3, ?4, ?5)";
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
        sql::run(conn, sql, values)?;
    }
    let sql = "DELETE FROM oauth_tokens WHERE grant_id = ?1 AND expires_at <= ?2";
    sql::run(conn, sql, [(&tokens.grant_id).into(), now.into()])?;
    Ok(())
}

#[async_trait]
impl OAuthStore for SqliteStore {
    async fn insert_client(
        &self,
        client: &Client,
        unused_before: DateTime<Utc>,
        max_unused: usize,
    ) -> Result<bool> {
        let unused =
            "NOT EXISTS (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)";
        let forget = format!("DELETE FROM oauth_clients WHERE created_at < ?1 AND {unused}");
        let count = format!("SELECT COUNT(*) FROM oauth_clients WHERE {unused}");
        let insert = "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
                      VALUES (?1, ?2, ?3, ?4)";
        let values = [
            (&client.id).into(),
            (&client.name).into(),
            redirect_uris_to_text(&client.redirect_uris).into(),
            client.created_at.into(),
        ];
        let max = i64::try_from(max_unused).unwrap_or(i64::MAX);
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            sql::run(&tx, &forget, [unused_before.into()])?;
            let waiting: i64 = sql::scalar(&tx, &count, [])?.unwrap_or(0);
            if waiting >= max {
                return Ok(false);
            }
            sql::run(&tx, insert, values)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn oauth_client(&self, id: &str) -> Result<Option<Client>> {
        let sql = format!("SELECT {OAUTH_CLIENT_COLUMNS} FROM oauth_clients c WHERE c.id = ?1");
        let values = [id.into()];
        self.read(move |conn| sql::row::<OAuthClientRow, _>(conn, &sql, values))
            .await
    }

    async fn upsert_client(&self, client: &Client) -> Result<()> {
        let sql = "INSERT INTO oauth_clients (id, name, redirect_uris, created_at) \
                   VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO UPDATE \
                   SET name = excluded.name, redirect_uris = excluded.redirect_uris, \
                   created_at = excluded.created_at";
        let values = [
            (&client.id).into(),
            (&client.name).into(),
            redirect_uris_to_text(&client.redirect_uris).into(),
            client.created_at.into(),
        ];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn insert_grant(&self, grant: &Grant, code_hash: &str) -> Result<()> {
        let sql = "INSERT INTO oauth_grants (id, user_id, client_id, scopes, resource, \
                   redirect_uri, code_hash, code_challenge, code_expires_at, created_at) \
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
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
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn grant_by_code(&self, code_hash: &str) -> Result<Option<Grant>> {
        let sql =
            format!("SELECT {OAUTH_GRANT_COLUMNS} FROM oauth_grants g WHERE g.code_hash = ?1");
        let values = [code_hash.into()];
        self.read(move |conn| sql::row::<OAuthGrantRow, _>(conn, &sql, values))
            .await
    }

    async fn redeem_code(
        &self,
        grant_id: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool> {
        let sql = "UPDATE oauth_grants SET code_used_at = ?1, last_used_at = ?1 \
                   WHERE id = ?2 AND code_used_at IS NULL AND revoked_at IS NULL";
        let values = [now.into(), grant_id.into()];
        let tokens = tokens.clone();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            if sql::run(&tx, sql, values)? == 0 {
                return Ok(false);
            }
            insert_tokens(&tx, &tokens, now)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn oauth_token(&self, hash: &str) -> Result<Option<(TokenRecord, Grant)>> {
        let sql = format!(
            "SELECT {OAUTH_TOKEN_COLUMNS}, {OAUTH_GRANT_COLUMNS} FROM oauth_tokens t \
             JOIN oauth_grants g ON g.id = t.grant_id WHERE t.hash = ?1"
        );
        let values = [hash.into()];
        self.read(move |conn| sql::row::<OAuthTokenRow, _>(conn, &sql, values))
            .await
    }

    async fn rotate_refresh(
        &self,
        refresh_hash: &str,
        now: DateTime<Utc>,
        tokens: &NewTokens,
    ) -> Result<bool> {
        let sql = "UPDATE oauth_tokens SET spent_at = ?1 \
                   WHERE hash = ?2 AND kind = 'refresh' AND spent_at IS NULL";
        let values = [now.into(), refresh_hash.into()];
        let tokens = tokens.clone();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            if sql::run(&tx, sql, values)? == 0 {
                return Ok(false);
            }
            insert_tokens(&tx, &tokens, now)?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn revoke_grant(
        &self,
        grant_id: &str,
        user_id: Option<&UserId>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let revoke = "UPDATE oauth_grants SET revoked_at = ?1 \
                      WHERE id = ?2 AND revoked_at IS NULL AND (?3 IS NULL OR user_id = ?3)";
        let values = [
            now.into(),
            grant_id.into(),
            user_id.map(UserId::as_str).into(),
        ];
        let forget = "DELETE FROM oauth_tokens WHERE grant_id = ?1";
        let grant = grant_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let revoked = sql::run(&tx, revoke, values)? > 0;
            if revoked {
                sql::run(&tx, forget, [grant.into()])?;
            }
            tx.commit().map_err(db_error)?;
            Ok(revoked)
        })
        .await
    }

    async fn list_grants(&self, user_id: &UserId) -> Result<Vec<ConnectedApp>> {
        let sql = format!(
            "SELECT {CONNECTED_APP_COLUMNS} FROM oauth_grants g \
             JOIN oauth_clients c ON c.id = g.client_id \
             WHERE g.user_id = ?1 AND g.revoked_at IS NULL AND g.code_used_at IS NOT NULL \
             ORDER BY g.created_at DESC, g.id DESC"
        );
        let values = [user_id.into()];
        self.read(move |conn| sql::rows::<ConnectedAppRow, _>(conn, &sql, values))
            .await
    }

    async fn touch_grant(&self, grant_id: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = "UPDATE oauth_grants SET last_used_at = ?1 WHERE id = ?2";
        let values = [now.into(), grant_id.into()];
        self.write(move |conn| sql::run(conn, sql, values).map(drop))
            .await
    }

    async fn prune_oauth(&self, now: DateTime<Utc>, unused_before: DateTime<Utc>) -> Result<u64> {
        let tokens = "DELETE FROM oauth_tokens WHERE expires_at <= ?1";
        let grants = "DELETE FROM oauth_grants WHERE revoked_at IS NOT NULL \
                      OR (code_used_at IS NULL AND code_expires_at <= ?1)";
        let clients = "DELETE FROM oauth_clients WHERE created_at < ?1 AND NOT EXISTS \
                       (SELECT 1 FROM oauth_grants g WHERE g.client_id = oauth_clients.id)";
        self.write(move |conn| {
            let mut gone = sql::run(conn, tokens, [now.into()])?;
            gone += sql::run(conn, grants, [now.into()])?;
            gone += sql::run(conn, clients, [unused_before.into()])?;
            Ok(u64::try_from(gone).unwrap_or(u64::MAX))
        })
        .await
    }
}
