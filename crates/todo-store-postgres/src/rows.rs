//! Task rows: the columns every task query returns, and their decoding by position.
//!
//! sqlx's derived `FromRow` finds each column by name (a hash lookup and a string comparison)
//! and checks its type before decoding; for a page of 50 tasks that was most of the time spent
//! decoding. These queries are ours and their columns fixed, so the rows are read by position.
//! Debug builds (the tests) still check every column's type; release builds skip the check.

use sqlx::postgres::PgRow;
use sqlx::{Decode, FromRow, Postgres, Row, Type};
use todo_store_sql::TaskRow;

/// A task row with its tag names and reminders as JSON arrays (tags sorted without regard to
/// case; each NULL when there are none), in the order [`task_at`] reads them. An aggregate
/// with `ORDER BY` starts a sort every time it runs, rows or not: the `EXISTS` probes run it
/// only for tasks that have tags or reminders (most have neither).
pub const TASK_COLUMNS: &str = "id, user_id, title, description, completed, completed_at, \
     priority, due_at, due_date, recurrence, recurrence_mode, parent_id, position, created_at, \
     updated_at, \
     CASE WHEN EXISTS (SELECT FROM task_tags tt \
             WHERE tt.user_id = tasks.user_id AND tt.task_id = tasks.id) THEN \
         (SELECT json_agg(t.name ORDER BY t.name_key)::text FROM task_tags tt \
             JOIN tags t ON t.user_id = tt.user_id AND t.id = tt.tag_id \
             WHERE tt.user_id = tasks.user_id AND tt.task_id = tasks.id) END AS tags, \
     CASE WHEN EXISTS (SELECT FROM reminders r \
             WHERE r.user_id = tasks.user_id AND r.task_id = tasks.id) THEN \
         (SELECT json_agg(json_build_object('id', r.id, 'remind_at', r.remind_at, \
             'minutes_before', r.minutes_before, 'sent_at', r.sent_at) ORDER BY r.remind_at, r.id)::text \
         FROM reminders r WHERE r.user_id = tasks.user_id AND r.task_id = tasks.id) END AS reminders";
/// `TASK_COLUMNS` for a row just inserted, which has no tags or reminders yet (they are linked
/// after it, and the row is read again then).
pub const INSERTED_TASK_COLUMNS: &str = "id, user_id, title, description, completed, \
     completed_at, priority, due_at, due_date, recurrence, recurrence_mode, parent_id, position, \
     created_at, updated_at, NULL::text AS tags, NULL::text AS reminders";
/// How many columns `TASK_COLUMNS` has.
const TASK_WIDTH: usize = 17;

fn get<'r, T>(row: &'r PgRow, index: usize) -> sqlx::Result<T>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    if cfg!(debug_assertions) {
        row.try_get(index)
    } else {
        row.try_get_unchecked(index)
    }
}

/// The task whose `TASK_COLUMNS` start at column `start`.
fn task_at(row: &PgRow, start: usize) -> sqlx::Result<TaskRow> {
    Ok(TaskRow {
        id: get(row, start)?,
        user_id: get(row, start + 1)?,
        title: get(row, start + 2)?,
        description: get(row, start + 3)?,
        completed: get(row, start + 4)?,
        completed_at: get(row, start + 5)?,
        priority: get(row, start + 6)?,
        due_at: get(row, start + 7)?,
        due_date: get(row, start + 8)?,
        recurrence: get(row, start + 9)?,
        recurrence_mode: get(row, start + 10)?,
        parent_id: get(row, start + 11)?,
        position: get(row, start + 12)?,
        created_at: get(row, start + 13)?,
        updated_at: get(row, start + 14)?,
        tags: get(row, start + 15)?,
        reminders: get(row, start + 16)?,
    })
}

/// `SELECT TASK_COLUMNS` (or `INSERTED_TASK_COLUMNS`).
pub struct Task(pub TaskRow);

impl FromRow<'_, PgRow> for Task {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        task_at(row, 0).map(Task)
    }
}

/// `SELECT TASK_COLUMNS, <total>`: a task of a listing, with the listing's total.
pub struct CountedTask {
    pub task: TaskRow,
    pub total: i64,
}

impl FromRow<'_, PgRow> for CountedTask {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(CountedTask {
            task: task_at(row, 0)?,
            total: get(row, TASK_WIDTH)?,
        })
    }
}
