//! The SQLite backend: an embedded file in WAL mode, its own migrations and queries, on
//! rusqlite. Every store method runs its whole unit of work in one blocking call (see
//! `pool`); docs/architecture.md says why this is not sqlx.

mod chat;
mod events;
mod list;
mod migrate;
mod pool;
mod rows;
mod sql;
mod tags;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use todo_core::ids::ApiKeyId;
use todo_core::ids::UserId;

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Savepoint};
use todo_core::accounts::{NewUser, Session};
use todo_core::api_key::{ApiKey, scopes_to_text};
use todo_core::events::{Signal, task_data};
use todo_core::page::TaskQuery;
use todo_core::planning::{self, ReminderIntent, TaskWrite, WriteContext};
use todo_core::store::{PoolStats, ProfileChanges, Store, TaskSlice};
use todo_core::tag::{Tag, TagChanges, TagId, TagName};
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::time::to_sortable_text as ts;
use todo_core::user::User;
use todo_core::{Error, Result};
use todo_store_sql::{
    IDENTITY_CONFLICT, IMPORT_CONFLICT, TAG_CONFLICT, USER_CONFLICT, UserWithPasswordRow,
};
use tokio::sync::broadcast;

use crate::pool::{Connections, Role};
use crate::rows::{
    API_KEY_COLUMNS, TASK_COLUMNS, USER_COLUMNS, conflict, date_text, db_error, opt_date,
};
use crate::sql::Sql;
use crate::writer::Writer;

/// Reader connections. WAL lets them read in parallel with each other and with the writer;
/// on the two cores this runs on, more than a handful only adds switching (measured with
/// `bench/load`: see docs/benchmarks.md).
const READERS: u32 = 4;

static SELECT_TASK: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?1 AND id = ?2"));

/// SQLite allows one writer at a time. Writes go through `writer`, one connection on its own
/// thread, so concurrent writers queue for it (in order, without spinning) instead of each
/// taking a connection of their own and then sleeping in SQLite's busy handler until the lock
/// is free, which under load made write latency a lottery; the queued writes commit together.
/// Reads use `readers`, in parallel (WAL).
#[derive(Clone)]
pub struct SqliteStore {
    readers: Connections,
    writer: Writer,
    /// Wake-ups for this process's listeners, sent after each commit.
    signals: broadcast::Sender<Signal>,
}

/// The file a `sqlite://` URL names (`sqlite://data/todo.db`, `sqlite:///abs/todo.db`,
/// optionally `?mode=rwc`). The file and its folder are created when missing, whatever the
/// mode says, as before.
fn database_path(url: &str) -> Result<PathBuf> {
    let invalid = |why: &str| Error::internal(format!("invalid SQLite URL {url:?}: {why}"));
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| invalid("it must start with sqlite://"))?;
    let (file, params) = rest.split_once('?').unwrap_or((rest, ""));
    for param in params.split('&').filter(|p| !p.is_empty()) {
        match param {
            "mode=rwc" | "mode=rw" => {}
            _ => return Err(invalid(&format!("unsupported parameter {param:?}"))),
        }
    }
    if file.is_empty() || file == ":memory:" {
        return Err(invalid(
            "name a file (in-memory databases are not supported)",
        ));
    }
    let file = percent_encoding::percent_decode_str(file)
        .decode_utf8()
        .map_err(|_| invalid("the path is not UTF-8"))?;
    Ok(PathBuf::from(file.as_ref()))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file named by a `sqlite://` URL.
    pub async fn connect(url: &str) -> Result<Self> {
        let path = database_path(url)?;
        if let Some(dir) = Path::new(&path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::internal(format!("creating {}: {e}", dir.display())))?;
        }
        let store = Self {
            readers: Connections::new(&path, Role::Reader, READERS),
            writer: Writer::new(&path)?,
            signals: broadcast::channel(1024).0,
        };
        // Open the writer now: it creates the file and switches it to WAL, and a bad path
        // fails here rather than on the first request.
        store.writer.alone(|_| Ok(())).await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        self.writer.alone(migrate::run).await
    }

    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Runs `work` on a reader connection, in one blocking call.
    async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.readers.run(work).await
    }

    /// Runs `work` on the writer connection, after the writes queued before it, committed
    /// with the others of its batch (see `writer`).
    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        self.writer.write(work, None).await
    }

    /// [`Self::write`] for a write that records events of `user_id`: once it has committed,
    /// listeners hear that the user has new events and that jobs may have changed (sent by
    /// the writer, so a caller that stops waiting cannot lose them).
    async fn write_announcing<T, F>(&self, user_id: &UserId, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (signals, user_id) = (self.signals.clone(), user_id.to_owned());
        let announce = Box::new(move || {
            let _ = signals.send(Signal::Events { user_id });
            let _ = signals.send(Signal::Jobs);
        });
        self.writer.write(work, Some(announce)).await
    }
}

