//! What the SQL backends share, without a driver: the SQL both build at run time (listings,
//! partial updates) as text and values in either dialect ([`Sql`]; each backend binds the
//! values with its driver), rows as either database returns them with their mapping to
//! domain types (each backend decodes rows into these by column position), and the messages
//! of unique violations.

mod oauth;
mod rows;
mod sql;

pub mod dav;
pub mod import;
pub mod list;
pub mod projects;
pub mod sessions;
pub mod sharing;
pub mod tree;
pub mod updates;

pub use oauth::*;
pub use rows::*;
pub use sql::{Dialect, Search, Sql, VIEWER, Value, task_columns};

/// What a unique violation on `users` means: the email is taken.
pub const USER_CONFLICT: &str = "an account with this email already exists";
/// What a unique violation on `identities` means: another request linked it first.
pub const IDENTITY_CONFLICT: &str = "this identity is linked already";
/// What a unique violation on inserting a task means: its import key is taken.
pub const IMPORT_CONFLICT: &str = "this task was imported already";
/// What a unique violation on `tags` means: the user has a tag of that name.
pub const TAG_CONFLICT: &str = "a tag with this name already exists";

/// `a, b` → `u.a, u.b`: a column list for a table under an alias.
pub fn prefixed(alias: &str, columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}
