//! Tags: list, create, rename or recolor, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use todo_core::tag::{Tag, TagId, TagInput, TagPatchInput};

use crate::AppState;
use crate::api::location;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path};

#[derive(Deserialize)]
pub struct TagPath {
    id: TagId,
}

/// The caller's tags by name, with how many tasks carry each.
#[utoipa::path(
    get,
    path = "/tags",
    operation_id = "listTags",
    tag = "tags",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's tags, with how many tasks carry each", body = [Tag]), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<Tag>>> {
    Ok(axum::Json(state.todo.list_tags(&principal.user_id).await?))
}

/// Create a tag (tasks also create tags on the fly).
#[utoipa::path(
    post,
    path = "/tags",
    operation_id = "createTag",
    tag = "tags",
    security(("bearer" = [])),
    request_body = TagInput,
    responses(
        (status = 201, description = "The new tag", body = Tag),
        (status = 409, description = "A tag of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<TagInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Tag>)> {
    let tag = state.todo.create_tag(&principal.user_id, input).await?;
    Ok((
        StatusCode::CREATED,
        location(uri.path(), tag.id),
        axum::Json(tag),
    ))
}

/// Rename or recolor a tag; every task carrying it follows.
#[utoipa::path(
    patch,
    path = "/tags/{id}",
    operation_id = "updateTag",
    tag = "tags",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Tag id")),
    request_body = TagPatchInput,
    responses(
        (status = 200, description = "The tag as changed", body = Tag),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TagPath>,
    Json(input): Json<TagPatchInput>,
) -> ApiResult<axum::Json<Tag>> {
    Ok(axum::Json(
        state
            .todo
            .update_tag(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Delete a tag and take it off every task.
#[utoipa::path(
    delete,
    path = "/tags/{id}",
    operation_id = "deleteTag",
    tag = "tags",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Tag id")),
    responses((status = 204, description = "Deleted, and taken off every task"), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TagPath>,
) -> ApiResult<StatusCode> {
    state.todo.delete_tag(&principal.user_id, path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
