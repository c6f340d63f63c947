//! Tasks on PostgreSQL: the write path (lock and read the task as the user may see it, apply
//! the change, write what `todo_core::planning` and `todo_core::placement` say it means, in
//! one transaction under the user's lock) and the reads.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::{PgConnection, Row};
use todo_core::events::task_data;
use todo_core::ids::UserId;
use todo_core::page::TaskQuery;
use todo_core::placement::{
    self, Destination, Facts, MoveInput, Moving, ParentFacts, Placed, ProjectFacts,
};
use todo_core::planning::{self, Completion, CompletionWrite, TaskWrite, WriteContext};
use todo_core::project::{Action, ProjectId, Role};
use todo_core::sharing;
use todo_core::store::{TaskSlice, TaskStore};
use todo_core::task::{NewTask, Task, TaskChanges, TaskId};
use todo_core::time::now;
use todo_core::transfer::ImportBatch;
use todo_core::{Error, Result};
use todo_store_sql::import::{self as import_sql, Insert, TaskCompletionRow, TitledCompletionRow};
use todo_store_sql::tree::{self, numbered, position_at};
use todo_store_sql::{CompletionRow, TASK_COLUMN_COUNT, TaskRow, task_columns, updates};

use crate::rows::{INSERTED_TASK_COLUMNS, TASK_COLUMNS, conflict, db_error, decode};
use crate::sql::{self, DIALECT, bound};
use crate::{PostgresStore, events, import, list, reminders, tags, tx};
use todo_store_sql::IMPORT_CONFLICT;
use todo_store_sql::sharing::{self as sharing_sql, OwnedReminderRow};

static SELECT_TASK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {} FROM tasks WHERE id = $2 AND project_id IN \
         (SELECT project_id FROM project_members WHERE user_id = $1)",
        task_columns(TASK_COLUMNS, "$1")
    )
});
/// The task locked for the write, and the user's role in its project.
static LOCK_TASK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {}, {} FROM tasks WHERE id = $2 FOR UPDATE",
        task_columns(TASK_COLUMNS, "$1"),
        numbered(tree::ROLE_IN_TASKS_PROJECT)
    )
});
static PROJECT_FACTS: LazyLock<String> = LazyLock::new(|| numbered(tree::PROJECT_FACTS));
static SECTION_PROJECT: LazyLock<String> = LazyLock::new(|| numbered(tree::SECTION_PROJECT));
static PARENT_FACTS: LazyLock<String> = LazyLock::new(|| numbered(tree::PARENT_FACTS));
static SUBTREE: LazyLock<String> = LazyLock::new(|| numbered(tree::SUBTREE));
static LAST_COMPLETION: LazyLock<String> = LazyLock::new(|| numbered(tree::LAST_COMPLETION));
static RECORD_COMPLETION: LazyLock<String> = LazyLock::new(|| numbered(tree::RECORD_COMPLETION));
static REMOVE_COMPLETION: LazyLock<String> = LazyLock::new(|| numbered(tree::REMOVE_COMPLETION));
static IS_MEMBER: LazyLock<String> = LazyLock::new(|| numbered(todo_store_sql::sharing::IS_MEMBER));
static UNASSIGN_STRANGERS: LazyLock<String> =
    LazyLock::new(|| numbered(todo_store_sql::sharing::UNASSIGN_STRANGERS));
static OTHERS_REMINDERS: LazyLock<String> =
    LazyLock::new(|| numbered(sharing_sql::OTHERS_REMINDERS));
static USER_COMPLETIONS: LazyLock<String> =
    LazyLock::new(|| numbered(import_sql::USER_COMPLETIONS));
static RECURRING_COMPLETIONS: LazyLock<String> =
    LazyLock::new(|| numbered(import_sql::RECURRING_COMPLETIONS));

