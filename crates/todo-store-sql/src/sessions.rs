//! The statements both backends run for account basics: sessions, the password, with SQLite's
//! `?N` placeholders (PostgreSQL runs them through [`crate::tree::numbered`]).

use todo_core::accounts::Session;
use todo_core::ids::UserId;

use crate::rows::{Columns, FromColumns};

pub struct SessionRow(pub Session);

impl FromColumns for SessionRow {
    fn from_columns<C: Columns>(row: &C) -> Result<Self, C::Error> {
        Ok(SessionRow(Session {
            id: row.text(0)?,
            user_id: UserId::new(row.text(1)?),
            created_at: row.time(2)?,
            expires_at: row.time(3)?,
        }))
    }
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        row.0
    }
}

/// A user's (`?1`) sessions that have not expired at `?2`, newest first.
pub const LIST: &str = "SELECT id, user_id, created_at, expires_at FROM sessions \
     WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC, id";

/// Ends one session (`?2`) of a user (`?1`).
pub const END: &str = "DELETE FROM sessions WHERE user_id = ?1 AND id = ?2";

/// Ends every session of a user (`?1`) but `?2` (none when `?2` is null); returns their ids.
pub const END_OTHERS: &str = "DELETE FROM sessions \
     WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2) RETURNING id";

/// A user's (`?1`) password hash (null for an account without a password).
pub const PASSWORD_HASH: &str = "SELECT password_hash FROM users WHERE id = ?1";

/// Sets a user's (`?1`) password hash (`?2`) at `?3`.
pub const SET_PASSWORD: &str = "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1";
