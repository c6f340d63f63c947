//! Sharing a project: its members and their roles, invitations, comments on its tasks and its
//! activity. A thin adapter: the rules are `todo_core::sharing`'s.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use todo_core::events::EventId;
use todo_core::ids::{CommentId, InvitationId, ProjectId, TaskId, UserId};
use todo_core::project::Project;
use todo_core::sharing::{
    ActivityEntry, Comment, CommentInput, Invitation, InvitationInput, Member, MemberPatchInput,
};

use crate::AppState;
use crate::api::location;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, NoQuery, Path, Query};

/// The path types of sharing's routes, shared with the web pages.
#[derive(Deserialize)]
pub struct ProjectPath {
    pub(crate) id: ProjectId,
}

#[derive(Deserialize)]
pub struct MemberPath {
    pub(crate) id: ProjectId,
    /// Not `user_id`: that name is the caller's own in the `/api/{user_id}/…` shape.
    pub(crate) member_id: UserId,
}

#[derive(Deserialize)]
pub struct ProjectInvitationPath {
    pub(crate) id: ProjectId,
    pub(crate) invitation_id: InvitationId,
}

#[derive(Deserialize)]
pub struct InvitationPath {
    pub(crate) id: InvitationId,
}

#[derive(Deserialize)]
pub struct TaskPath {
    id: TaskId,
}

#[derive(Deserialize)]
pub struct CommentPath {
    id: CommentId,
}

/// The query of `GET /projects/{id}/activity`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Entries older than this one (the `id` of the last entry of the previous page).
    before: Option<EventId>,
    /// Entries per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// The project's members, the owner first.
#[utoipa::path(
    get,
    path = "/projects/{id}/members",
    operation_id = "listProjectMembers",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id")
    ),
    responses(
        (status = 200, description = "The members", body = [Member]),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn members(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
    Path(path): Path<ProjectPath>,
) -> ApiResult<axum::Json<Vec<Member>>> {
    Ok(axum::Json(
        state.todo.members(&principal.user_id, path.id).await?,
    ))
}

/// Change a member's role; `owner` hands the project to them (the caller becomes an editor). Owner only.
#[utoipa::path(
    patch,
    path = "/projects/{id}/members/{member_id}",
    operation_id = "updateProjectMember",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id"),
    ("member_id" = String, Path, description = "The member's user id")
    ),
    request_body = MemberPatchInput,
    responses(
        (status = 200, description = "The members after the change", body = [Member]),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_member(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<MemberPath>,
    Json(input): Json<MemberPatchInput>,
) -> ApiResult<axum::Json<Vec<Member>>> {
    Ok(axum::Json(
        state
            .todo
            .change_member_role(&principal.user_id, path.id, &path.member_id, input)
            .await?,
    ))
}

/// Remove a member (owner only), or leave the project (your own user id; not the owner). Their tasks there are unassigned.
#[utoipa::path(
    delete,
    path = "/projects/{id}/members/{member_id}",
    operation_id = "removeProjectMember",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id"),
    ("member_id" = String, Path, description = "The member's user id")
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner cannot leave: hand the project over first", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<MemberPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .remove_member(&principal.user_id, path.id, &path.member_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project's pending invitations. Owner only.
#[utoipa::path(
    get,
    path = "/projects/{id}/invitations",
    operation_id = "listProjectInvitations",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id")
    ),
    responses(
        (status = 200, description = "The pending invitations", body = [Invitation]),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn project_invitations(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
    Path(path): Path<ProjectPath>,
) -> ApiResult<axum::Json<Vec<Invitation>>> {
    Ok(axum::Json(
        state
            .todo
            .project_invitations(&principal.user_id, path.id)
            .await?,
    ))
}

/// Invite someone by email as editor or viewer. Owner only; never the Inbox. The invitee answers after signing in (or up) with that address.
#[utoipa::path(
    post,
    path = "/projects/{id}/invitations",
    operation_id = "createInvitation",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id")
    ),
    request_body = InvitationInput,
    responses(
        (status = 201, description = "The invitation", body = Invitation, headers(("Location" = String, description = "The invitation's URL"))),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It clashes with the project's state", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn invite(
    State(state): State<AppState>,
    Auth(principal): Auth,
    OriginalUri(uri): OriginalUri,
    Path(path): Path<ProjectPath>,
    Json(input): Json<InvitationInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Invitation>)> {
    let invitation = state
        .todo
        .invite(&principal.user_id, path.id, input)
        .await?;
    Ok((
        StatusCode::CREATED,
        location(uri.path(), invitation.id),
        axum::Json(invitation),
    ))
}

