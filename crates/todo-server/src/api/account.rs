//! The signed-in user's account: password, sessions, deletion. A thin adapter over
//! `todo_core::accounts`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use todo_core::accounts::{AccountDeletionInput, PasswordChangeInput, SessionInfo};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path};

#[derive(Deserialize)]
pub struct SessionPath {
    id: String,
}

/// Change the password (the current one confirms it). Every other session ends: devices
/// signed in with the old password are signed out.
#[utoipa::path(
    post,
    path = "/me/password",
    operation_id = "changePassword",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = PasswordChangeInput,
    responses(
        (status = 204, description = "Changed; the other sessions ended"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app connected with OAuth cannot manage the account (forbidden)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or the password is not the account's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<PasswordChangeInput>,
) -> ApiResult<StatusCode> {
    state.todo.change_password(&principal, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete the account and its data (the password confirms it). Shared projects it owns go to
/// their longest-standing editor, else are deleted with it.
#[utoipa::path(
    delete,
    path = "/me",
    operation_id = "deleteAccount",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = AccountDeletionInput,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app connected with OAuth cannot manage the account (forbidden)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or the password is not the account's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_me(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<AccountDeletionInput>,
) -> ApiResult<StatusCode> {
    state.todo.delete_account(&principal, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account's sessions (logins), newest first; `current` marks this request's.
#[utoipa::path(
    get,
    path = "/sessions",
    operation_id = "listSessions",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sessions", body = [SessionInfo]),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app connected with OAuth cannot manage the account (forbidden)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sessions(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<axum::Json<Vec<SessionInfo>>> {
    Ok(axum::Json(state.todo.sessions(&principal).await?))
}

/// End a session: that browser or device is signed out.
#[utoipa::path(
    delete,
    path = "/sessions/{id}",
    operation_id = "endSession",
    tag = "accounts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "An app connected with OAuth cannot manage the account (forbidden)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn end_session(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<SessionPath>,
) -> ApiResult<StatusCode> {
    state.todo.end_session(&principal, &path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