#[async_trait]
impl TaskStore for PostgresStore {
    async fn insert_task(
        &self,
        user_id: &UserId,
        task: &NewTask,
        now: DateTime<Utc>,
    ) -> Result<Task> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let inserted = insert(&mut tx, user_id, task, now, Insert::New)
            .await?
            .ok_or_else(|| Error::internal("insert returned no row"))?;
        tx.commit().await.map_err(db_error)?;
        Ok(inserted)
    }

    async fn import_tasks(
        &self,
        user_id: &UserId,
        batch: &ImportBatch,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        // One transaction: dropped before its commit (the caller gave up: a client abort, a
        // request timeout), it rolls back, and nothing of the file stays.
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let created = import::store(&mut tx, user_id, batch, now).await?;
        // A file whose every task is there already changes nothing (no project made again
        // after a rename, no section): dropped, the transaction rolls back.
        if created > 0 || batch.tasks.is_empty() {
            tx.commit().await.map_err(db_error)?;
        }
        Ok(created)
    }

    async fn completions(&self, user_id: &UserId, limit: u32) -> Result<Vec<(TaskId, Completion)>> {
        let values = [user_id.into(), i64::from(limit).into()];
        sql::rows::<TaskCompletionRow, _>(&self.pool, USER_COMPLETIONS.as_str(), values).await
    }

    async fn recurring_completions(
        &self,
        user_id: &UserId,
        limit: u32,
    ) -> Result<Vec<(TaskId, String, Completion)>> {
        let values = [user_id.into(), i64::from(limit).into()];
        sql::rows::<TitledCompletionRow, _>(&self.pool, RECURRING_COMPLETIONS.as_str(), values)
            .await
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
        let Some(before) = lock_for_write(&mut tx, user_id, id).await? else {
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
        let Some(before) = lock_for_write(&mut tx, user_id, id).await? else {
            return Ok(None);
        };
        let Some(changes) = planning::completion(&before, completed) else {
            return Ok(Some(before));
        };
        let task = change(&mut tx, user_id, before, &changes, context).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    async fn move_task(
        &self,
        user_id: &UserId,
        id: TaskId,
        to: &MoveInput,
        now: DateTime<Utc>,
    ) -> Result<Option<Task>> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(task) = move_task(&mut tx, user_id, id, to, now).await? else {
            return Ok(None);
        };
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    async fn delete_task(&self, user_id: &UserId, id: TaskId) -> Result<bool> {
        let mut tx = tx::begin(&self.pool, user_id).await?;
        let Some(task) = lock_for_write(&mut tx, user_id, id).await? else {
            return Ok(false);
        };
        delete_tree(&mut tx, user_id, task, now()).await?;
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

    async fn floating_dues(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<(TaskId, NaiveDateTime, DateTime<Utc>)>> {
        sqlx::query_as(
            "SELECT id, due_local, due_at FROM tasks \
             WHERE user_id = $1 AND due_local IS NOT NULL AND due_timezone IS NULL \
             AND due_at IS NOT NULL AND NOT completed",
        )
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

/// Inserts one task row at `place`, after its project's other tasks; with `skip_imported`, a
/// row whose import key the user already has is skipped (`None`) instead of failing.
async fn insert_row(
    tx: &mut PgConnection,
    user_id: &UserId,
    task: &NewTask,
    place: &Placed,
    now: DateTime<Utc>,
    kind: Insert,
) -> Result<Option<Task>> {
    let on_conflict = if kind.skips_known_keys() {
        "ON CONFLICT (user_id, import_key) WHERE import_key IS NOT NULL DO NOTHING"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO tasks (project_id, user_id, title, description, completed, completed_at, \
                 priority, due_at, due_date, due_key, recurrence, import_key, recurrence_mode, \
                 section_id, parent_id, due_local, due_timezone, position, assignee_id, \
                 created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $13, $14, $15, $16, $17, $18, \
                 COALESCE($19, (SELECT COALESCE(MAX(position), 0) + 1 FROM tasks \
                     WHERE project_id = $1)), $20, $11, $11) \
             {on_conflict} RETURNING {INSERTED_TASK_COLUMNS}"
    );
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
    sql::query(sql, values)?
        .try_map(|row| decode::<TaskRow>(&row))
        .fetch_optional(tx)
        .await
        .map(|row| row.map(Task::from))
        .map_err(conflict(IMPORT_CONFLICT))
}

/// Inserts a task where its destination says (checked by [`placement::place`]) with its
/// tags, and writes what that means ([`planning::created`]); `None` when an import's known
/// key skipped it.
pub(crate) async fn insert(
    tx: &mut PgConnection,
    user_id: &UserId,
    task: &NewTask,
    now: DateTime<Utc>,
    kind: Insert,
) -> Result<Option<Task>> {
    let facts = facts(tx, user_id, &task.destination).await?;
    let place = placement::place(&task.destination, &facts)?;
    if let Some(assignee) = &task.assignee {
        check_assignee(tx, place.project, assignee).await?;
    }
    let Some(inserted) = insert_row(tx, user_id, task, &place, now, kind).await? else {
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

/// What the store knows of a destination, as the user may see it.
async fn facts(tx: &mut PgConnection, user_id: &UserId, to: &Destination) -> Result<Facts> {
    let section_project = match to.section {
        Some(section) => {
            let values = [section.into(), user_id.into()];
            sql::scalar::<ProjectId>(&mut *tx, SECTION_PROJECT.as_str(), values).await?
        }
        None => None,
    };
    let parent = match to.parent {
        Some(parent) => sql::query(PARENT_FACTS.as_str(), [parent.into(), user_id.into()])?
            .try_map(|row: sqlx::postgres::PgRow| {
                Ok(ParentFacts {
                    project: row.try_get(0)?,
                    section: row.try_get(1)?,
                    depth: u32::try_from(row.try_get::<i32, _>(2)?).unwrap_or(u32::MAX),
                })
            })
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_error)?,
        None => None,
    };
    let project = placement::project_to_read(to, section_project, parent.as_ref());
    let project = sql::query(PROJECT_FACTS.as_str(), [user_id.into(), project.into()])?
        .try_map(|row: sqlx::postgres::PgRow| {
            Ok(ProjectFacts {
                id: row.try_get(0)?,
                role: row.try_get::<String, _>(1)?.parse().unwrap_or(Role::Viewer),
                archived: row.try_get(2)?,
            })
        })
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(Facts {
        project,
        section_project,
        parent,
    })
}

/// The task locked for the write and the user's role in its project, if they are a member.
pub(crate) async fn lock_with_role(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: TaskId,
) -> Result<Option<(Task, Role)>> {
    let row = sql::query(LOCK_TASK.as_str(), [user_id.into(), id.into()])?
        .try_map(|row: sqlx::postgres::PgRow| {
            Ok((
                decode::<TaskRow>(&row)?,
                row.try_get::<Option<String>, _>(TASK_COLUMN_COUNT)?,
            ))
        })
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(row.and_then(|(task, role)| {
        let role = role?.parse().ok()?;
        Some((Task::from(task), role))
    }))
}

/// The task to change, locked, if the user may see it (`None`) and edit it (else
/// `Error::InsufficientRole`). Writers of the user hold the user's lock already; the row
/// lock also keeps other members' writers out.
async fn lock_for_write(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: TaskId,
) -> Result<Option<Task>> {
    let Some((task, role)) = lock_with_role(tx, user_id, id).await? else {
        return Ok(None);
    };
    role.require(Action::Edit)?;
    Ok(Some(task))
}

/// Applies `changes` to the task `before` (locked in this transaction) as
/// [`planning::resolve`] reads them, and writes what they mean ([`planning::changed`]); a
/// task this completes completes its open subtasks. The task as the write leaves it.
async fn change(
    tx: &mut PgConnection,
    user_id: &UserId,
    before: Task,
    changes: &TaskChanges,
    context: &WriteContext,
) -> Result<Task> {
    let id = before.id;
    let last = match changes.completed {
        Some(false) => {
            sql::row::<CompletionRow, _>(&mut *tx, LAST_COMPLETION.as_str(), [id.into()])
                .await?
                .map(|row: CompletionRow| row.0)
        }
        _ => None,
    };
    if let Some(Some(assignee)) = &changes.assignee {
        check_assignee(tx, before.project_id, assignee).await?;
    }
    let Some(resolved) = planning::resolve(&before, changes, last.as_ref(), context) else {
        return Ok(before);
    };
    let task = apply_resolved(tx, user_id, &before, &resolved, context).await?;
    if task.completed && !before.completed {
        complete_subtasks(tx, user_id, id, context).await?;
    }
    Ok(task)
}

/// Writes a resolved change: the row, its tags, its completion, its plan.
async fn apply_resolved(
    tx: &mut PgConnection,
    user_id: &UserId,
    before: &Task,
    resolved: &planning::Resolved,
    context: &WriteContext,
) -> Result<Task> {
    let id = before.id;
    let mut update = updates::task(&DIALECT, id, &resolved.changes, context.now);
    update
        .push(" RETURNING ")
        .push_task_columns(TASK_COLUMNS, user_id);
    let mut after: Task = bound(update)?
        .try_map(|row| decode::<TaskRow>(&row))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?
        .into();
    if let Some(new_tags) = &resolved.changes.tags {
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
    let plan = planning::changed(before, resolved);
    if resolved.changes.due.is_some() {
        retime_others(tx, user_id, id, resolved).await?;
    }
    write_completion(tx, user_id, id, plan.completion.as_ref(), context.now).await?;
    write_plan(tx, user_id, id, &plan, context.now, Some(after)).await
}

/// Completes the open subtasks below `parent`, each as its own completion.
async fn complete_subtasks(
    tx: &mut PgConnection,
    user_id: &UserId,
    parent: TaskId,
    context: &WriteContext,
) -> Result<()> {
    let mut open = vec![parent];
    while let Some(parent) = open.pop() {
        let children: Vec<TaskId> = sqlx::query_scalar(
            "SELECT id FROM tasks WHERE parent_id = $1 AND NOT completed ORDER BY position, id \
             FOR UPDATE",
        )
        .bind(parent)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        for child in children {
            let Some(before) = select_task(&mut *tx, user_id, child).await? else {
                continue;
            };
            let Some(resolved) = planning::close(&before, context) else {
                continue;
            };
            apply_resolved(tx, user_id, &before, &resolved, context).await?;
            open.push(child);
        }
    }
    Ok(())
}

/// Records or removes a completion as the plan says.
async fn write_completion(
    tx: &mut PgConnection,
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
            sql::run(&mut *tx, RECORD_COMPLETION.as_str(), values).await?;
        }
        Some(CompletionWrite::Remove(completion)) => {
            sql::run(&mut *tx, REMOVE_COMPLETION.as_str(), [(*completion).into()]).await?;
        }
        None => {}
    }
    Ok(())
}

/// Moves a task and its subtasks (see [`TaskStore::move_task`]).
async fn move_task(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: TaskId,
    to: &MoveInput,
    now: DateTime<Utc>,
) -> Result<Option<Task>> {
    let Some((task, role)) = lock_with_role(tx, user_id, id).await? else {
        return Ok(None);
    };
    if to.is_empty() {
        role.require(Action::Edit)?;
        return Ok(Some(task));
    }
    let subtree: Vec<(TaskId, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(SUBTREE.as_str()))
        .bind(id)
        .fetch_all(&mut *tx)
        .await
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
        height: subtree
            .iter()
            .map(|(_, depth)| u32::try_from(*depth).unwrap_or(u32::MAX))
            .max()
            .unwrap_or(0),
    };
    let destination = to.destination();
    let facts = facts(tx, user_id, &destination).await?;
    let place = placement::place_move(&moving, &destination, &facts)?;
    let positions: Vec<i64> = bound(tree::sibling_positions(&DIALECT, &place, id))?
        .try_map(|row: sqlx::postgres::PgRow| row.try_get(0))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    let position = match position_at(&positions, to.position) {
        Ok(taken) => {
            bound(tree::make_room(&DIALECT, &place, id, taken))?
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            taken
        }
        Err(after_last) => after_last,
    };
    bound(tree::place_task(&DIALECT, id, &place, position, now))?
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    if moving.carries_subtasks(&place) {
        bound(tree::follow(&DIALECT, &moving.subtree[1..], &place, now))?
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
    }
    if place.project != moving.placed.project {
        sql::run(
            &mut *tx,
            UNASSIGN_STRANGERS.as_str(),
            [place.project.into()],
        )
        .await?;
    }
    let mut moved = None;
    for task_id in moving.changed_by(&place) {
        let plan = planning::moved(moving.placed.project);
        let task = write_plan(tx, user_id, *task_id, &plan, now, None).await?;
        moved.get_or_insert(task);
    }
    Ok(moved)
}

/// Deletes a task and its subtasks, recording `deleted` for each (subtasks first).
pub(crate) async fn delete_tree(
    tx: &mut PgConnection,
    user_id: &UserId,
    task: Task,
    now: DateTime<Utc>,
) -> Result<()> {
    let subtree: Vec<(TaskId, i32)> = sqlx::query_as(sqlx::AssertSqlSafe(SUBTREE.as_str()))
        .bind(task.id)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
    for (id, _) in subtree.iter().rev() {
        let Some(gone) = select_task(&mut *tx, user_id, *id).await? else {
            continue;
        };
        sql::run(&mut *tx, "DELETE FROM tasks WHERE id = $1", [(*id).into()]).await?;
        write_plan(tx, user_id, *id, &planning::deleted(), now, Some(gone)).await?;
    }
    Ok(())
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
    let written = events::Written {
        actor: user_id,
        activity: plan.event,
        project: Some(task.project_id),
        from_project: plan.also_reaches.filter(|from| *from != task.project_id),
        task_id: id,
        task_data: &task_data(&task),
        at: now,
    };
    events::record(tx, written).await?;
    Ok(task)
}

/// Moves the other members' relative reminders with the task's due
/// ([`planning::others_reminders`]).
async fn retime_others(
    tx: &mut PgConnection,
    user_id: &UserId,
    id: TaskId,
    resolved: &planning::Resolved,
) -> Result<()> {
    let values = [id.into(), user_id.into()];
    let rows =
        sql::rows::<OwnedReminderRow, _>(&mut *tx, OTHERS_REMINDERS.as_str(), values).await?;
    for (other, reminders) in sharing_sql::by_user(rows) {
        let writes = planning::others_reminders(&reminders, resolved);
        reminders::write(tx, &other, id, &writes).await?;
    }
    Ok(())
}

/// Refuses an assignee who is not a member of `project`.
async fn check_assignee(
    tx: &mut PgConnection,
    project: ProjectId,
    assignee: &UserId,
) -> Result<()> {
    let values = [project.into(), assignee.into()];
    let found: i64 = sql::scalar(&mut *tx, IS_MEMBER.as_str(), values)
        .await?
        .unwrap_or(0);
    sharing::check_assignee(found > 0)
}

fn vanished() -> Error {
    Error::internal("a task vanished inside its write")
}

/// The task if the user is a member of its project.
pub(crate) async fn select_task<'e, E: sqlx::PgExecutor<'e>>(
    executor: E,
    user_id: &UserId,
    id: TaskId,
) -> Result<Option<Task>> {
    sql::row::<TaskRow, _>(executor, SELECT_TASK.as_str(), [user_id.into(), id.into()]).await
}
