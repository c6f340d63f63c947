//! The one-click unsubscribe link of reminder, digest and invitation emails (RFC 8058):
//! `GET /unsubscribe?token=…` shows a page with a button and changes nothing (link scanners
//! follow links); `POST /unsubscribe?token=…` turns off what the signed token names. The POST
//! needs no session and no CSRF token: mail programs send it from anywhere, and the token is
//! the authority (it names one user's one channel, and is signed by the server).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use todo_core::notify::Unsubscribe;

use super::{PageResult, assets, render_with};
use crate::AppState;
use crate::extract::Query;

#[derive(Deserialize, Default)]
pub struct UnsubscribeQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    asset_v: &'static str,
    token: String,
    what: String,
    /// "reminder emails are off" rather than "is off".
    plural: bool,
    done: bool,
    invalid: bool,
}

fn page(token: String, outcome: todo_core::Result<Unsubscribe>, done: bool) -> PageResult {
    let (status, what, plural, invalid) = match outcome {
        Ok(what) => (
            StatusCode::OK,
            what.describe(),
            !matches!(what, Unsubscribe::Digest(_)),
            false,
        ),
        Err(todo_core::Error::Validation(_)) => {
            (StatusCode::BAD_REQUEST, String::new(), false, true)
        }
        Err(err) => return Err(err.into()),
    };
    render_with(
        status,
        &UnsubscribePage {
            asset_v: assets::version(),
            token,
            what,
            plural,
            done: done && !invalid,
            invalid,
        },
    )
}

/// What the link would turn off, and a button to do it.
pub async fn page_get(
    State(state): State<AppState>,
    Query(query): Query<UnsubscribeQuery>,
) -> PageResult {
    let outcome = state.todo.check_unsubscribe(&query.token).await;
    page(query.token, outcome, false)
}

/// Turns it off (the mail program's one-click POST, or the page's button).
pub async fn confirm(
    State(state): State<AppState>,
    Query(query): Query<UnsubscribeQuery>,
) -> PageResult {
    let outcome = state.todo.unsubscribe(&query.token).await;
    page(query.token, outcome, true)
}
