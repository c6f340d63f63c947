//! A write's transaction. A user's events must commit in the order of their ids (a reader that
//! has seen id n must never later find a smaller one, or SSE resumption would skip it), so
//! every write that records events first takes the user's transaction-scoped advisory lock,
//! held until commit: a user's writes run one after another, across replicas, while different
//! users' writes run in parallel. The lock is the first statement, before any row lock, so
//! writes cannot deadlock on it. Its key is PostgreSQL's `hashtext` of the user id, a bound
//! parameter (no user text is ever written into SQL) — the same key earlier versions took, so
//! old and new replicas exclude each other during a rolling deploy. Two users whose ids hash
//! alike only wait for each other now and then.

use sqlx::{PgPool, Postgres, Transaction};
use todo_core::Result;
use todo_core::ids::UserId;

use crate::rows::db_error;

/// Begins a write of `user_id`'s, holding the user's lock until it commits or rolls back
/// (dropped without committing, it rolls back).
pub(crate) async fn begin(
    pool: &PgPool,
    user_id: &UserId,
) -> Result<Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await.map_err(db_error)?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
    Ok(tx)
}