/// An import looks this often whether its caller still waits.
const IMPORT_CHECK_EVERY: usize = 256;

fn import_abandoned() -> Error {
    Error::Unavailable("the import's caller stopped waiting: rolled back".into())
}

/// A unit of a write that must be all or nothing: a savepoint inside the writer's batch
/// transaction, which took the write lock at once (`BEGIN IMMEDIATE`; see `writer`).
fn savepoint(conn: &mut Connection) -> Result<Savepoint<'_>> {
    conn.savepoint().map_err(db_error)
}

#[async_trait]
impl Store for SqliteStore {
    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.readers.open() + self.writer.open(),
            // The writer's connection is always in use: it belongs to its thread.
            idle: self.readers.idle(),
            max: self.readers.max() + 1,
        }
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| sql::one(conn, "SELECT 1", [], |_| Ok(())).map_err(db_error))
            .await?;
        Ok(())
    }

    async fn setting_get_or_insert(&self, key: &str, candidate: &str) -> Result<String> {
        let (key, candidate) = (key.to_owned(), candidate.to_owned());
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                (&key, &candidate),
            )
            .map_err(db_error)?;
            sql::one(
                conn,
                "SELECT value FROM settings WHERE key = ?1",
                [&key],
                |row| row.get(0),
            )
            .map_err(db_error)?
            .ok_or_else(|| Error::internal("the setting vanished"))
        })
        .await
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let user = user.clone();
        self.write(move |conn| {
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
            sql::one(conn, &sql, params, rows::user)
                .map_err(conflict(USER_CONFLICT))?
                .map(Into::into)
                .ok_or_else(|| Error::internal("insert returned no row"))
        })
        .await
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
            let row = sql::one(conn, &sql, [&id], rows::user).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn external_user(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
        let (issuer, subject) = (issuer.to_owned(), subject.to_owned());
        self.read(move |conn| {
            let sql = format!(
                "SELECT {} FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.subject = ?2 AND i.issuer IN (?1, 'legacy') \
                 ORDER BY i.issuer = 'legacy' LIMIT 1",
                prefixed("u", USER_COLUMNS)
            );
            let row = sql::one(conn, &sql, [&issuer, &subject], rows::user).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
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
            let row = sql::one(conn, &sql, params, rows::user)
                .map_err(conflict(USER_CONFLICT))?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            sql::execute(
                conn,
                "INSERT INTO identities (issuer, subject, user_id, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                (&issuer, &subject, &user.id, &created_at),
            )
            .map_err(conflict(IDENTITY_CONFLICT))?;
            Ok(row.into())
        })
        .await
    }

    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let email = email.to_owned();
        self.read(move |conn| {
            let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = ?1");
            let row = sql::one(conn, &sql, [&email], |row| {
                Ok(UserWithPasswordRow {
                    user: rows::user(row)?,
                    password_hash: row.get(6)?,
                })
            })
            .map_err(db_error)?;
            Ok(row.map(|r| (r.user.into(), r.password_hash)))
        })
        .await
    }

    async fn update_user(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let mut sql = Sql::new("UPDATE users SET updated_at = ");
        sql.bind(ts(&now));
        if let Some(name) = &changes.name {
            sql.push(", name = ").bind(name.clone());
        }
        if let Some(tz) = &changes.timezone {
            sql.push(", timezone = ").bind(tz.clone());
        }
        sql.push(" WHERE id = ").bind(id.clone());
        sql.push(" RETURNING ").push(USER_COLUMNS);
        self.write(move |conn| {
            let row = sql.one(conn, rows::user).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(|conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
            let rows = sql::all(conn, &sql, [], rows::user).map_err(db_error)?;
            Ok(rows.into_iter().map(Into::into).collect())
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> Result<()> {
        let session = session.clone();
        self.write(move |conn| {
            sql::execute(
                conn,
                "INSERT INTO sessions (id, user_id, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                (
                    &session.id,
                    &session.user_id,
                    ts(&session.created_at),
                    ts(&session.expires_at),
                ),
            )
            .map_err(db_error)?;
            Ok(())
        })
        .await
    }

    async fn session_user(&self, session_id: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        let session_id = session_id.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = ?1 AND s.expires_at > ?2",
                prefixed("u", USER_COLUMNS)
            );
            let row =
                sql::one(conn, &sql, (&session_id, ts(&now)), rows::user).map_err(db_error)?;
            Ok(row.map(Into::into))
        })
        .await
    }

    async fn delete_session(&self, session_id: &str) -> Result<()> {
        let session_id = session_id.to_owned();
        self.write(move |conn| {
            sql::execute(conn, "DELETE FROM sessions WHERE id = ?1", [&session_id])
                .map_err(db_error)?;
            Ok(())
        })
        .await
    }

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
            let rows = sql::all(conn, &sql, [&user_id], rows::api_key).map_err(db_error)?;
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
            let row = sql::one(conn, &sql, [&hash], rows::api_key).map_err(db_error)?;
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

    async fn insert_task(
        &self,
        user_id: &UserId,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let (user, task) = (user_id.to_owned(), task.clone());
        self.write_announcing(user_id, move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let task = insert(&tx, &user_id, &task, now, false)?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            tx.commit().map_err(db_error)?;
            Ok(task)
        })
        .await
    }

    async fn import_tasks(
        &self,
        user_id: &UserId,
        tags: &[(TagName, Option<String>)],
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let (user, tags, tasks) = (user_id.to_owned(), tags.to_vec(), tasks.to_vec());
        // The write runs on the writer thread whether or not its caller still waits: it looks
        // at this (alive while the caller waits) and rolls back if the caller has gone.
        let waiting = Arc::new(());
        let caller = Arc::downgrade(&waiting);
        let imported = self
            .write_announcing(user_id, move |conn| {
                let user_id = user;
                let tx = savepoint(conn)?;
                for (name, color) in &tags {
                    sql::execute(
                        &tx,
                        "INSERT INTO tags (user_id, name, name_key, color, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, name_key) DO NOTHING",
                        (&user_id, &name.name, &name.key, color, ts(&now)),
                    )
                    .map_err(db_error)?;
                }
                let mut created = 0;
                for (i, task) in tasks.iter().enumerate() {
                    if i % IMPORT_CHECK_EVERY == 0 && caller.strong_count() == 0 {
                        return Err(import_abandoned());
                    }
                    if insert(&tx, &user_id, task, now, true)?.is_some() {
                        created += 1;
                    }
                }
                if caller.strong_count() == 0 {
                    return Err(import_abandoned());
                }
                tx.commit().map_err(db_error)?;
                Ok(created)
            })
            .await;
        drop(waiting);
        imported
    }

    async fn get_task(&self, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| select_task(conn, &user_id, id)).await
    }

    async fn update_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        context: &WriteContext,
    ) -> Result<Option<Task>> {
        let (user, changes, context) = (user_id.to_owned(), changes.clone(), *context);
        self.write_announcing(user_id, move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(before) = select_task(&tx, &user_id, id)? else {
                return Ok(None);
            };
            let task = change(&tx, &user_id, before, &changes, &context)?;
            tx.commit().map_err(db_error)?;
            Ok(Some(task))
        })
        .await
    }

    async fn set_task_completed(
        &self,
        user_id: &UserId,
        id: TaskId,
        completed: Option<bool>,
        context: &WriteContext,
    ) -> Result<Option<Task>> {
        let (user, context) = (user_id.to_owned(), *context);
        self.write_announcing(user_id, move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(before) = select_task(&tx, &user_id, id)? else {
                return Ok(None);
            };
            let Some(changes) = planning::completion(&before, completed) else {
                return Ok(Some(before));
            };
            let task = change(&tx, &user_id, before, &changes, &context)?;
            tx.commit().map_err(db_error)?;
            Ok(Some(task))
        })
        .await
    }

    async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<bool> {
        let user = user_id.to_owned();
        self.write_announcing(user_id, move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(task) = select_task(&tx, &user_id, id)? else {
                return Ok(false);
            };
            let done = sql::execute(
                &tx,
                "DELETE FROM tasks WHERE user_id = ?1 AND id = ?2",
                (&user_id, id),
            )
            .map_err(db_error)?;
            if done == 0 {
                return Ok(false);
            }
            write_plan(&tx, &user_id, id, &planning::deleted(), now(), Some(task))?;
            tx.commit().map_err(db_error)?;
            Ok(true)
        })
        .await
    }

    async fn list_tasks(
        &self,
        user_id: &UserId,
        query: &TaskQuery,
        limit: u32,
    ) -> Result<TaskSlice> {
        let (user_id, query) = (user_id.to_owned(), query.clone());
        self.read(move |conn| list::page(conn, &user_id, &query, limit))
            .await
    }

    async fn all_day_due_dates(&self, user_id: &UserId) -> Result<Vec<(TaskId, NaiveDate)>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let rows = sql::all(
                conn,
                "SELECT id, due_date FROM tasks WHERE user_id = ?1 AND due_date IS NOT NULL",
                [&user_id],
                |row| Ok((row.get::<_, TaskId>(0)?, opt_date(row, 1)?)),
            )
            .map_err(db_error)?;
            Ok(rows
                .into_iter()
                .filter_map(|(id, date)| Some((id, date?)))
                .collect())
        })
        .await
    }

    async fn set_due_keys(&self, user_id: &UserId, keys: &[(TaskId, DateTime<Utc>)]) -> Result<()> {
        let (user_id, keys) = (user_id.to_owned(), keys.to_vec());
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            for (id, key) in &keys {
                sql::execute(
                    &tx,
                    "UPDATE tasks SET due_key = ?1 WHERE user_id = ?2 AND id = ?3",
                    (ts(key), &user_id, id),
                )
                .map_err(db_error)?;
            }
            tx.commit().map_err(db_error)
        })
        .await
    }

    async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| tags::list(conn, &user_id)).await
    }

    async fn insert_tag(
        &self,
        user_id: &UserId,
        name: &TagName,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Tag> {
        let (user_id, name, color) = (user_id.to_owned(), name.clone(), color.map(str::to_owned));
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            let id: TagId = sql::one(
                &tx,
                "INSERT INTO tags (user_id, name, name_key, color, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                (&user_id, &name.name, &name.key, &color, ts(&now)),
                |row| row.get(0),
            )
            .map_err(conflict(TAG_CONFLICT))?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
            let tag = tags::get(&tx, &user_id, id)?
                .ok_or_else(|| Error::internal("inserted tag vanished"))?;
            tx.commit().map_err(db_error)?;
            Ok(tag)
        })
        .await
    }

    async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        changes: &TagChanges,
    ) -> Result<Option<Tag>> {
        let mut sql = Sql::new("UPDATE tags SET user_id = user_id");
        if let Some(name) = &changes.name {
            sql.push(", name = ").bind(name.name.clone());
            sql.push(", name_key = ").bind(name.key.clone());
        }
        if let Some(color) = &changes.color {
            sql.push(", color = ").bind(color.clone());
        }
        sql.push(" WHERE user_id = ").bind(user_id.to_owned());
        sql.push(" AND id = ").bind(id);
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let tx = savepoint(conn)?;
            if sql.execute(&tx).map_err(conflict(TAG_CONFLICT))? == 0 {
                return Ok(None);
            }
            let tag = tags::get(&tx, &user_id, id)?;
            tx.commit().map_err(db_error)?;
            Ok(tag)
        })
        .await
    }

    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool> {
        let user_id = user_id.to_owned();
        self.write(move |conn| {
            let done = sql::execute(
                conn,
                "DELETE FROM tags WHERE user_id = ?1 AND id = ?2",
                (&user_id, id),
            )
            .map_err(db_error)?;
            Ok(done > 0)
        })
        .await
    }
}

