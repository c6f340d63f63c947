//! Connected apps: the apps the caller let in with OAuth (docs/security.md, "OAuth"), and
//! disconnecting one, which ends every token it holds at once.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use todo_core::oauth::ConnectedApp;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{NoQuery, Path};

/// The apps connected to the caller's account, newest first.
#[utoipa::path(
    get,
    path = "/connected-apps",
    operation_id = "listConnectedApps",
    tag = "connected-apps",
    security(("bearer" = [])),
    responses((status = 200, description = "The apps connected to the caller's account", body = [ConnectedApp]), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<ConnectedApp>>> {
    Ok(axum::Json(
        state.todo.connected_apps(&principal.user_id).await?,
    ))
}

#[derive(Deserialize)]
pub struct AppPath {
    id: String,
}

/// Disconnect an app: its access and refresh tokens stop working at once. An app connected
/// with OAuth may not disconnect apps (403).
#[utoipa::path(
    delete,
    path = "/connected-apps/{id}",
    operation_id = "disconnectApp",
    tag = "connected-apps",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The connected app's id (its grant)")),
    responses(
        (status = 204, description = "Disconnected: its tokens no longer work"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<AppPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .revoke_connected_app(&principal, &path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
