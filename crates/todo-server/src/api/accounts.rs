//! Sign up, log in and out, and the caller's profile.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use todo_core::accounts::{CredentialKind, LoginInput, ProfileInput, Session, SignupInput};
use todo_core::user::User;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use crate::extract::Json;

/// A user and a login token for them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthResponse {
    pub user: User,
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

fn auth_response(
    state: &AppState,
    user: User,
    session: &Session,
) -> ApiResult<axum::Json<AuthResponse>> {
    let issued = state.auth.keys().issue(session)?;
    Ok(axum::Json(AuthResponse {
        user,
        token: issued.token,
        expires_at: issued.expires_at,
    }))
}

/// Create an account and log in.
#[utoipa::path(
    post,
    path = "/auth/signup",
    operation_id = "signup",
    tag = "accounts",
    request_body(content = SignupInput, example = json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada"})),
    responses(
        (status = 201, description = "The new account and a login token", body = AuthResponse),
        (status = 409, description = "The email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    Json(input): Json<SignupInput>,
) -> ApiResult<(StatusCode, axum::Json<AuthResponse>)> {
    let (user, session) = state.todo.signup(input).await?;
    Ok((StatusCode::CREATED, auth_response(&state, user, &session)?))
}

/// Log in with email and password.
#[utoipa::path(
    post,
    path = "/auth/login",
    operation_id = "login",
    tag = "accounts",
    request_body = LoginInput,
    responses(
        (status = 200, description = "The account and a login token", body = AuthResponse),
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Json(input): Json<LoginInput>,
) -> ApiResult<axum::Json<AuthResponse>> {
    crate::rate_limit::check_login_target(&state, &input.email).await?;
    let (user, session) = state.todo.login(input).await.inspect_err(|e| {
        if matches!(e, todo_core::Error::Unauthenticated(_)) {
            crate::metrics::auth_failure("wrong_password");
        }
    })?;
    auth_response(&state, user, &session)
}

/// End the session the token belongs to (API keys are revoked under `/api-keys` instead).
#[utoipa::path(
    post,
    path = "/auth/logout",
    operation_id = "logout",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204, description = "Logged out: the token no longer works"), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn logout(State(state): State<AppState>, Auth(principal): Auth) -> ApiResult<StatusCode> {
    if let CredentialKind::Session(id) = &principal.credential {
        state.todo.logout(id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The authenticated user.
#[utoipa::path(
    get,
    path = "/me",
    operation_id = "getMe",
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's profile", body = User), (status = 401, body = Problem, content_type = "application/problem+json"))
)]
pub async fn me(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(state.todo.me(&principal.user_id).await?))
}

/// Change the name or time zone.
#[utoipa::path(
    patch,
    path = "/me",
    operation_id = "updateMe",
    tag = "accounts",
    security(("bearer" = [])),
    request_body = ProfileInput,
    responses((status = 200, description = "The profile as changed", body = User), (status = 422, body = Problem, content_type = "application/problem+json"))
)]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(principal): Auth,
    Json(input): Json<ProfileInput>,
) -> ApiResult<axum::Json<User>> {
    Ok(axum::Json(
        state.todo.update_profile(&principal.user_id, input).await?,
    ))
}