/// Inserts one task row; with `skip_imported`, a row whose import key the user already has is
/// skipped (`None`) instead of failing.
fn insert_row(
    conn: &Connection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    skip_imported: bool,
) -> Result<Option<TaskId>> {
    const COLUMNS: &str = "INSERT INTO tasks (user_id, title, description, completed, \
         completed_at, priority, due_at, due_date, due_key, recurrence, import_key, \
         recurrence_mode, parent_id, position, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11, ?12, ?13, ?14, \
             (SELECT COALESCE(MAX(position), 0) + 1 FROM tasks WHERE user_id = ?1), ?10, ?10)";
    static PLAIN: LazyLock<String> = LazyLock::new(|| format!("{COLUMNS} RETURNING id"));
    static SKIPPING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{COLUMNS} ON CONFLICT (user_id, import_key) WHERE import_key IS NOT NULL \
             DO NOTHING RETURNING id"
        )
    });
    let sql = if skip_imported { &SKIPPING } else { &PLAIN };
    let params = (
        user_id,
        &task.title,
        &task.description,
        task.completed,
        task.completed.then(|| ts(&now)),
        task.priority.rank(),
        task.due.at().as_ref().map(ts),
        task.due.date().map(date_text),
        task.due_key.as_ref().map(ts),
        ts(&now),
        &task.recurrence,
        &task.import_key,
        task.recurrence_mode.as_str(),
        task.parent_id,
    );
    sql::one(conn, sql, params, |row| row.get(0)).map_err(conflict(IMPORT_CONFLICT))
}

