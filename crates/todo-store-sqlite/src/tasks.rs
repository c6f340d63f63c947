//! Tasks on SQLite: the write path (read the task, apply the change, write what
//! `todo_core::planning` says it means, in one transaction of the writer) and the reads.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use todo_core::events::task_data;
use todo_core::ids::UserId;
use todo_core::page::TaskQuery;
use todo_core::planning::{self, ReminderIntent, TaskWrite, WriteContext};
use todo_core::store::{TaskSlice, TaskStore};
use todo_core::tag::TagName;
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::time::to_sortable_text as ts;
use todo_core::{Error, Result};
use todo_store_sql::{IMPORT_CONFLICT, TaskRow, updates};

use crate::rows::{TASK_COLUMNS, conflict, date_text, db_error, opt_date};
use crate::sql::{self, DIALECT, Run};
use crate::{SqliteStore, events, list, reminders, savepoint, tags};

static SELECT_TASK: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {TASK_COLUMNS} FROM tasks WHERE user_id = ?1 AND id = ?2"));

/// An imported tag, unless the user has it.
const IMPORT_TAG: &str = "INSERT INTO tags (user_id, name, name_key, color, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, name_key) DO NOTHING";

/// An import looks this often whether its caller still waits.
const IMPORT_CHECK_EVERY: usize = 256;

fn import_abandoned() -> Error {
    Error::Unavailable("the import's caller stopped waiting: rolled back".into())
}

#[async_trait]
impl TaskStore for SqliteStore {
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
                    let values = [
                        (&user_id).into(),
                        (&name.name).into(),
                        (&name.key).into(),
                        color.into(),
                        now.into(),
                    ];
                    sql::run(&tx, IMPORT_TAG, values)?;
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
            let sql = "DELETE FROM tasks WHERE user_id = ?1 AND id = ?2";
            if sql::run(&tx, sql, [(&user_id).into(), id.into()])? == 0 {
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
                let sql = "UPDATE tasks SET due_key = ?1 WHERE user_id = ?2 AND id = ?3";
                sql::run(&tx, sql, [(*key).into(), (&user_id).into(), (*id).into()])?;
            }
            tx.commit().map_err(db_error)
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
    updates::task(&DIALECT, user_id, id, changes, context.now)
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
    reminders::write(conn, user_id, id, &plan.reminders)?;
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

pub(crate) fn select_task(conn: &Connection, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
    sql::row::<TaskRow, _>(conn, &SELECT_TASK, [user_id.into(), id.into()])
}
