//! Tasks on SQLite: the write path (read the task as the user may see it, apply the change,
//! write what `todo_core::planning` and `todo_core::placement` say it means, in one
//! transaction of the writer) and the reads.

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::Connection;
use todo_core::events::task_data;
use todo_core::ids::UserId;
use todo_core::page::TaskQuery;
use todo_core::placement::{
    self, Destination, Facts, MoveInput, Moving, ParentFacts, Placed, ProjectFacts,
};
use todo_core::planning::{self, Completion, CompletionWrite, TaskWrite, WriteContext};
use todo_core::project::{Action, ProjectId, Role, SectionId};
use todo_core::store::{TaskSlice, TaskStore};
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::transfer::ImportBatch;
use todo_core::{Error, Result};
use todo_store_sql::import::{self as import, Insert, TaskCompletionRow, TitledCompletionRow};
use todo_store_sql::sharing::{self as sharing_sql, OwnedReminderRow};
use todo_store_sql::tree::{self, position_at};
use todo_store_sql::{CompletionRow, IMPORT_CONFLICT, TaskRow, task_columns, updates};

use crate::rows::{TASK_COLUMNS, conflict, db_error, decode, opt_date, time};
use crate::sql::{self, DIALECT, Run};
use crate::{SqliteStore, events, list, reminders, savepoint, tags};

static SELECT_TASK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM tasks WHERE id = ?2 AND project_id IN \
         (SELECT project_id FROM project_members WHERE user_id = ?1)",
        task_columns(TASK_COLUMNS, "?1")
    )
});
static SELECT_TASK_AND_ROLE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, {} FROM tasks WHERE id = ?2",
        task_columns(TASK_COLUMNS, "?1"),
        tree::ROLE_IN_TASKS_PROJECT
    )
});

