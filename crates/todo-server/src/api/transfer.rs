//! Export everything; import todo's JSON or Todoist's CSV.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use todo_core::transfer::{
    DEFAULT_TODOIST_PROJECT, Export, ImportDocument, ImportReport, no_progress,
    project_name_from_file,
};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Query, RawBody, parse_json_object};

/// Largest import body: 50 000 tasks fit comfortably.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// All of the caller's data: profile, tags and tasks.
#[utoipa::path(
    get,
    path = "/export",
    operation_id = "exportData",
    tag = "transfer",
    security(("bearer" = [])),
    responses((status = 200, description = "Everything of the caller's, as an attachment", body = Export), (status = 401, body = Problem, content_type = "application/problem+json"))
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

/// The query of `POST /import`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// For Todoist's CSV (one project per file): the project to import into, one of that name
    /// the caller owns or a new one. Default: the file's name from `Content-Disposition`
    /// (`Home.csv` → `Home`), else `Todoist`.
    pub project: Option<String>,
}

/// Import todo's JSON (an export) or one Todoist project's CSV (`Content-Type: text/csv`)
/// into a project with its sections and subtasks. Nothing is stored when any row is invalid;
/// importing the same file again adds nothing.
#[utoipa::path(
    post,
    path = "/import",
    operation_id = "importData",
    tag = "transfer",
    security(("bearer" = [])),
    params(ImportParams),
    request_body(content(
        (ImportDocument = "application/json"),
        (String = "text/csv"),
    )),
    responses(
        (status = 200, description = "How many tasks were created and how many were already there", body = ImportReport),
        (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Query(params): Query<ImportParams>,
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
            let project = params
                .project
                .or_else(|| uploaded_file_name(&headers).and_then(|f| project_name_from_file(&f)))
                .unwrap_or_else(|| DEFAULT_TODOIST_PROJECT.to_owned());
            state
                .todo
                .import_todoist_csv(&principal.user_id, &body, &project, &no_progress)
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

/// The `filename` of a `Content-Disposition` header (`attachment; filename="Home.csv"`), as an
/// upload names its file.
fn uploaded_file_name(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    value.split(';').find_map(|part| {
        let (key, name) = part.trim().split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("filename")
            .then(|| name.trim().trim_matches('"').to_owned())
    })
}
