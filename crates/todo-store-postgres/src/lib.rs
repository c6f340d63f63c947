//! The PostgreSQL backend: its own migrations and queries on native types.

mod chat;
mod events;
mod list;
mod rows;
mod tags;
mod tx;

use std::time::Duration;
use todo_core::ids::ApiKeyId;
use todo_core::ids::UserId;

use async_trait::async_trait;
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use todo_core::accounts::{NewUser, Session};
use todo_core::api_key::{ApiKey, scopes_to_text};
use todo_core::events::task_data;
use todo_core::page::{TaskFilter, TaskQuery};
use todo_core::planning::{self, ReminderIntent, TaskWrite, WriteContext};
use todo_core::store::{PoolStats, ProfileChanges, Store, TaskSlice};
use todo_core::tag::{Tag, TagChanges, TagId, TagName};
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::user::User;
use todo_core::{Error, Result};

use rows::{CountedTask, INSERTED_TASK_COLUMNS, TASK_COLUMNS};
use todo_store_sql::{
    ApiKeyRow, UserRow, UserWithPasswordRow, db_error, import_conflict, tag_conflict, user_conflict,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const USER_COLUMNS: &str = "id, email, name, timezone, created_at, updated_at";
const API_KEY_COLUMNS: &str =
    "id, user_id, name, prefix, scopes, created_at, last_used_at, expires_at, revoked_at";

#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    signals: std::sync::Arc<events::Signals>,
}

