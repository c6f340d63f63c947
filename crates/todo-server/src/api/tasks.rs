//! The task list: create, read, list, replace, patch, complete, delete.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use todo_core::page::ListTasksRequest;
use todo_core::placement::MoveInput;
use todo_core::task::{Task, TaskId, TaskInput, TaskPatchInput};
use todo_core::tasks::{BulkInput, BulkResult, QuickInput, QuickPreview};

use crate::AppState;
use crate::api::{link_next, location};
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, OptionalJson, Path, Query};

#[derive(Deserialize)]
pub struct TaskPath {
    id: TaskId,
}

/// The body of `PATCH /tasks/{id}/complete`.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct CompleteInput {
    pub completed: bool,
}

/// The caller's tasks, one page at a time.
#[utoipa::path(
    get,
    path = "/tasks",
    operation_id = "listTasks",
    tag = "tasks",
    security(("bearer" = [])),
    params(ListTasksRequest),
    responses(
        (status = 200, description = "One page of tasks", body = [Task], headers(
            ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows"),
            ("X-Total-Count" = u64, description = "Tasks matching the filter across all pages"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Query(request): Query<ListTasksRequest>,
) -> ApiResult<(HeaderMap, axum::Json<Vec<Task>>)> {
    let page = state.todo.list_tasks(&principal.user_id, &request).await?;
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(page.total));
    if let Some(next) = &page.next {
        link_next(&mut headers, &uri, "cursor", &next.encode());
    }
    Ok((headers, axum::Json(page.items)))
}

/// Add a task.
#[utoipa::path(
    post,
    path = "/tasks",
    operation_id = "createTask",
    tag = "tasks",
    security(("bearer" = [])),
    request_body(content = TaskInput, example = json!({"title": "Pay rent", "priority": "high", "due_date": "2026-12-01", "tags": ["home", "bills"], "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1"})),
    responses(
        (status = 201, description = "The new task", body = Task, headers(("Location" = String, description = "The new task's URL")), example = json!({"id": 7, "user_id": "0190b2c4-6f1e-7c3a-9d2e-4b5a6c7d8e9f", "project_id": 1, "section_id": null, "parent_id": null, "title": "Pay rent", "description": null, "completed": false, "completed_at": null, "priority": "high", "due_at": "2026-12-01T23:59:59.999999Z", "due_local": null, "due_timezone": null, "due_date": "2026-12-01", "recurrence": "FREQ=MONTHLY;BYMONTHDAY=1", "recurrence_mode": "due", "position": 0, "assignee_id": null, "tags": ["bills", "home"], "reminders": [], "created_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T09:00:00Z"})),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<TaskInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Task>)> {
    let task = state.todo.create_task(&principal.user_id, input).await?;
    Ok((
        StatusCode::CREATED,
        location(uri.path(), task.id),
        axum::Json(task),
    ))
}

/// Add a task from one line of text: "Pay rent on the 1st every month !high #home". Dates are
/// read in the user's time zone; `#tag`, `!high` (or `!1`–`!4`, `p1`–`p4`) and rules such as
/// "every weekday" are understood; the other words make the title.
#[utoipa::path(
    post,
    path = "/tasks/quick",
    operation_id = "quickAddTask",
    tag = "tasks",
    security(("bearer" = [])),
    request_body(content = QuickInput, example = json!({"text": "Pay rent on the 1st every month !high #home"})),
    responses(
        (status = 201, description = "The new task", body = Task, headers(("Location" = String, description = "The new task's URL"))),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn quick(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Json(input): Json<QuickInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Task>)> {
    let task = state.todo.quick_add(&principal.user_id, input).await?;
    let collection = uri.path().trim_end_matches("/quick");
    Ok((
        StatusCode::CREATED,
        location(collection, task.id),
        axum::Json(task),
    ))
}

/// What quick add would make of a line, without making it: for a live preview.
#[utoipa::path(
    post,
    path = "/tasks/parse",
    operation_id = "parseQuickAdd",
    tag = "tasks",
    security(("bearer" = [])),
    request_body = QuickInput,
    responses(
        (status = 200, description = "What the line says", body = QuickPreview),
        (status = 422, description = "The text is too long or not storable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn parse(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<QuickInput>,
) -> ApiResult<axum::Json<QuickPreview>> {
    Ok(axum::Json(
        state.todo.parse_quick(&principal.user_id, &input).await?,
    ))
}

/// Move a task (with its subtasks) under another task, to a section, or to another project;
/// `position` is its index among its new siblings (default: last). With only `position`, it
/// is reordered among its siblings.
#[utoipa::path(
    post,
    path = "/tasks/{id}/move",
    operation_id = "moveTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body = MoveInput,
    responses(
        (status = 200, description = "The task where it now is", body = Task),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such task, project, section or parent of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The destination breaks a rule (another project's section, a cycle, too deep)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn move_task(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
    Json(input): Json<MoveInput>,
) -> ApiResult<axum::Json<Task>> {
    Ok(axum::Json(
        state
            .todo
            .move_task(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Complete, reopen, delete, move or reschedule many tasks at once; each id gets its own result.
#[utoipa::path(
    post,
    path = "/tasks/bulk",
    operation_id = "bulkTasks",
    tag = "tasks",
    security(("bearer" = [])),
    request_body(content = BulkInput, example = json!({"action": "complete", "ids": [7, 8]})),
    responses(
        (status = 200, description = "One result per id", body = [BulkResult]),
        (status = 403, description = "The caller's role in a named task's project (or in a move's destination) does not allow it (insufficient-role), nothing done; or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A move's `project_id` is not a project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn bulk(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<BulkInput>,
) -> ApiResult<axum::Json<Vec<BulkResult>>> {
    Ok(axum::Json(
        state.todo.bulk(&principal.user_id, input).await?,
    ))
}

/// One task.
#[utoipa::path(
    get,
    path = "/tasks/{id}",
    operation_id = "getTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = Task), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
pub async fn get(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
) -> ApiResult<axum::Json<Task>> {
    Ok(axum::Json(
        state.todo.get_task(&principal.user_id, path.id).await?,
    ))
}

/// Replace every editable field; absent optional fields are cleared, absent `completed` is kept.
#[utoipa::path(
    put,
    path = "/tasks/{id}",
    operation_id = "replaceTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body = TaskInput,
    responses(
        (status = 200, description = "The task as replaced", body = Task),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replace(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
    Json(input): Json<TaskInput>,
) -> ApiResult<axum::Json<Task>> {
    Ok(axum::Json(
        state
            .todo
            .replace_task(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Change some fields: absent fields are kept, `null` clears.
#[utoipa::path(
    patch,
    path = "/tasks/{id}",
    operation_id = "updateTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body(content = TaskPatchInput, example = json!({"title": "Pay the rent", "priority": null})),
    responses(
        (status = 200, description = "The task as changed", body = Task),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn patch(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
    Json(input): Json<TaskPatchInput>,
) -> ApiResult<axum::Json<Task>> {
    Ok(axum::Json(
        state
            .todo
            .patch_task(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Delete a task.
#[utoipa::path(
    delete,
    path = "/tasks/{id}",
    operation_id = "deleteTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 204, description = "Deleted, with its subtasks"),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
) -> ApiResult<StatusCode> {
    state.todo.delete_task(&principal.user_id, path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Toggle completion; with a body `{"completed": bool}`, set it.
#[utoipa::path(
    patch,
    path = "/tasks/{id}/complete",
    operation_id = "completeTask",
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Task id")),
    request_body(content = Option<CompleteInput>, description = "Optional: omit it (or send `null`) to toggle", example = json!({"completed": true})),
    responses(
        (status = 200, description = "The task, completed or reopened", body = Task),
        (status = 403, description = "The caller's role in the project does not allow it (insufficient-role), or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
    OptionalJson(input): OptionalJson<CompleteInput>,
) -> ApiResult<axum::Json<Task>> {
    let completed = input.map(|i| i.completed);
    Ok(axum::Json(
        state
            .todo
            .complete_task(&principal.user_id, path.id, completed)
            .await?,
    ))
}