#[async_trait]
impl TaskStore for SqliteStore {
    async fn insert_task(
        &self,
        user_id: &UserId,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let (user, task) = (user_id.to_owned(), task.clone());
        self.write_announcing(move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let task = insert(&tx, &user_id, &task, now, Insert::New)?
                .ok_or_else(|| Error::internal("insert returned no row"))?;
            tx.commit().map_err(db_error)?;
            Ok(task)
        })
        .await
    }

    async fn import_tasks(
        &self,
        user_id: &UserId,
        batch: &ImportBatch,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let (user, batch) = (user_id.to_owned(), batch.clone());
        // The write runs on the writer thread whether or not its caller still waits: it looks
        // at this (alive while the caller waits) and rolls back if the caller has gone.
        let waiting = Arc::new(());
        let caller = Arc::downgrade(&waiting);
        let imported = self
            .write_announcing(move |conn| {
                let tx = savepoint(conn)?;
                let created =
                    crate::import::store(&tx, &user, &batch, now, || caller.strong_count() > 0)?;
                // A file whose every task is there already changes nothing (no project made
                // again after a rename, no section): dropped, the savepoint rolls back.
                if created > 0 || batch.tasks.is_empty() {
                    tx.commit().map_err(db_error)?;
                }
                Ok(created)
            })
            .await;
        drop(waiting);
        imported
    }

    async fn completions(&self, user_id: &UserId, limit: u32) -> Result<Vec<(TaskId, Completion)>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let values = [(&user_id).into(), i64::from(limit).into()];
            sql::rows::<TaskCompletionRow, _>(conn, import::USER_COMPLETIONS, values)
        })
        .await
    }

    async fn recurring_completions(
        &self,
        user_id: &UserId,
        limit: u32,
    ) -> Result<Vec<(TaskId, String, Completion)>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let values = [(&user_id).into(), i64::from(limit).into()];
            sql::rows::<TitledCompletionRow, _>(conn, import::RECURRING_COMPLETIONS, values)
        })
        .await
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
        self.write_announcing(move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(before) = select_for_write(&tx, &user_id, id)? else {
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
        self.write_announcing(move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(before) = select_for_write(&tx, &user_id, id)? else {
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

    async fn move_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        to: &MoveInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>> {
        let (user, to) = (user_id.to_owned(), to.clone());
        self.write_announcing(move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(task) = move_task(&tx, &user_id, id, &to, now)? else {
                return Ok(None);
            };
            tx.commit().map_err(db_error)?;
            Ok(Some(task))
        })
        .await
    }

    async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<bool> {
        let user = user_id.to_owned();
        self.write_announcing(move |conn| {
            let user_id = user;
            let tx = savepoint(conn)?;
            let Some(task) = select_for_write(&tx, &user_id, id)? else {
                return Ok(false);
            };
            delete_tree(&tx, &user_id, task, now())?;
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

    async fn floating_dues(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(TaskId, NaiveDateTime, DateTime<Utc>)>> {
        let user_id = user_id.to_owned();
        self.read(move |conn| {
            let sql = "SELECT id, due_local, due_at FROM tasks \
                       WHERE user_id = ?1 AND due_local IS NOT NULL AND due_timezone IS NULL \
                       AND due_at IS NOT NULL AND completed = 0";
            let rows = sql::all(conn, sql, [&user_id], |row| {
                Ok((
                    row.get::<_, TaskId>(0)?,
                    row.get::<_, String>(1)?,
                    time(row, 2)?,
                ))
            })
            .map_err(db_error)?;
            Ok(rows
                .into_iter()
                .filter_map(|(id, local, at)| {
                    NaiveDateTime::parse_from_str(&local, todo_core::time::LOCAL_FORMAT)
                        .ok()
                        .map(|local| (id, local, at))
                })
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

/// Inserts one task row at `place`, after its project's other tasks; with `skip_imported`, a
/// row whose import key the user already has is skipped (`None`) instead of failing.
fn insert_row(
    conn: &Connection,
    user_id: &UserId,
    task: &NewTask,
    place: &Placed,
    now: DateTime<Utc>,
    kind: Insert,
) -> Result<Option<TaskId>> {
    const COLUMNS: &str = "INSERT INTO tasks (project_id, user_id, title, description, completed, \
         completed_at, priority, due_at, due_date, due_key, recurrence, import_key, \
         recurrence_mode, section_id, parent_id, due_local, due_timezone, position, assignee_id, \
         created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
             COALESCE(?19, (SELECT COALESCE(MAX(position), 0) + 1 FROM tasks WHERE project_id = ?1)), \
             ?20, ?11, ?11)";
    static PLAIN: LazyLock<String> = LazyLock::new(|| format!("{COLUMNS} RETURNING id"));
    static SKIPPING: LazyLock<String> = LazyLock::new(|| {
        format!(
            "{COLUMNS} ON CONFLICT (user_id, import_key) WHERE import_key IS NOT NULL \
             DO NOTHING RETURNING id"
        )
    });
    let sql = if kind.skips_known_keys() {
        &SKIPPING
    } else {
        &PLAIN
    };
    let values = [
        place.project.into(),
        user_id.into(),
        (&task.title).into(),
        (&task.description).into(),
        task.completed.into(),
        kind.completed_at(task.completed, now).into(),
        task.priority.rank().into(),
        task.due.at().into(),
        task.due.date().into(),
        task.due_key.into(),
        now.into(),
        (&task.recurrence).into(),
        (&task.import_key).into(),
        task.recurrence_mode.as_str().into(),
        place.section.into(),
        place.parent.into(),
        task.due_local.into(),
        task.due_zone.map(|z| z.name().to_owned()).into(),
        kind.position().into(),
        task.assignee.as_ref().map(UserId::as_str).into(),
    ];
    sql::scalar_or(conn, sql, values, conflict(IMPORT_CONFLICT))
}
/// Inserts a task where its destination says (checked by [`placement::place`]) with its
/// tags, and writes what that means ([`planning::created`]); `None` when an import's known
/// key skipped it.
pub(crate) fn insert(
    conn: &Connection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    kind: Insert,
) -> Result<Option<Task>> {
    let facts = facts(conn, user_id, &task.destination)?;
    let place = placement::place(&task.destination, &facts)?;
    if let Some(assignee) = &task.assignee {
        check_assignee(conn, place.project, assignee)?;
    }
    let Some(id) = insert_row(conn, user_id, task, &place, now, kind)? else {
        return Ok(None);
    };
    tags::link(conn, user_id, id, &task.tags, now)?;
    write_plan(conn, user_id, id, &planning::created(task), now, None).map(Some)
}

/// What the store knows of a destination, as the user may see it.
fn facts(conn: &Connection, user_id: &UserId, to: &Destination) -> Result<Facts> {
    let section_project = match to.section {
        Some(section) => sql::scalar::<ProjectId>(
            conn,
            tree::SECTION_PROJECT,
            [section.into(), user_id.into()],
        )?,
        None => None,
    };
    let parent = match to.parent {
        Some(parent) => sql::one(conn, tree::PARENT_FACTS, (parent, user_id), |row| {
            Ok(ParentFacts {
                project: row.get(0)?,
                section: row.get::<_, Option<SectionId>>(1)?,
                depth: row.get(2)?,
            })
        })
        .map_err(db_error)?,
        None => None,
    };
    let project = placement::project_to_read(to, section_project, parent.as_ref());
    let project = sql::one(conn, tree::PROJECT_FACTS, (user_id, project), |row| {
        Ok((
            row.get::<_, ProjectId>(0)?,
            row.get::<_, String>(1)?,
            row.get(2)?,
        ))
    })
    .map_err(db_error)?
    .map(|(id, role, archived)| ProjectFacts {
        id,
        role: role.parse().unwrap_or(Role::Viewer),
        archived,
    });
    Ok(Facts {
        project,
        section_project,
        parent,
    })
}

/// Applies `changes` to the task `before` (read in this transaction) as
/// [`planning::resolve`] reads them, and writes what they mean ([`planning::changed`]); a
/// task this completes completes its open subtasks. The task as the write leaves it.
fn change(
    conn: &Connection,
    user_id: &UserId,
    before: Task,
    changes: &TaskChanges,
    context: &WriteContext,
) -> Result<Task> {
    let id = before.id;
    let last = match changes.completed {
        Some(false) => sql::row::<CompletionRow, _>(conn, tree::LAST_COMPLETION, [id.into()])?
            .map(|row: CompletionRow| row.0),
        _ => None,
    };
    if let Some(Some(assignee)) = &changes.assignee {
        check_assignee(conn, before.project_id, assignee)?;
    }
    let Some(resolved) = planning::resolve(&before, changes, last.as_ref(), context) else {
        return Ok(before);
    };
    updates::task(&DIALECT, id, &resolved.changes, context.now)
        .execute(conn)
        .map_err(db_error)?;
    if let Some(new_tags) = &resolved.changes.tags {
        sql::execute(
            conn,
            "DELETE FROM task_tags WHERE user_id = ?1 AND task_id = ?2",
            (user_id, id),
        )
        .map_err(db_error)?;
        tags::link(conn, user_id, id, new_tags, context.now)?;
    }
    let after = select_task(conn, user_id, id)?.ok_or_else(vanished)?;
    let plan = planning::changed(&before, &resolved);
    retime_others(conn, user_id, id, &resolved)?;
    write_completion(conn, user_id, id, plan.completion.as_ref(), context.now)?;
    let task = write_plan(conn, user_id, id, &plan, context.now, Some(after))?;
    if task.completed && !before.completed {
        complete_subtasks(conn, user_id, id, context)?;
    }
    Ok(task)
}

/// Completes the open subtasks below `parent`, each as its own completion.
fn complete_subtasks(
    conn: &Connection,
    user_id: &UserId,
    parent: TaskId,
    context: &WriteContext,
) -> Result<()> {
    let mut open = vec![parent];
    while let Some(parent) = open.pop() {
        let children: Vec<TaskId> = sql::all(
            conn,
            "SELECT id FROM tasks WHERE parent_id = ?1 AND completed = 0 ORDER BY position, id",
            [parent],
            |row| row.get(0),
        )
        .map_err(db_error)?;
        for child in children {
            let Some(before) = select_task(conn, user_id, child)? else {
                continue;
            };
            let Some(resolved) = planning::close(&before, context) else {
                continue;
            };
            apply_resolved(conn, user_id, &before, &resolved, context)?;
            open.push(child);
        }
    }
    Ok(())
}

/// A resolved change without tags or a cascade (a subtask completed with its parent).
fn apply_resolved(
    conn: &Connection,
    user_id: &UserId,
    before: &Task,
    resolved: &planning::Resolved,
    context: &WriteContext,
) -> Result<Task> {
    updates::task(&DIALECT, before.id, &resolved.changes, context.now)
        .execute(conn)
        .map_err(db_error)?;
    let plan = planning::changed(before, resolved);
    retime_others(conn, user_id, before.id, resolved)?;
    write_completion(
        conn,
        user_id,
        before.id,
        plan.completion.as_ref(),
        context.now,
    )?;
    write_plan(conn, user_id, before.id, &plan, context.now, None)
}

/// Records or removes a completion as the plan says.
fn write_completion(
    conn: &Connection,
    user_id: &UserId,
    id: TaskId,
    completion: Option<&CompletionWrite>,
    now: DateTime<Utc>,
) -> Result<()> {
    match completion {
        Some(CompletionWrite::Record { due, recurrence }) => {
            let values = [
                id.into(),
                now.into(),
                user_id.into(),
                due.due.at().into(),
                due.due.date().into(),
                due.local.into(),
                due.zone.map(|z| z.name().to_owned()).into(),
                recurrence.into(),
            ];
            sql::run(conn, tree::RECORD_COMPLETION, values)?;
        }
        Some(CompletionWrite::Remove(completion)) => {
            sql::run(conn, tree::REMOVE_COMPLETION, [(*completion).into()])?;
        }
        None => {}
    }
    Ok(())
}

/// Moves a task and its subtasks (see [`TaskStore::move_task`]).
fn move_task(
    conn: &Connection,
    user_id: &UserId,
    id: TaskId,
    to: &MoveInput,
    now: DateTime<Utc>,
) -> Result<Option<Task>> {
    let Some((task, role)) = select_with_role(conn, user_id, id)? else {
        return Ok(None);
    };
    if to.is_empty() {
        role.require(Action::Edit)?;
        return Ok(Some(task));
    }
    let subtree: Vec<(TaskId, u32)> = sql::all(conn, tree::SUBTREE, [id], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .map_err(db_error)?;
    let from = Placed {
        project: task.project_id,
        section: task.section_id,
        parent: task.parent_id,
    };
    let moving = Moving {
        placed: from,
        role,
        subtree: subtree.iter().map(|(id, _)| *id).collect(),
        height: subtree.iter().map(|(_, depth)| *depth).max().unwrap_or(0),
    };
    let destination = to.destination();
    let facts = facts(conn, user_id, &destination)?;
    let place = placement::place_move(&moving, &destination, &facts)?;
    let positions: Vec<i64> = tree::sibling_positions(&DIALECT, &place, id)
        .all(conn, |row| row.get(0))
        .map_err(db_error)?;
    let position = match position_at(&positions, to.position) {
        Ok(taken) => {
            tree::make_room(&DIALECT, &place, id, taken)
                .execute(conn)
                .map_err(db_error)?;
            taken
        }
        Err(after_last) => after_last,
    };
    tree::place_task(&DIALECT, id, &place, position, now)
        .execute(conn)
        .map_err(db_error)?;
    if moving.carries_subtasks(&place) {
        tree::follow(&DIALECT, &moving.subtree[1..], &place, now)
            .execute(conn)
            .map_err(db_error)?;
    }
    if place.project != moving.placed.project {
        let sql = todo_store_sql::sharing::UNASSIGN_STRANGERS;
        sql::run(conn, sql, [place.project.into()])?;
    }
    let mut moved = None;
    for task_id in moving.changed_by(&place) {
        let plan = planning::moved(moving.placed.project);
        let task = write_plan(conn, user_id, *task_id, &plan, now, None)?;
        moved.get_or_insert(task);
    }
    Ok(moved)
}

/// Deletes a task and its subtasks, recording `deleted` for each (subtasks first).
pub(crate) fn delete_tree(
    conn: &Connection,
    user_id: &UserId,
    task: Task,
    now: DateTime<Utc>,
) -> Result<()> {
    let subtree: Vec<TaskId> =
        sql::all(conn, tree::SUBTREE, [task.id], |row| row.get(0)).map_err(db_error)?;
    for id in subtree.iter().rev() {
        let Some(gone) = select_task(conn, user_id, *id)? else {
            continue;
        };
        sql::run(conn, "DELETE FROM tasks WHERE id = ?1", [(*id).into()])?;
        write_plan(conn, user_id, *id, &planning::deleted(), now, Some(gone))?;
    }
    Ok(())
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
    let written = events::Written {
        actor: user_id,
        activity: plan.event,
        project: Some(task.project_id),
        from_project: plan.also_reaches.filter(|from| *from != task.project_id),
        task_id: id,
        task_data: &task_data(&task),
        at: now,
    };
    events::record(conn, written)?;
    Ok(task)
}

/// Moves the other members' relative reminders with the task's due
/// ([`planning::others_reminders`]).
fn retime_others(
    conn: &Connection,
    user_id: &UserId,
    id: TaskId,
    resolved: &planning::Resolved,
) -> Result<()> {
    if resolved.changes.due.is_none() {
        return Ok(());
    }
    let values = [id.into(), user_id.into()];
    let rows = sql::rows::<OwnedReminderRow, _>(conn, sharing_sql::OTHERS_REMINDERS, values)?;
    for (other, reminders) in sharing_sql::by_user(rows) {
        let writes = planning::others_reminders(&reminders, resolved);
        reminders::write(conn, &other, id, &writes)?;
    }
    Ok(())
}

/// Refuses an assignee who is not a member of `project`.
fn check_assignee(conn: &Connection, project: ProjectId, assignee: &UserId) -> Result<()> {
    let values = [project.into(), assignee.into()];
    let found: i64 = sql::scalar(conn, todo_store_sql::sharing::IS_MEMBER, values)?.unwrap_or(0);
    todo_core::sharing::check_assignee(found > 0)
}

fn vanished() -> Error {
    Error::internal("a task vanished inside its write")
}

/// The task if the user is a member of its project.
pub(crate) fn select_task(conn: &Connection, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
    sql::row::<TaskRow, _>(conn, &SELECT_TASK, [user_id.into(), id.into()])
}

/// The task and the user's role in its project, if they are a member.
pub(crate) fn select_with_role(
    conn: &Connection,
    user_id: &UserId,
    id: TaskId,
) -> Result<Option<(Task, Role)>> {
    let row = sql::one(conn, &SELECT_TASK_AND_ROLE, (user_id, id), |row| {
        Ok((
            decode::<TaskRow>(row)?,
            row.get::<_, Option<String>>(todo_store_sql::TASK_COLUMN_COUNT)?,
        ))
    })
    .map_err(db_error)?;
    Ok(row.and_then(|(task, role)| {
        let role = role?.parse().ok()?;
        Some((Task::from(task), role))
    }))
}

/// The task to change, if the user may see it (`None`) and edit it (else
/// `Error::InsufficientRole`).
fn select_for_write(conn: &Connection, user_id: &UserId, id: TaskId) -> Result<Option<Task>> {
    let Some((task, role)) = select_with_role(conn, user_id, id)? else {
        return Ok(None);
    };
    role.require(Action::Edit)?;
    Ok(Some(task))
}
