//! A write's transaction. Each user's events must commit in the order of their ids (a reader
//! that has seen id n must never later find a smaller one, or SSE resumption would skip it).
//! An event reaches every member of its project, so a write first takes the
//! transaction-scoped advisory lock of every user who shares a project with the writer (the
//! writer included), held until commit: the writes that can reach a user run one after
//! another, across replicas, while writes of users who share nothing run in parallel. A user
//! who shares no project locks only themselves, as before sharing.
//!
//! The locks are taken in one statement, in the order of their keys, before any row lock, so
//! writes cannot deadlock on them. Membership can change between the statement's snapshot and
//! its last lock (a change that held one of the locks commits meanwhile), so the set is read
//! again under the locks and, if it grew, the transaction starts over; changes of membership
//! take the same locks, so once the set is held it stays. Keys are
//! PostgreSQL's `hashtext` of a user id, a bound parameter (no user text is ever written into
//! SQL); two users whose ids hash alike only wait for each other now and then.

use sqlx::{PgPool, Postgres, Transaction};
use todo_core::ids::{ProjectId, UserId};
use todo_core::{Error, Result};

use crate::rows::db_error;

/// Everyone who shares a project with `$1` (and `$1`), plus the members of project `$2` when
/// given (someone joining it).
const CIRCLE: &str = "SELECT m.user_id FROM project_members m \
     WHERE m.project_id IN (SELECT project_id FROM project_members WHERE user_id = $1) \
        OR m.project_id = $2 \
     UNION SELECT $1::text";

/// Attempts before a write whose circle keeps changing gives up (503, worth retrying).
const ATTEMPTS: usize = 5;

/// Begins a write of `user_id`'s, holding the locks of everyone it can reach until it commits
/// or rolls back (dropped without committing, it rolls back).
pub(crate) async fn begin(
    pool: &PgPool,
    user_id: &UserId,
) -> Result<Transaction<'static, Postgres>> {
    begin_reaching(pool, user_id, None).await
}

/// [`begin`] for a write that makes `user_id` a member of `joining`: its members are locked
/// too.
pub(crate) async fn begin_reaching(
    pool: &PgPool,
    user_id: &UserId,
    joining: Option<ProjectId>,
) -> Result<Transaction<'static, Postgres>> {
    let lock = format!(
        "SELECT user_id FROM (SELECT user_id, pg_advisory_xact_lock(hashtext(user_id)) \
         FROM ({CIRCLE}) c ORDER BY hashtext(user_id)) l"
    );
    let read = format!("SELECT user_id FROM ({CIRCLE}) c");
    for _ in 0..ATTEMPTS {
        let mut tx = pool.begin().await.map_err(db_error)?;
        let mut locked: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(lock.as_str()))
            .bind(user_id)
            .bind(joining)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let mut now: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(read.as_str()))
            .bind(user_id)
            .bind(joining)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        locked.sort_unstable();
        now.sort_unstable();
        if now.iter().all(|u| locked.binary_search(u).is_ok()) {
            return Ok(tx);
        }
    }
    Err(Error::Unavailable(
        "the project's members kept changing during a write".into(),
    ))
}
