//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, `ready` or `unavailable`.
    status: &'static str,
    /// `ok` or `unreachable`.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<&'static str>,
    /// `ok` or `unreachable`; absent without `REDIS_URL`. While rate limits fail open, an
    /// unreachable Redis is reported but does not make the replica unready.
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<&'static str>,
}

/// Liveness: answers whenever the process serves HTTP, whatever its dependencies.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "getHealth",
    tag = "operations",
    responses((status = 200, description = "The process serves HTTP", body = Health))
)]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        database: None,
        redis: None,
    })
}

/// Readiness: the database answers, and Redis too when rate limits depend on it.
#[utoipa::path(
    get,
    path = "/ready",
    operation_id = "getReadiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "The database (or Redis, when rate limits depend on it) is unreachable", body = Health),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let (database, redis) = tokio::join!(state.todo.ping(), state.limits.redis_reachable());
    if let Err(e) = &database {
        tracing::warn!(error = %e, "readiness check: database unreachable");
    }
    let ready = database.is_ok() && (redis != Some(false) || !state.limits.needs_redis());
    let word = |ok: bool| if ok { "ok" } else { "unreachable" };
    (
        if ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(Health {
            status: if ready { "ready" } else { "unavailable" },
            database: Some(word(database.is_ok())),
            redis: redis.map(word),
        }),
    )
}