/// Withdraw a pending invitation. Owner only.
#[utoipa::path(
    delete,
    path = "/projects/{id}/invitations/{invitation_id}",
    operation_id = "cancelInvitation",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id"),
    ("invitation_id" = i64, Path, description = "Invitation id")
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, description = "The caller's role does not allow it (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project or pending invitation", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_invitation(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ProjectInvitationPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .cancel_invitation(&principal.user_id, path.id, path.invitation_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The invitations waiting for the caller's email: who invited them to what.
#[utoipa::path(
    get,
    path = "/invitations",
    operation_id = "listInvitations",
    tag = "sharing",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pending invitations", body = [Invitation]),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn my_invitations(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
) -> ApiResult<axum::Json<Vec<Invitation>>> {
    Ok(axum::Json(
        state.todo.my_invitations(&principal.user_id).await?,
    ))
}

/// Accept an invitation: join the project with the role it names. While the server sends
/// email, only an account whose address is confirmed accepts (docs/sharing.md).
#[utoipa::path(
    post,
    path = "/invitations/{id}/accept",
    operation_id = "acceptInvitation",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Invitation id")
    ),
    responses(
        (status = 200, description = "The project joined", body = Project),
        (status = 403, description = "The server sends email and the caller's address is not confirmed yet (email-unverified: confirm it with the emailed link, or ask for another with `POST /me/email-verification`); or the API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invitation to the caller's email", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It clashes with the project's state", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn accept(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<InvitationPath>,
) -> ApiResult<axum::Json<Project>> {
    Ok(axum::Json(
        state
            .todo
            .accept_invitation(&principal.user_id, path.id)
            .await?,
    ))
}

/// Decline an invitation.
#[utoipa::path(
    post,
    path = "/invitations/{id}/decline",
    operation_id = "declineInvitation",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Invitation id")
    ),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No such invitation to the caller's email", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn decline(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<InvitationPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .decline_invitation(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who did what in the project, newest first (from the event log, kept as long as events are: see docs/sharing.md).
#[utoipa::path(
    get,
    path = "/projects/{id}/activity",
    operation_id = "listProjectActivity",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Project id"),
    ActivityQuery
    ),
    responses(
        (status = 200, description = "The activity", body = [ActivityEntry]),
        (status = 404, description = "No such project of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn activity(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<ProjectPath>,
    Query(query): Query<ActivityQuery>,
) -> ApiResult<axum::Json<Vec<ActivityEntry>>> {
    Ok(axum::Json(
        state
            .todo
            .activity(&principal.user_id, path.id, query.before, query.limit)
            .await?,
    ))
}

/// A task's comments, oldest first.
#[utoipa::path(
    get,
    path = "/tasks/{id}/comments",
    operation_id = "listComments",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Task id")
    ),
    responses(
        (status = 200, description = "The comments", body = [Comment]),
        (status = 404, description = "No such task of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn comments(
    State(state): State<AppState>,
    Auth(principal): Auth,
    _: NoQuery,
    Path(path): Path<TaskPath>,
) -> ApiResult<axum::Json<Vec<Comment>>> {
    Ok(axum::Json(
        state.todo.comments(&principal.user_id, path.id).await?,
    ))
}

/// Comment on a task (any member, a viewer too).
#[utoipa::path(
    post,
    path = "/tasks/{id}/comments",
    operation_id = "createComment",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Task id")
    ),
    request_body = CommentInput,
    responses(
        (status = 201, description = "The comment", body = Comment, headers(("Location" = String, description = "The comment's URL"))),
        (status = 404, description = "No such task of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_comment(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<TaskPath>,
    Json(input): Json<CommentInput>,
) -> ApiResult<(StatusCode, HeaderMap, axum::Json<Comment>)> {
    let comment = state
        .todo
        .add_comment(&principal.user_id, path.id, input)
        .await?;
    Ok((
        StatusCode::CREATED,
        location("/api/v1/comments", comment.id),
        axum::Json(comment),
    ))
}

/// Edit a comment (its author only).
#[utoipa::path(
    patch,
    path = "/comments/{id}",
    operation_id = "updateComment",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Comment id")
    ),
    request_body = CommentInput,
    responses(
        (status = 200, description = "The comment as edited", body = Comment),
        (status = 403, description = "Not its author (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_comment(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<CommentPath>,
    Json(input): Json<CommentInput>,
) -> ApiResult<axum::Json<Comment>> {
    Ok(axum::Json(
        state
            .todo
            .edit_comment(&principal.user_id, path.id, input)
            .await?,
    ))
}

/// Delete a comment (its author, or the project's owner).
#[utoipa::path(
    delete,
    path = "/comments/{id}",
    operation_id = "deleteComment",
    tag = "sharing",
    security(("bearer" = [])),
    params(
    ("id" = i64, Path, description = "Comment id")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Neither its author nor the owner (insufficient-role)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such comment the caller can see", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_comment(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Path(path): Path<CommentPath>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .delete_comment(&principal.user_id, path.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
