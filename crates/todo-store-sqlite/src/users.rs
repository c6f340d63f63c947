//! Users, their external identities and their sessions on SQLite.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use todo_core::accounts::{NewUser, Session};
use todo_core::ids::UserId;
use todo_core::store::{ProfileChanges, UserStore};
use todo_core::time::to_sortable_text as ts;
use todo_core::user::User;
use todo_core::{Error, Result};
use todo_store_sql::sessions::{self, SessionRow};
use todo_store_sql::{IDENTITY_CONFLICT, USER_COLUMNS, USER_CONFLICT, UserRow, prefixed, updates};

use crate::rows::{conflict, db_error, decode};
use crate::sql::{self, DIALECT, Run};
use crate::{SqliteStore, projects, savepoint};

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let user = user.clone();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let sql = format!(
                "INSERT INTO users (id, email, name, password_hash, timezone, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING {USER_COLUMNS}"
            );
            let params = (
                &user.id,
                &user.email,
                &user.name,
                &user.password_hash,
                &user.timezone,
                ts(&user.created_at),
            );
            let row = sql::one(&tx, &sql, params, decode::<UserRow>)
                .map_err(conflict(USER_CONFLICT))?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            projects::insert_inbox(&tx, &user.id, user.created_at)?;
            tx.commit().map_err(db_error)?;
            Ok(row.into())
        })
        .await
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
        let values = [id.into()];
        self.read(move |conn| sql::row::<UserRow, _>(conn, &sql, values))
            .await
    }

    async fn external_user(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM identities i JOIN users u ON u.id = i.user_id \
             WHERE i.subject = ?2 AND i.issuer IN (?1, 'legacy') \
             ORDER BY i.issuer = 'legacy' LIMIT 1",
            prefixed("u", USER_COLUMNS)
        );
        let values = [issuer.into(), subject.into()];
        self.read(move |conn| sql::row::<UserRow, _>(conn, &sql, values))
            .await
    }

    async fn insert_external_user(
        &self,
        issuer: &str,
        subject: &str,
        user: &NewUser,
    ) -> Result<User> {
        let (issuer, subject, user) = (issuer.to_owned(), subject.to_owned(), user.clone());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let sql = format!(
                "INSERT INTO users (id, email, name, password_hash, timezone, created_at, \
                 updated_at) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?5) RETURNING {USER_COLUMNS}"
            );
            let created_at = ts(&user.created_at);
            let params = (
                &user.id,
                &user.email,
                &user.name,
                &user.timezone,
                &created_at,
            );
            let row = sql::one(&tx, &sql, params, decode::<UserRow>)
                .map_err(conflict(USER_CONFLICT))?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            sql::execute(
                &tx,
                "INSERT INTO identities (issuer, subject, user_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                (&issuer, &subject, &user.id, &created_at),
            )
            .map_err(conflict(IDENTITY_CONFLICT))?;
            projects::insert_inbox(&tx, &user.id, user.created_at)?;
            tx.commit().map_err(db_error)?;
            Ok(row.into())
        })
        .await
    }

    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let email = email.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1");
            let row = sql::one(conn, &sql, [&email], |row| {
                Ok((decode::<UserRow>(row)?, row.get::<_, Option<String>>(7)?))
            })
            .map_err(db_error)?;
            Ok(row.map(|(user, hash)| (user.into(), hash)))
        })
        .await
    }

    async fn update_user(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let mut sql = updates::user(&DIALECT, id, changes, now);
        sql.push(" RETURNING ").push(USER_COLUMNS);
        self.write(move |conn| {
            let row = sql.one(conn, decode::<UserRow>).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
        self.read(move |conn| sql::rows::<UserRow, _>(conn, &sql, []))
            .await
    }

    async fn insert_session(&self, session: &Session) -> Result<()> {
        let values = [
            session.id.as_str().into(),
            (&session.user_id).into(),
            session.created_at.into(),
            session.expires_at.into(),
        ];
        self.write(move |conn| {
            let sql = "INSERT INTO sessions (id, user_id, created_at, expires_at) \
                       VALUES (?1, ?2, ?3, ?4)";
            sql::run(conn, sql, values).map(drop)
        })
        .await
    }

    async fn session_user(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = ?1 AND s.expires_at > ?2",
            prefixed("u", USER_COLUMNS)
        );
        let values = [session_id.into(), now.into()];
        self.read(move |conn| sql::row::<UserRow, _>(conn, &sql, values))
            .await
    }

    async fn delete_session(&self, session_id: &str) -> Result<()> {
        let values = [session_id.into()];
        self.write(move |conn| {
            sql::run(conn, "DELETE FROM sessions WHERE id = ?1", values).map(drop)
        })
        .await
    }

    async fn list_sessions(&self, user_id: &UserId, now: DateTime<Utc>) -> Result<Vec<Session>> {
        let values = [user_id.into(), now.into()];
        self.read(move |conn| sql::rows::<SessionRow, _>(conn, sessions::LIST, values))
            .await
    }

    async fn end_session(&self, user_id: &UserId, session_id: &str) -> Result<bool> {
        let values = [user_id.into(), session_id.into()];
        self.write(move |conn| sql::run(conn, sessions::END, values).map(|done| done > 0))
            .await
    }

    async fn end_other_sessions(
        &self,
        user_id: &UserId,
        keep: Option<&str>,
    ) -> Result<Vec<String>> {
        let (user_id, keep) = (user_id.to_string(), keep.map(str::to_owned));
        self.write(move |conn| {
            sql::all(conn, sessions::END_OTHERS, (user_id, keep), |row| {
                row.get(0)
            })
            .map_err(db_error)
        })
        .await
    }

    async fn password_hash(&self, user_id: &UserId) -> Result<Option<Option<String>>> {
        let values = [user_id.into()];
        self.read(move |conn| sql::scalar::<Option<String>>(conn, sessions::PASSWORD_HASH, values))
            .await
    }

    async fn set_password(&self, user_id: &UserId, hash: &str, now: DateTime<Utc>) -> Result<()> {
        let values = [user_id.into(), hash.into(), now.into()];
        self.write(move |conn| sql::run(conn, sessions::SET_PASSWORD, values).map(drop))
            .await
    }
}
