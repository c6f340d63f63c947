//! Tasks on PostgreSQL: the write path (lock and read the task, apply the change, write what
//! `todo_core::planning` says it means, in one transaction under the user's lock) and the
//! reads.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use todo_core::events::task_data;
use todo_core::ids::UserId;
use todo_core::page::TaskQuery;
use todo_core::planning::{self, ReminderIntent, TaskWrite, WriteContext};
use todo_core::store::{TaskSlice, TaskStore};
use todo_core::tag::TagName;
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::{Error, Result};
use todo_store_sql::{TaskRow, updates};

use crate::rows::{INSERTED_TASK_COLUMNS, TASK_COLUMNS, conflict, db_error, decode};
use crate::sql::{self, DIALECT, bound};
use crate::{PostgresStore, events, list, reminders, tags, tx};
use todo_store_sql::IMPORT_CONFLICT;

/// An imported tag, unless the user has it.
const IMPORT_TAG: &str = "INSERT INTO tags (user_id, name, name_key, color, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, name_key) DO NOTHING";

#[async_trait]
impl TaskStore for PostgresStore {
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
            let values = [
                user_id.into(),
                (&name.name).into(),
                (&name.key).into(),
                color.into(),
                now.into(),
            ];
            sql::run(&mut *tx, IMPORT_TAG, values).await?;
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
        let sql = "DELETE FROM tasks WHERE user_id = $1 AND id = $2";
        if sql::run(&mut *tx, sql, [user_id.into(), id.into()]).await? == 0 {
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
        list::page(&self.pool, user_id, query, limit).await
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
            let sql = "UPDATE tasks SET due_key = $1 WHERE user_id = $2 AND id = $3";
            sql::run(&mut *tx, sql, [(*key).into(), user_id.into(), (*id).into()]).await?;
        }
        tx.commit().await.map_err(db_error)
    }
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
    let on_conflict = if skip_imported {
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
             {on_conflict} RETURNING {INSERTED_TASK_COLUMNS}"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
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
        .try_map(|row| decode::<TaskRow>(&row))
        .fetch_optional(tx)
        .await
        .map(|row| row.map(Task::from))
        .map_err(conflict(IMPORT_CONFLICT))
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
    sql::row::<TaskRow, _>(tx, sql, [user_id.into(), id.into()]).await
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
    let mut update = updates::task(&DIALECT, user_id, id, changes, context.now);
    update.push(" RETURNING ").push(TASK_COLUMNS);
    let mut after: Task = bound(update)?
        .try_map(|row| decode::<TaskRow>(&row))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?
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
    reminders::write(tx, user_id, id, &plan.reminders).await?;
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
    sql::row::<TaskRow, _>(executor, sql, [user_id.into(), id.into()]).await
}
