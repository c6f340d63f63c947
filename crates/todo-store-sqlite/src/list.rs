//! Task listings: the page and its total, read in one snapshot. The filter, the order and the
//! cursor are `todo_store_sql::list`'s.

use rusqlite::Connection;
use todo_core::Result;
use todo_core::ids::UserId;
use todo_core::page::TaskQuery;
use todo_core::store::TaskSlice;
use todo_store_sql::list::{count, is_selective, matches, push_page_by_id};
use todo_store_sql::{Sql, TaskRow};

use todo_store_sql::TASK_COLUMN_COUNT;

use crate::rows::{TASK_COLUMNS, db_error, decode};
use crate::sql::{DIALECT, Run};

/// Up to `limit` tasks of the query and the total of its filter, from one read transaction
/// (so the total counts the snapshot the page came from).
pub fn page(
    conn: &mut Connection,
    user_id: &UserId,
    query: &TaskQuery,
    limit: u32,
) -> Result<TaskSlice> {
    let tx = conn.transaction().map_err(db_error)?;
    let slice = if is_selective(&query.filter) {
        let rows = matches(&DIALECT, user_id, query, limit)
            .all(&tx, |row| {
                Ok((
                    decode::<TaskRow>(row)?,
                    row.get::<_, i64>(TASK_COLUMN_COUNT)?,
                ))
            })
            .map_err(db_error)?;
        let total = match rows.first() {
            Some((_, total)) => u64::try_from(*total).unwrap_or_default(),
            // Past the last page the rows cannot carry the total.
            None if query.after.is_some() => total(&tx, user_id, query)?,
            None => 0,
        };
        TaskSlice {
            tasks: rows.into_iter().map(|(row, _)| row.into()).collect(),
            total,
        }
    } else {
        let mut sql = Sql::new(&DIALECT, "SELECT ");
        sql.push_task_columns(TASK_COLUMNS, user_id)
            .push(" FROM tasks");
        push_page_by_id(&mut sql, &DIALECT, user_id, query, limit);
        let rows = sql.all(&tx, decode::<TaskRow>).map_err(db_error)?;
        TaskSlice {
            tasks: rows.into_iter().map(Into::into).collect(),
            total: total(&tx, user_id, query)?,
        }
    };
    tx.commit().map_err(db_error)?;
    Ok(slice)
}

/// How many of the user's tasks match the filter.
fn total(conn: &Connection, user_id: &UserId, query: &TaskQuery) -> Result<u64> {
    let count: i64 = count(&DIALECT, user_id, &query.filter)
        .one(conn, |row| row.get(0))
        .map_err(db_error)?
        .unwrap_or(0);
    Ok(u64::try_from(count).unwrap_or_default())
}
