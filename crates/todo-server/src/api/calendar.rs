//! `GET /calendar.ics`: the caller's open tasks as an iCalendar feed. Calendar apps subscribe
//! to a URL and cannot send headers, so the feed also takes an API key as `?token=`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;
use todo_core::accounts::Principal;
use todo_core::project::ProjectId;

use crate::AppState;
use crate::auth::{Auth, authorize};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Query;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// An API key (`todo_…`), for calendar apps that cannot send an `Authorization` header.
    /// Use a key with only the `read` scope: the URL is the secret.
    pub token: Option<String>,
    /// A project id: the feed of that project only (its tasks also when it is archived).
    #[param(value_type = Option<i64>)]
    pub project: Option<String>,
}

/// The feed's caller: the API key in `?token=`, else the usual `Authorization` header. Only
/// API keys are taken from the URL; a login token in a URL would outlive the session in logs
/// and calendar settings.
pub struct FeedCaller(Principal);

impl FromRequestParts<AppState> for FeedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Query(FeedQuery { token, .. }) = Query::from_request_parts(parts, state).await?;
        match token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => {
                let principal = state.todo.api_key_principal(token).await?;
                authorize(parts, state, principal).await.map(FeedCaller)
            }
            None => Auth::from_request_parts(parts, state)
                .await
                .map(|Auth(principal)| FeedCaller(principal)),
        }
    }
}

/// The caller's open tasks (the soonest due first, at most 5 000) as iCalendar VTODOs, with
/// dues (in their pinned zone with a VTIMEZONE, floating, or all-day), priorities, tags as
/// categories, recurrence rules, reminders as VALARMs and parents as RELATED-TO; of every
/// project that is not archived, or of `?project=<id>`.
#[utoipa::path(
    get,
    path = "/calendar.ics",
    operation_id = "getCalendarFeed",
    tag = "tasks",
    params(FeedQuery),
    security(("bearer" = []), ()),
    responses(
        (status = 200, description = "The VTODO calendar (RFC 5545)", body = String, content_type = "text/calendar"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn feed(
    State(state): State<AppState>,
    FeedCaller(principal): FeedCaller,
    Query(query): Query<FeedQuery>,
) -> ApiResult<(HeaderMap, String)> {
    let project = match query.project.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(raw.parse::<ProjectId>().map_err(|_| {
            ApiError::from(todo_core::Error::invalid(
                "project",
                format!("{raw:?} is not a project id"),
            ))
        })?),
    };
    let body = state
        .todo
        .calendar_feed(&principal.user_id, project)
        .await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    // The feed is personal: no shared cache may keep it.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok((headers, body))
}
