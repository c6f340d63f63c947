//! Users, their external identities and their sessions on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use todo_core::Result;
use todo_core::accounts::{NewUser, Session};
use todo_core::ids::UserId;
use todo_core::store::{ProfileChanges, UserStore};
use todo_core::user::User;
use todo_store_sql::sessions::{self, SessionRow};
use todo_store_sql::tree::numbered;
use todo_store_sql::{USER_COLUMNS, UserRow, prefixed, updates};

use crate::PostgresStore;
use crate::rows::{conflict, db_error, decode};
use crate::sql::{self, DIALECT};
use todo_store_sql::{IDENTITY_CONFLICT, USER_CONFLICT};

/// The Inbox of the user a statement creates (`u`), as common table expressions.
const INBOX: &str = "p AS (INSERT INTO projects (owner_id, name, inbox, created_at, updated_at) \
         SELECT id, 'Inbox', TRUE, created_at, created_at FROM u RETURNING id, owner_id, created_at), \
     m AS (INSERT INTO project_members (project_id, user_id, role, position, created_at) \
         SELECT id, owner_id, 'owner', 0, created_at FROM p)";

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        // One statement: the user and their Inbox exist together or not at all.
        let sql = format!(
            "WITH u AS (INSERT INTO users (id, email, name, password_hash, timezone, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {USER_COLUMNS}), \
             {INBOX} SELECT {USER_COLUMNS} FROM u"
        );
        let values = [
            (&user.id).into(),
            (&user.email).into(),
            (&user.name).into(),
            (&user.password_hash).into(),
            (&user.timezone).into(),
            user.created_at.into(),
        ];
        sql::query(sql, values)?
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(conflict(USER_CONFLICT))
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        sql::row::<UserRow, _>(&self.pool, sql, [id.into()]).await
    }

    async fn external_user(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM identities i JOIN users u ON u.id = i.user_id \
             WHERE i.subject = $2 AND i.issuer IN ($1, 'legacy') \
             ORDER BY i.issuer = 'legacy' LIMIT 1",
            prefixed("u", USER_COLUMNS)
        );
        sql::row::<UserRow, _>(&self.pool, sql, [issuer.into(), subject.into()]).await
    }

    async fn insert_external_user(
        &self,
        issuer: &str,
        subject: &str,
        user: &NewUser,
    ) -> Result<User> {
        // One statement, so the user and its identity exist together or not at all; a unique
        // violation (the email, or the identity linked meanwhile) is a conflict.
        let sql = format!(
            "WITH u AS (INSERT INTO users (id, email, name, password_hash, timezone, created_at, \
                 updated_at) VALUES ($1, $2, $3, NULL, $4, $5, $5) RETURNING {USER_COLUMNS}), \
             i AS (INSERT INTO identities (issuer, subject, user_id, created_at) \
                 SELECT $6, $7, id, created_at FROM u), \
             {INBOX} SELECT {USER_COLUMNS} FROM u"
        );
        let values = [
            (&user.id).into(),
            (&user.email).into(),
            (&user.name).into(),
            (&user.timezone).into(),
            user.created_at.into(),
            issuer.into(),
            subject.into(),
        ];
        sql::query(sql, values)?
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(|err| {
                // Which unique key was violated: the identity's (linked meanwhile) or the email.
                let table = err.as_database_error().and_then(|db| db.table());
                let message = if table == Some("identities") {
                    IDENTITY_CONFLICT
                } else {
                    USER_CONFLICT
                };
                conflict(message)(err)
            })
    }

    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sql::query(sql, [email.into()])?
            .try_map(|row: PgRow| Ok((decode::<UserRow>(&row)?, row.try_get(7)?)))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(|(user, hash)| (user.into(), hash)))
    }

    async fn update_user(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let mut sql = updates::user(&DIALECT, id, changes, now);
        sql.push(" RETURNING ").push(USER_COLUMNS);
        let (text, values) = sql.into_parts();
        sql::row::<UserRow, _>(&self.pool, text, values).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
        sql::rows::<UserRow, _>(&self.pool, sql, []).await
    }

    async fn insert_session(&self, session: &Session) -> Result<()> {
        let sql = "INSERT INTO sessions (id, user_id, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        let values = [
            session.id.as_str().into(),
            (&session.user_id).into(),
            session.created_at.into(),
            session.expires_at.into(),
        ];
        sql::run(&self.pool, sql, values).await.map(drop)
    }

    async fn session_user(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.expires_at > $2",
            prefixed("u", USER_COLUMNS)
        );
        sql::row::<UserRow, _>(&self.pool, sql, [session_id.into(), now.into()]).await
    }

    async fn delete_session(&self, session_id: &str) -> Result<()> {
        let sql = "DELETE FROM sessions WHERE id = $1";
        sql::run(&self.pool, sql, [session_id.into()])
            .await
            .map(drop)
    }

    async fn list_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<Vec<Session>> {
        let sql = numbered(sessions::LIST);
        sql::rows::<SessionRow, _>(&self.pool, sql, [user_id.into(), now.into()]).await
    }

    async fn end_session(&self, user_id: &UserId, session_id: &str) -> Result<bool> {
        let sql = numbered(sessions::END);
        let done = sql::run(&self.pool, sql, [user_id.into(), session_id.into()]).await?;
        Ok(done > 0)
    }

    async fn end_other_sessions(
        &self,
        user_id: &UserId,
        keep: Option<&str>,
    ) -> Result<Vec<String>> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(numbered(sessions::END_OTHERS)))
            .bind(user_id)
            .bind(keep)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn password_hash(&self, user_id: &UserId) -> Result<Option<Option<String>>> {
        let sql = numbered(sessions::PASSWORD_HASH);
        sql::scalar::<Option<String>>(&self.pool, sql, [user_id.into()]).await
    }

    async fn set_password(&self, user_id: &UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
        let sql = numbered(sessions::SET_PASSWORD);
        sql::run(&self.pool, sql, [user_id.into(), hash.into(), now.into()])
            .await
            .map(drop)
    }
}
