//! The storage contract: the same stories, run against every backend. A backend is correct
//! when it passes every one of them.

mod accounts;
mod chat;
mod dav;
mod events;
mod imports;
mod listing;
mod mail;
mod migrations;
mod oauth;
mod projects;
mod push;
mod sharing;
mod tags;
mod tasks;

use chrono::{DateTime, Utc};
use todo_core::Store;
use todo_core::accounts::NewUser;
use todo_core::ids::UserId;
use todo_core::planning::WriteContext;
use todo_core::time::now;

/// Stores a user with a unique email and returns its id.
pub async fn user(store: &dyn Store) -> UserId {
    let id = UserId::generate();
    let new = new_user(&id, Some(&format!("{id}@example.com")), now());
    store.insert_user(&new).await.expect("insert user");
    id
}

pub fn new_user(id: &UserId, email: Option<&str>, at: DateTime<Utc>) -> NewUser {
    NewUser {
        id: id.to_owned(),
        email: email.map(str::to_owned),
        name: None,
        password_hash: Some("$argon2id$stub".into()),
        timezone: "UTC".into(),
        created_at: at,
    }
}

/// A write at `now` by a user in UTC.
pub fn context(now: DateTime<Utc>) -> WriteContext {
    WriteContext {
        now,
        tz: chrono_tz::Tz::UTC,
    }
}
