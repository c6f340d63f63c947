//! Export everything; import todo's JSON or Todoist's CSV.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use todo_core::transfer::{Export, ImportDocument, ImportReport, no_progress};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{RawBody, parse_json_object};

/// Largest import body: 50 000 tasks fit comfortably.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// All of the caller's data: profile, tags and tasks.
#[utoipa::path(
    get,
    path = "/export",
    tag = "transfer",
    security(("bearer" = [])),
    responses((status = 200, body = Export), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn export(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<(HeaderMap, axum::Json<Export>)> {
    let export = state.todo.export(&principal.user_id, &no_progress).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("attachment; filename=\"todo-export.json\""),
    );
    Ok((headers, axum::Json(export)))
}

/// Import todo's JSON (an export) or Todoist's CSV (`Content-Type: text/csv`). Nothing is
/// stored when any row is invalid; importing the same file again adds nothing.
#[utoipa::path(
    post,
    path = "/import",
    tag = "transfer",
    security(("bearer" = [])),
    request_body(content(
        (ImportDocument = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, body = ImportReport),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    Auth(principal): Auth,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> ApiResult<axum::Json<ImportReport>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let report = match content_type.as_str() {
        "application/json" => {
            let document: ImportDocument = parse_json_object(&body)?;
            state
                .todo
                .import_json(&principal.user_id, document, &no_progress)
                .await?
        }
        "text/csv" => {
            state
                .todo
                .import_todoist_csv(&principal.user_id, &body, &no_progress)
                .await?
        }
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send todo's JSON (application/json) or Todoist's CSV (text/csv)",
            ));
        }
    };
    Ok(axum::Json(report))
}
