//! Where the caller's reminders go: `GET|PUT /me/notifications`. A thin adapter over
//! `todo_core::notify`.

use axum::extract::State;
use todo_core::notify::{NotificationSettings, NotificationsInput};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::Json;

/// The caller's reminder channels (in-app, email, Web Push), the daily digest's hour, and
/// which channels this server can send (`email_available`, `push_available`).
#[utoipa::path(
    get,
    path = "/me/notifications",
    operation_id = "getNotifications",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's channels", body = NotificationSettings),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app connected with OAuth cannot manage the account (forbidden)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<axum::Json<NotificationSettings>> {
    Ok(axum::Json(state.todo.notifications(&principal).await?))
}

/// Change the channels: fields left out keep their value; `digest_hour: null` turns the
/// digest off. Setting the hour schedules the next digest (within a minute of that local hour
/// starting, or now while it is under way and today's has not gone).
#[utoipa::path(
    put,
    path = "/me/notifications",
    operation_id = "updateNotifications",
    tag = "accounts",
    security(("bearer" = [])),
    request_body(content = NotificationsInput, example = json!({"email": true, "digest_hour": 8})),
    responses(
        (status = 200, description = "The channels as changed", body = NotificationSettings),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only API key, or an app connected with OAuth (forbidden)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (an hour outside 0–23)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<NotificationsInput>,
) -> ApiResult<axum::Json<NotificationSettings>> {
    Ok(axum::Json(
        state.todo.update_notifications(&principal, input).await?,
    ))
}