/// Inserts a task with its tags, and writes what that means ([`planning::created`]); `None`
/// when `skip_imported` skipped it.
fn insert(
    conn: &Connection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    skip_imported: bool,
) -> Result<Option<Task>> {
    let Some(id) = insert_row(conn, user_id, task, now, skip_imported)? else {
        return Ok(None);
    };
    tags::link(conn, user_id, id, &task.tags, now)?;
    write_plan(conn, user_id, id, &planning::created(task), now, None).map(Some)
}

/// Applies `changes` to the task `before` (read in this transaction), and writes what they
/// mean ([`planning::changed`]): the task as the write leaves it.
fn change(
    conn: &Connection,
    user_id: &UserId,
    before: Task,
    changes: &TaskChanges,
    context: &WriteContext,
) -> Result<Task> {
    let id = before.id;
    update_statement(user_id, id, changes, context.now)
        .execute(conn)
        .map_err(db_error)?;
    if let Some(new_tags) = &changes.tags {
        sql::execute(conn, "DELETE FROM task_tags WHERE task_id = ?1", [id]).map_err(db_error)?;
        tags::link(conn, user_id, id, new_tags, context.now)?;
    }
    let after = select_task(conn, user_id, id)?.ok_or_else(vanished)?;
    let plan = planning::changed(
        &before,
        &after,
        ReminderIntent::of_changes(changes),
        context,
    );
    let task = write_plan(conn, user_id, id, &plan, context.now, Some(after))?;
    if let Some(successor) = &plan.successor {
        insert(conn, user_id, successor, context.now, false)?;
    }
    Ok(task)
}