impl PostgresStore {
    /// Connects to the database named by a `postgres://` URL.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(db_error)?;
        Ok(Self {
            pool,
            signals: events::Signals::new(),
        })
    }

    /// Applies pending migrations. sqlx holds a PostgreSQL advisory lock while it migrates,
    /// so replicas starting together apply each migration once.
    pub async fn migrate(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| Error::internal(format!("migrating PostgreSQL: {e}")))
    }

    /// The pool, for operations outside the storage trait (tests, admin commands).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn setting_get_or_insert(&self, key: &str, candidate: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(candidate)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn insert_user(&self, user: &NewUser) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (id, email, name, password_hash, timezone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
        );
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.password_hash)
            .bind(&user.timezone)
            .bind(user.created_at)
            .bind(user.created_at)
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(user_conflict)
    }

    async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
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
        let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(issuer)
            .bind(subject)
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
        sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(&user.id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(&user.timezone)
            .bind(user.created_at)
            .bind(issuer)
            .bind(subject)
            .fetch_one(&self.pool)
            .await
            .map(Into::into)
            .map_err(user_conflict)
    }

    async fn user_with_password(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1");
        let row = sqlx::query_as::<_, UserWithPasswordRow>(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(|r| (r.user.into(), r.password_hash)))
    }

    async fn update_user(
        &self,
        id: &UserId,
        changes: &ProfileChanges,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let mut qb = QueryBuilder::<Postgres>::new("UPDATE users SET updated_at = ");
        qb.push_bind(now);
        if let Some(name) = &changes.name {
            qb.push(", name = ").push_bind(name.clone());
        }
        if let Some(tz) = &changes.timezone {
            qb.push(", timezone = ").push_bind(tz.clone());
        }
        qb.push(" WHERE id = ").push_bind(id.to_owned());
        qb.push(" RETURNING ").push(USER_COLUMNS);
        let row = qb
            .build_query_as::<UserRow>()
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(row.map(Into::into))
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id");
        let rows = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
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
        let row = sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .bind(now)
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
        let rows = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
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
        let row = sqlx::query_as::<_, ApiKeyRow>(sqlx::AssertSqlSafe(sql))
            .bind(hash)
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

    async fn insert_task(
        &self,
        user_id: &UserId,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let inserted = insert(&mut tx, user_id, task, now, false)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        tx.commit().await.map_err(db_error)?;
        Ok(inserted)
    }

    async fn import_tasks(
        &self,
        user_id: &UserId,
        tags: &[(TagName, Option<String>)],
        tasks: &[NewTask],
        now: DateTime<Utc>,
    ) -> Result<u64> {
        // One transaction: dropped before its commit (the caller gave up: a client abort, a
        // request timeout), it rolls back, and nothing of the file stays.
        let mut tx = tx::begin(&self.pool, user_id).await?;
        for (name, color) in tags {
            sqlx::query(
                "INSERT INTO tags (user_id, name, name_key, color, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, name_key) DO NOTHING",
            )
            .bind(user_id)
            .bind(&name.name)
            .bind(&name.key)
            .bind(color)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        let mut created = 0;
        for task in tasks {
            if insert(&mut tx, user_id, task, now, true).await?.is_some() {
                created += 1;
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get_task(&self, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
        select_task(&self.pool, user_id, id).await
    }

    async fn update_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        changes: &TaskChanges,
        context: &WriteContext,
    ) -> Result<Option<Task>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(before) = lock_task(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        let task = change(&mut tx, user_id, before, changes, context).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    async fn set_task_completed(
        &self,
        user_id: &UserId,
        id: TaskId,
        completed: Option<bool>,
        context: &WriteContext,
    ) -> Result<Option<Task>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(before) = lock_task(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        let Some(changes) = planning::completion(&before, completed) else {
            return Ok(Some(before));
        };
        let task = change(&mut tx, user_id, before, &changes, context).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(task) = select_task(&mut *tx, user_id, id).await? else {
            return Ok(false);
        };
        let done = sqlx::query("DELETE FROM tasks WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_plan(
            &mut tx,
            user_id,
            id,
            &planning::deleted(),
            now(),
            Some(task),
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(true)
    }

    async fn list_tasks(
        &self,
        user_id: &UserId,
        query: &TaskQuery,
        limit: u32,
    ) -> Result<TaskSlice> {
        if list::is_selective(&query.filter) {
            return self.list_matches(user_id, query, limit).await;
        }
        // The total rides along as an uncorrelated subquery (computed once): one round trip
        // for the page and its total.
        let mut qb = QueryBuilder::<Postgres>::new(format!(
            "SELECT {TASK_COLUMNS}, (SELECT COUNT(*) FROM tasks"
        ));
        list::push_filter(&mut qb, user_id, &query.filter);
        qb.push(") AS total FROM tasks");
        let sort_key = list::sort_expression(query.sort.field);
        if query.filter == TaskFilter::default() {
            // Every task of the user, in order: an index scan on `(user_id, <sort key>, id)`
            // stops after the page's rows, and the tag and reminder subqueries run for those
            // rows only (PostgreSQL evaluates costly output columns after the `LIMIT`).
            list::push_filter(&mut qb, user_id, &query.filter);
            list::push_page(&mut qb, sort_key, &query.sort, query.after.as_ref(), limit);
        } else {
            // The page's ids come from an index alone; the full rows (with their tags) are
            // built for those ids only, never for every candidate row before sorting.
            qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
            qb.push(" AND id IN (SELECT id FROM tasks");
            list::push_filter(&mut qb, user_id, &query.filter);
            list::push_page(&mut qb, sort_key, &query.sort, query.after.as_ref(), limit);
            qb.push(")").push(list::order_by(&query.sort));
        }
        self.counted_page(user_id, query, qb).await
    }

    async fn all_day_due_dates(&self, user_id: &UserId) -> Result<Vec<(TaskId, NaiveDate)>> {
        sqlx::query_as("SELECT id, due_date FROM tasks WHERE user_id = $1 AND due_date IS NOT NULL")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)
    }

    async fn set_due_keys(&self, user_id: &UserId, keys: &[(TaskId, DateTime<Utc>)]) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        for (id, key) in keys {
            sqlx::query("UPDATE tasks SET due_key = $1 WHERE user_id = $2 AND id = $3")
                .bind(key)
                .bind(user_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn list_tags(&self, user_id: &UserId) -> Result<Vec<Tag>> {
        tags::list(&self.pool, user_id).await
    }

    async fn insert_tag(
        &self,
        user_id: &UserId,
        name: &TagName,
        color: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Tag> {
        let id: TagId = sqlx::query_scalar(
            "INSERT INTO tags (user_id, name, name_key, color, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(&name.name)
        .bind(&name.key)
        .bind(color)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(tag_conflict)?;
        tags::get(&self.pool, user_id, id)
            .await?
            .ok_or_else(|| Error::internal("inserted tag vanished"))
    }

    async fn update_tag(
        &self,
        user_id: &UserId,
        id: TagId,
        changes: &TagChanges,
    ) -> Result<Option<Tag>> {
        let mut qb = QueryBuilder::<Postgres>::new("UPDATE tags SET user_id = user_id");
        if let Some(name) = &changes.name {
            qb.push(", name = ").push_bind(name.name.clone());
            qb.push(", name_key = ").push_bind(name.key.clone());
        }
        if let Some(color) = &changes.color {
            qb.push(", color = ").push_bind(color.clone());
        }
        qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
        qb.push(" AND id = ").push_bind(id);
        let done = qb.build().execute(&self.pool).await.map_err(tag_conflict)?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        tags::get(&self.pool, user_id, id).await
    }

    async fn delete_tag(&self, user_id: &UserId, id: TagId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM tags WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected() > 0)
    }
}

impl PostgresStore {
    async fn count_tasks(&self, user_id: &UserId, filter: &TaskFilter) -> Result<u64> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM tasks");
        list::push_filter(&mut qb, user_id, filter);
        let count: i64 = qb
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Search and tag filters select a set that must be found before it can be sorted: find it
    /// once, then take both the page and the total from it.
    async fn list_matches(
        &self,
        user_id: &UserId,
        query: &TaskQuery,
        limit: u32,
    ) -> Result<TaskSlice> {
        let mut qb = QueryBuilder::<Postgres>::new("WITH matches AS MATERIALIZED (SELECT id, ");
        qb.push(list::sort_expression(query.sort.field))
            .push(" AS k FROM tasks");
        list::push_filter(&mut qb, user_id, &query.filter);
        qb.push(format!(
            ") SELECT {TASK_COLUMNS}, (SELECT COUNT(*) FROM matches) AS total FROM tasks WHERE user_id = "
        ));
        qb.push_bind(user_id.to_owned());
        qb.push(" AND id IN (SELECT id FROM matches WHERE TRUE");
        list::push_page(&mut qb, "k", &query.sort, query.after.as_ref(), limit);
        qb.push(")").push(list::order_by(&query.sort));
        self.counted_page(user_id, query, qb).await
    }
}

impl PostgresStore {
    /// Runs a page's statement, whose rows carry the total.
    async fn counted_page(
        &self,
        user_id: &UserId,
        query: &TaskQuery,
        mut statement: QueryBuilder<Postgres>,
    ) -> Result<TaskSlice> {
        let rows = statement
            .build_query_as::<CountedTask>()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let total = match rows.first() {
            Some(row) => u64::try_from(row.total).unwrap_or_default(),
            // Past the last page the rows cannot carry the total.
            None if query.after.is_some() => self.count_tasks(user_id, &query.filter).await?,
            None => 0,
        };
        Ok(TaskSlice {
            tasks: rows.into_iter().map(|row| row.task.into()).collect(),
            total,
        })
    }
}

/// `UPDATE tasks` for the fields `changes` names, returning the task.
fn update_statement(
    user_id: &UserId,
    id: TaskId,
    changes: &TaskChanges,
    now: DateTime<Utc>,
) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new("UPDATE tasks SET updated_at = ");
    qb.push_bind(now);
    if let Some(title) = &changes.title {
        qb.push(", title = ").push_bind(title.clone());
    }
    if let Some(description) = &changes.description {
        qb.push(", description = ").push_bind(description.clone());
    }
    if let Some(priority) = changes.priority {
        qb.push(", priority = ").push_bind(priority.rank());
    }
    if let Some((due, key)) = &changes.due {
        qb.push(", due_at = ").push_bind(due.at());
        qb.push(", due_date = ").push_bind(due.date());
        qb.push(", due_key = ").push_bind(key);
    }
    if let Some(recurrence) = &changes.recurrence {
        qb.push(", recurrence = ").push_bind(recurrence.clone());
    }
    if let Some(mode) = changes.recurrence_mode {
        qb.push(", recurrence_mode = ").push_bind(mode.as_str());
    }
    if let Some(completed) = changes.completed {
        qb.push(", completed = ").push_bind(completed);
        qb.push(", completed_at = CASE WHEN ").push_bind(completed);
        qb.push(" THEN COALESCE(completed_at, ").push_bind(now);
        qb.push(") ELSE NULL END");
    }
    qb.push(" WHERE user_id = ").push_bind(user_id.to_owned());
    qb.push(" AND id = ").push_bind(id);
    qb.push(" RETURNING ").push(TASK_COLUMNS);
    qb
}

/// Inserts one task row; with `skip_imported`, a row whose import key the user already has is
/// skipped (`None`) instead of failing.
async fn insert_row(
    tx: &mut PgConnection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    skip_imported: bool,
) -> Result<Option<Task>> {
    let conflict = if skip_imported {
        "ON CONFLICT (user_id, import_key) WHERE import_key IS NOT NULL DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO tasks (user_id, title, description, completed, completed_at, priority, \
                 due_at, due_date, due_key, recurrence, import_key, recurrence_mode, parent_id, \
                 position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13, $14, \
                 (SELECT COALESCE(MAX(position), 0) + 1 FROM tasks WHERE user_id = $1), $10, $10) \
             {conflict} RETURNING {INSERTED_TASK_COLUMNS}"
    );
    sqlx::query_as::<_, rows::Task>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(&task.title)
        .bind(&task.description)
        .bind(task.completed)
        .bind(task.completed.then_some(now))
        .bind(task.priority.rank())
        .bind(task.due.at())
        .bind(task.due.date())
        .bind(task.due_key)
        .bind(now)
        .bind(&task.recurrence)
        .bind(&task.import_key)
        .bind(task.recurrence_mode.as_str())
        .bind(task.parent_id)
        .fetch_optional(tx)
        .await
        .map(|row| row.map(|row| Task::from(row.0)))
        .map_err(import_conflict)
}

/// Inserts a task with its tags, and writes what that means ([`planning::created`]); `None`
/// when `skip_imported` skipped it.
async fn insert(
    tx: &mut PgConnection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    skip_imported: bool,
) -> Result<Option<Task>> {
    let Some(inserted) = insert_row(tx, user_id, task, now, skip_imported).await? else {
        return Ok(None);
    };
    let id = inserted.id;
    // The inserted row came back without tags: with tags, it is read again.
    let current = if task.tags.is_empty() {
        Some(inserted)
    } else {
        tags::link(tx, user_id, id, &task.tags, now).await?;
        None
    };
    let plan = planning::created(task);
    write_plan(tx, user_id, id, &plan, now, current)
        .await
        .map(Some)
}

/// The task as it is, its row locked for the rest of the transaction (`None`: no such task).
/// Writers of the user hold the user's lock already; the row lock also keeps writers outside
/// it (none touch a task's completion or reminders today) from slipping in.
async fn lock_task(tx: &mut PgConnection, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2 FOR UPDATE");
    let row = sqlx::query_as::<_, rows::Task>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(tx)
        .await
        .map_err(db_error)?;
    Ok(row.map(|row| row.0.into()))
}

/// Applies `changes` to the task `before` (locked in this transaction), and writes what they
/// mean ([`planning::changed`]): the task as the write leaves it.
async fn change(
    tx: &mut PgConnection,
    user_id: &UserId,
    before: Task,
    changes: &TaskChanges,
    context: &WriteContext,
) -> Result<Task> {
    let id = before.id;
    let mut after: Task = update_statement(user_id, id, changes, context.now)
        .build_query_as::<rows::Task>()
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?
        .0
        .into();
    if let Some(new_tags) = &changes.tags {
        sqlx::query("DELETE FROM task_tags WHERE user_id = $1 AND task_id = $2")
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tags::link(tx, user_id, id, new_tags, context.now).await?;
        after = select_task(&mut *tx, user_id, id)
            .await?
            .ok_or_else(vanished)?;
    }
    let plan = planning::changed(
        &before,
        &after,
        ReminderIntent::of_changes(changes),
        context,
    );
    let task = write_plan(tx, user_id, id, &plan, context.now, Some(after)).await?;
    if let Some(successor) = &plan.successor {
        insert(tx, user_id, successor, context.now, false).await?;
    }
    Ok(task)
}

/// Writes a plan's reminders (with their jobs) and its event (with its deliveries); returns
/// the task as the write leaves it. `current` is the task before its reminders are written,
/// when the caller has it; otherwise, or when the reminders change, the task is read.
async fn write_plan(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: TaskId,
    plan: &TaskWrite,
    now: DateTime<Utc>,
    current: Option<Task>,
) -> Result<Task> {
    events::write_reminders(tx, user_id, id, &plan.reminders).await?;
    let task = match current {
        Some(task) if plan.reminders.is_empty() => task,
        _ => select_task(&mut *tx, user_id, id)
            .await?
            .ok_or_else(vanished)?,
    };
    events::record(tx, user_id, plan.event, id, &task_data(&task), now).await?;
    Ok(task)
}

fn vanished() -> Error {
    Error::internal("a task vanished inside its write")
}

pub(crate) async fn select_task<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    user_id: &UserId,
    id: TaskId,
) -> Result<Option<Task>> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2");
    let row = sqlx::query_as::<_, rows::Task>(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .bind(id)
        .fetch_optional(executor)
        .await
        .map_err(db_error)?;
    Ok(row.map(|row| row.0.into()))
}

/// `a, b` → `u.a, u.b`.
fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
