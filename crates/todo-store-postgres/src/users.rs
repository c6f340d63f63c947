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
use todo_store_sql::{USER_COLUMNS, UserRow, updates};

use crate::PostgresStore;
use crate::rows::{db_error, decode, user_conflict};
use crate::sql::{DIALECT, bound};

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (id, email, name, password_hash, timezone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(&user.timezone)
            .bind(user.created_at)
            .bind(user.created_at)
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(user_conflict)
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn external_user(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM identities i JOIN users u ON u.id = i.user_id \
             WHERE i.subject = $2 AND i.issuer IN ($1, 'legacy') \
             ORDER BY i.issuer = 'legacy' LIMIT 1",
            prefixed("u", USER_COLUMNS)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(issuer)
            .bind(subject)
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
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
                 SELECT $6, $7, id, created_at FROM u) \
             SELECT {USER_COLUMNS} FROM u"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.timezone)
            .bind(user.created_at)
            .bind(issuer)
            .bind(subject)
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(user_conflict)
    }

    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .try_map(|row: PgRow| {
                Ok((
                    decode::<UserRow>(&row)?,
                    row.try_get::<Option<String>, _>(6)?,
                ))
            })
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
        let row = bound(sql)?
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn insert_session(&self, session: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&session.id)
        .bind(&session.user_id)
        .bind(session.created_at)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn session_user(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.expires_at > $2",
            prefixed("u", USER_COLUMNS)
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(now)
            .try_map(|row| decode::<UserRow>(&row))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn delete_session(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(session_id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}

/// `a, b` → `u.a, u.b`.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