/// Writes a plan's reminders (with their jobs) and its event (with its deliveries); returns
/// the task as the write leaves it. `current` is the task before its reminders are written,
/// when the caller has it; otherwise, or when the reminders change, the task is read.
fn write_plan(
    conn: &Connection,
    user_id: &UserId,
    id: TaskId,
    plan: &TaskWrite,
    now: DateTime<Utc>,
    current: Option<Task>,
) -> Result<Task> {
    events::write_reminders(conn, user_id, id, &plan.reminders)?;
    let task = match current {
        Some(task) if plan.reminders.is_empty() => task,
        _ => select_task(conn, user_id, id)?.ok_or_else(vanished)?,
    };
    events::record(conn, user_id, plan.event, id, &task_data(&task), now)?;
    Ok(task)
}

fn vanished() -> Error {
    Error::internal("a task vanished inside its write")
}

/// `UPDATE tasks` for the fields `changes` names.
fn update_statement(
    user_id: &UserId,
    id: TaskId,
    changes: &TaskChanges,
    now: DateTime<Utc>,
) -> Sql {
    let mut sql = Sql::new("UPDATE tasks SET updated_at = ");
    sql.bind(ts(&now));
    if let Some(title) = &changes.title {
        sql.push(", title = ").bind(title.clone());
    }
    if let Some(description) = &changes.description {
        sql.push(", description = ").bind(description.clone());
    }
    if let Some(priority) = changes.priority {
        sql.push(", priority = ").bind(priority.rank());
    }
    if let Some((due, key)) = &changes.due {
        sql.push(", due_at = ").bind(due.at().as_ref().map(ts));
        sql.push(", due_date = ").bind(due.date().map(date_text));
        sql.push(", due_key = ").bind(key.as_ref().map(ts));
    }
    if let Some(recurrence) = &changes.recurrence {
        sql.push(", recurrence = ").bind(recurrence.clone());
    }
    if let Some(mode) = changes.recurrence_mode {
        sql.push(", recurrence_mode = ")
            .bind(mode.as_str().to_owned());
    }
    if let Some(completed) = changes.completed {
        sql.push(", completed = ").bind(completed);
        sql.push(", completed_at = CASE WHEN ").bind(completed);
        sql.push(" THEN COALESCE(completed_at, ").bind(ts(&now));
        sql.push(") ELSE NULL END");
    }
    sql.push(" WHERE user_id = ").bind(user_id.to_owned());
    sql.push(" AND id = ").bind(id);
    sql
}

pub(crate) fn select_task(conn: &Connection, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
    let row = sql::one(conn, &SELECT_TASK, (user_id, id), rows::task).map_err(db_error)?;
    Ok(row.map(Into::into))
}

/// `a, b` → `u.a, u.b`.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
