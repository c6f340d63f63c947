//! The statements both backends run to place tasks in projects, sections and the subtask tree
//! (the rules are `todo_core::placement`'s). Written once with SQLite's `?N` placeholders;
//! PostgreSQL runs them through [`numbered`].

use todo_core::placement::Placed;
use todo_core::task::TaskId;

use crate::sql::{Dialect, Sql};

/// `?N` → `$N`: a statement of this module in PostgreSQL's placeholders.
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// The caller's role in a task's project (`?1` user, `?2` task); no row when they are not a
/// member. Appended to a task row's columns.
pub const ROLE_IN_TASKS_PROJECT: &str = "(SELECT m.role FROM project_members m \
     WHERE m.project_id = tasks.project_id AND m.user_id = ?1)";

/// A project as a destination (`?1` user, `?2` project, or NULL for the user's Inbox): its
/// id, the user's role and whether it is archived; no row when the user is not a member.
pub const PROJECT_FACTS: &str = "SELECT p.id, m.role, p.archived FROM projects p \
     JOIN project_members m ON m.project_id = p.id AND m.user_id = ?1 \
     WHERE (?2 IS NULL AND p.inbox AND p.owner_id = ?1) OR p.id = ?2";

/// A section's project (`?1` section, `?2` user), if the user is a member of it.
pub const SECTION_PROJECT: &str = "SELECT s.project_id FROM sections s \
     JOIN project_members m ON m.project_id = s.project_id AND m.user_id = ?2 WHERE s.id = ?1";

/// A task that would be a parent (`?1` task, `?2` user), if the user is a member of its
/// project: its project, section and depth (how many ancestors it has).
pub const PARENT_FACTS: &str = "WITH RECURSIVE up (id, parent_id, depth) AS ( \
         SELECT id, parent_id, 0 FROM tasks WHERE id = ?1 \
         UNION ALL SELECT t.id, t.parent_id, up.depth + 1 FROM tasks t JOIN up ON t.id = up.parent_id \
             WHERE up.depth < 64) \
     SELECT t.project_id, t.section_id, (SELECT MAX(depth) FROM up) FROM tasks t \
     JOIN project_members m ON m.project_id = t.project_id AND m.user_id = ?2 WHERE t.id = ?1";

/// A task and every subtask below it (`?1` task), each with its depth below it (0 for the
/// task), parents before their subtasks.
pub const SUBTREE: &str = "WITH RECURSIVE down (id, depth) AS ( \
         SELECT id, 0 FROM tasks WHERE id = ?1 \
         UNION ALL SELECT t.id, down.depth + 1 FROM tasks t JOIN down ON t.parent_id = down.id \
             WHERE down.depth < 64) \
     SELECT id, depth FROM down ORDER BY depth, id";

/// The latest completion of a task (`?1`).
pub const LAST_COMPLETION: &str = "SELECT id, completed_at, due_at, due_date, due_local, \
     due_timezone, recurrence FROM task_completions WHERE task_id = ?1 \
     ORDER BY completed_at DESC, id DESC LIMIT 1";

/// Records a completion (`?1` task, `?2` when, `?3` by whom, then the due and rule it had).
pub const RECORD_COMPLETION: &str = "INSERT INTO task_completions \
     (task_id, completed_at, completed_by, due_at, due_date, due_local, due_timezone, recurrence) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

pub const REMOVE_COMPLETION: &str = "DELETE FROM task_completions WHERE id = ?1";

/// ` WHERE …` selecting the siblings at a place (its project, section and parent), but not
/// `except`.
fn push_siblings(sql: &mut Sql, place: &Placed, except: TaskId) {
    match place.parent {
        Some(parent) => {
            sql.push(" WHERE parent_id = ").bind(parent);
        }
        None => {
            sql.push(" WHERE parent_id IS NULL AND project_id = ")
                .bind(place.project);
            match place.section {
                Some(section) => sql.push(" AND section_id = ").bind(section),
                None => sql.push(" AND section_id IS NULL"),
            };
        }
    }
    sql.push(" AND id <> ").bind(except);
}

/// The positions of the siblings at `place` (without `except`), in order.
pub fn sibling_positions(dialect: &Dialect, place: &Placed, except: TaskId) -> Sql {
    let mut sql = Sql::new(dialect, "SELECT position FROM tasks");
    push_siblings(&mut sql, place, except);
    sql.push(" ORDER BY position, id");
    sql
}

/// Makes room at `position` among the siblings at `place`: the ones at or after it move one
/// down.
pub fn make_room(dialect: &Dialect, place: &Placed, except: TaskId, position: i64) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE tasks SET position = position + 1");
    push_siblings(&mut sql, place, except);
    sql.push(" AND position >= ").bind(position);
    sql
}

/// Puts a task at a place and position.
pub fn place_task(
    dialect: &Dialect,
    id: TaskId,
    place: &Placed,
    position: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE tasks SET project_id = ");
    sql.bind(place.project);
    sql.push(", section_id = ").bind(place.section);
    sql.push(", parent_id = ").bind(place.parent);
    sql.push(", position = ").bind(position);
    sql.push(", updated_at = ").bind(now);
    sql.push(" WHERE id = ").bind(id);
    sql
}

/// Subtasks follow their parent's project and section.
pub fn follow(
    dialect: &Dialect,
    ids: &[TaskId],
    place: &Placed,
    now: chrono::DateTime<chrono::Utc>,
) -> Sql {
    let mut sql = Sql::new(dialect, "UPDATE tasks SET project_id = ");
    sql.bind(place.project);
    sql.push(", section_id = ").bind(place.section);
    sql.push(", updated_at = ").bind(now);
    sql.push(" WHERE id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
    sql
}

/// Where a task goes among siblings whose positions are `positions` (in order): at `index`
/// (the position the sibling there has; it and those after move down), or after the last.
/// `Err` carries the position after the last, `Ok` the one to make room at.
pub fn position_at(positions: &[i64], index: Option<u32>) -> Result<i64, i64> {
    let after_last = positions.last().map_or(1, |last| last + 1);
    match index.and_then(|i| positions.get(i as usize)) {
        Some(position) => Ok(*position),
        None => Err(after_last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_placeholders_for_postgres() {
        assert_eq!(
            numbered("SELECT ?1, '?' FROM t WHERE a = ?12"),
            "SELECT $1, '?' FROM t WHERE a = $12"
        );
    }

    #[test]
    fn a_position_is_taken_from_the_sibling_at_the_index_or_after_the_last() {
        assert_eq!(position_at(&[3, 5, 9], Some(1)), Ok(5));
        assert_eq!(position_at(&[3, 5, 9], Some(0)), Ok(3));
        assert_eq!(position_at(&[3, 5, 9], Some(3)), Err(10));
        assert_eq!(position_at(&[3, 5, 9], None), Err(10));
        assert_eq!(position_at(&[], Some(0)), Err(1));
    }
}
