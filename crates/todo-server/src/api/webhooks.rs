//! Webhooks: URLs that receive the caller's events, signed (see docs/events.md).

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use todo_core::webhooks::{CreatedWebhook, Webhook, WebhookId, WebhookInput};

use crate::AppState;
use crate::api::location;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path};

/// The caller's webhooks (never their secrets).
#[utoipa::path(
    get,
    path = "/webhooks",
    operation_id = "listWebhooks",
    tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's webhooks", body = [Webhook]), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<Webhook>>> {
    Ok(axum::Json(
        state.todo.list_webhooks(&principal.user_id).await?,
    ))
}

/// Register a webhook. Its signing `secret` is in this response and nowhere else.
///
/// Loopback, private and link-local targets are refused unless the server runs with
/// `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`.
#[utoipa::path(
    post,
    path = "/webhooks",
    operation_id = "createWebhook",
    tag = "webhooks",
    security(("bearer" = [])),
    request_body = WebhookInput,
    responses(
        (status = 201, description = "The new webhook, with its signing secret (shown once)", body = CreatedWebhook),
        (status = 403, description = "Only the owner of project `project_id` scopes a webhook to it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<WebhookInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<CreatedWebhook>)> {
    let created = state.todo.create_webhook(&principal.user_id, input).await?;
    let headers = location(uri.path(), created.webhook.id);
    Ok((StatusCode::CREATED, headers, axum::Json(created)))
}

#[derive(Deserialize)]
pub struct WebhookPath {
    id: WebhookId,
}

/// Delete a webhook; deliveries not yet made are dropped.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    operation_id = "deleteWebhook",
    tag = "webhooks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The webhook's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<WebhookPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_webhook(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
