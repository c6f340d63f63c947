//! Projects and their sections: list, create, change, archive, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use todo_core::project::{
    Project, ProjectId, ProjectInput, ProjectPatchInput, Section, SectionId, SectionInput,
    SectionPatchInput,
};

use crate::AppState;
use crate::api::location;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path};

#[derive(Deserialize)]
pub struct ProjectPath {
    id: ProjectId,
}

#[derive(Deserialize)]
pub struct SectionPath {
    id: SectionId,
}

/// The caller's projects: the Inbox first, then in their sidebar order, with their open
/// tasks counted.
#[utoipa::path(
    get,
    path = "/projects",
    operation_id = "listProjects",
    tag = "projects",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's projects", body = [Project]),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<Project>>> {
    Ok(axum::Json(
        state.todo.list_projects(&principal.user_id).await?,
    ))
}

/// Create a project (last in the sidebar).
#[utoipa::path(
    post,
    path = "/projects",
    operation_id = "createProject",
    tag = "projects",
    security(("bearer" = [])),
    request_body = ProjectInput,
    responses(
        (status = 201, description = "The new project", body = Project, headers(("Location" = String, description = "The new project's URL"))),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<ProjectInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Project>)> {
    let project = state.todo.create_project(&principal.user_id, input).await?;
    Ok((
        StatusCode::CREATED,
        location(uri.path(), project.id),
        axum::Json(project),
    ))
}

/// One project.
#[utoipa::path(
    get,
    path = "/projects/{id}",
    operation_id = "getProject",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The project", body = Project),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ProjectPath>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(
        state.todo.get_project(&principal.user_id, path.id).await?,
    ))
}

/// Rename, recolour, archive (`{"archived": true}`) or reorder a project. The Inbox is never
/// renamed or archived; only the owner changes anything but the order of their own sidebar.
#[utoipa::path(
    patch,
    path = "/projects/{id}",
    operation_id = "updateProject",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = ProjectPatchInput,
    responses(
        (status = 200, description = "The project as changed", body = Project),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ProjectPath>,
    Json(input): Json<ProjectPatchInput>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(
        state
            .todo
            .update_project(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Delete a project with its sections and tasks. Never the Inbox.
#[utoipa::path(
    delete,
    path = "/projects/{id}",
    operation_id = "deleteProject",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Only the owner deletes a project (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Inbox cannot be deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ProjectPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_project(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A project's sections, in order.
#[utoipa::path(
    get,
    path = "/projects/{id}/sections",
    operation_id = "listSections",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    responses(
        (status = 200, description = "The sections", body = [Section]),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sections(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
    Path(path): Path<ProjectPath>,
) -> ApiResult<axum::Json<Vec<Section>>> {
    Ok(axum::Json(
        state
            .todo
            .list_sections(&principal.user_id, path.id)
            .await?,
    ))
}

/// Add a section to a project (at `position`, default last).
#[utoipa::path(
    post,
    path = "/projects/{id}/sections",
    operation_id = "createSection",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Project id")),
    request_body = SectionInput,
    responses(
        (status = 201, description = "The new section", body = Section, headers(("Location" = String, description = "The new section's URL"))),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_section(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<ProjectPath>,
    Json(input): Json<SectionInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Section>)> {
    let section = state
        .todo
        .create_section(&principal.user_id, path.id, input)
        .await?;
    // `/…/projects/{id}/sections` → `/…/sections/{section}`.
    let prefix = uri
        .path()
        .split("/projects/")
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok((
        StatusCode::CREATED,
        location(&format!("{prefix}/sections"), section.id),
        axum::Json(section),
    ))
}

/// Rename or reorder a section.
#[utoipa::path(
    patch,
    path = "/sections/{id}",
    operation_id = "updateSection",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Section id")),
    request_body = SectionPatchInput,
    responses(
        (status = 200, description = "The section as changed", body = Section),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_section(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<SectionPath>,
    Json(input): Json<SectionPatchInput>,
) -> ApiResult<axum::Json<Section>> {
    Ok(axum::Json(
        state
            .todo
            .update_section(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Delete a section and its tasks (as Todoist does).
#[utoipa::path(
    delete,
    path = "/sections/{id}",
    operation_id = "deleteSection",
    tag = "projects",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Section id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such section of the caller's", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_section(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<SectionPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_section(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
