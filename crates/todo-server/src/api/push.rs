//! Web Push: the server's VAPID public key and the caller's browser subscriptions (see
//! docs/push.md). Reminders are pushed to each subscription by the job worker.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use todo_core::ids::PushSubscriptionId;
use todo_core::push::{Subscription, SubscriptionInput};

use crate::AppState;
use crate::api::location;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path};

#[derive(Serialize, utoipa::ToSchema)]
pub struct VapidPublicKey {
    /// The server's VAPID public key (an uncompressed P-256 point, base64url): a browser's
    /// `pushManager.subscribe({applicationServerKey})`.
    pub public_key: String,
}

/// The key browsers subscribe with. Asked with a credential like every account route (the key
/// is public; this keeps it under the caller's rate limit).
#[utoipa::path(
    get,
    path = "/push/vapid-public-key",
    operation_id = "getVapidPublicKey",
    tag = "push",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server's VAPID public key", body = VapidPublicKey),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json", description = "This server does not send Web Push"),
    )
)]
pub async fn public_key(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<VapidPublicKey>> {
    let key = state.todo.push_public_key().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "push-not-configured",
            "this server does not send Web Push",
        )
    })?;
    Ok(axum::Json(VapidPublicKey {
        public_key: key.to_owned(),
    }))
}

/// The caller's push subscriptions, oldest first (their keys are not shown).
#[utoipa::path(
    get,
    path = "/push/subscriptions",
    operation_id = "listPushSubscriptions",
    tag = "push",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's subscriptions", body = [Subscription]),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<Subscription>>> {
    Ok(axum::Json(
        state
            .todo
            .list_push_subscriptions(&principal.user_id)
            .await?,
    ))
}

/// Subscribe a browser: the body is its `PushSubscription.toJSON()`. An endpoint is one
/// browser profile: subscribing it again replaces its keys (200), and subscribing it from
/// another account moves it to the caller (201).
///
/// Loopback, private and link-local endpoints, and plain `http`, are refused unless the
/// server runs with `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`.
#[utoipa::path(
    post,
    path = "/push/subscriptions",
    operation_id = "createPushSubscription",
    tag = "push",
    security(("bearer" = [])),
    request_body = SubscriptionInput,
    responses(
        (status = 200, description = "The endpoint was already the caller's: its keys were replaced", body = Subscription),
        (status = 201, description = "The new subscription (or another account's, moved to the caller)", body = Subscription),
        (status = 409, description = "The caller has 20 subscriptions already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`errors` names each field: an endpoint that is not an absolute `https` URL whose host resolves to public addresses (DNS decides), a `p256dh` that is not a point on the P-256 curve, an `auth` that is not 16 bytes", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<SubscriptionInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Subscription>)> {
    let subscribed = state.todo.subscribe_push(&principal.user_id, input).await?;
    let headers = location(uri.path(), subscribed.subscription.id);
    let status = if subscribed.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, headers, axum::Json(subscribed.subscription)))
}

#[derive(Deserialize)]
pub struct SubscriptionPath {
    id: PushSubscriptionId,
}

/// Unsubscribe a browser; reminders not yet pushed to it are dropped.
#[utoipa::path(
    delete,
    path = "/push/subscriptions/{id}",
    operation_id = "deletePushSubscription",
    tag = "push",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The subscription's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<SubscriptionPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_push_subscription(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
