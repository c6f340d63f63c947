//! Personal access tokens.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use todo_core::accounts::{ApiKeyInput, CreatedApiKey};
use todo_core::api_key::ApiKey;
use todo_core::ids::ApiKeyId;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path};

/// The caller's keys that are not revoked (never their secrets).
#[utoipa::path(
    get,
    path = "/api-keys",
    operation_id = "listApiKeys",
    tag = "api-keys",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's API keys (never their secrets)", body = [ApiKey]), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<ApiKey>>> {
    Ok(axum::Json(
        state.todo.list_api_keys(&principal.user_id).await?,
    ))
}

/// Create a key. Its `secret` is in this response and nowhere else, ever.
#[utoipa::path(
    post,
    path = "/api-keys",
    operation_id = "createApiKey",
    tag = "api-keys",
    security(("bearer" = [])),
    request_body = ApiKeyInput,
    responses((status = 201, description = "The new key, with its secret (shown once)", body = CreatedApiKey), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<ApiKeyInput>,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKey>)> {
    let created = state.todo.create_api_key(&principal, input).await?;
    Ok((StatusCode::CREATED, axum::Json(created)))
}

#[derive(Deserialize)]
pub struct KeyPath {
    id: ApiKeyId,
}

/// Revoke a key; it stops working at once on this replica, within `AUTH_CACHE_TTL_MS` (1 s) on others.
#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    operation_id = "revokeApiKey",
    tag = "api-keys",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn revoke(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<KeyPath>,
) -> ApiResult<StatusCode> {
    state.todo.revoke_api_key(&principal, &path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
