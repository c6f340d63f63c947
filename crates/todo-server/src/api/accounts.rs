//! Sign up, log in and out, and the caller's profile.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use todo_core::accounts::{CredentialKind, LoginInput, ProfileInput, Session, SignupInput};
use todo_core::mail::VerificationSent;
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

/// Ask for a password reset link by email.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PasswordResetRequest {
    pub email: String,
}

/// A new password, with the token from a reset link.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct PasswordResetConfirm {
    /// The token from the reset link (a secret the server gave out, not a format).
    pub token: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub new_password: String,
}

/// Email a password reset link to the account with this address. Always 202, whether or not
/// there is such an account (and when email is not configured): the answer says nothing about
/// who has an account. The link (`PUBLIC_URL/reset?token=…`) works once, for an hour.
#[utoipa::path(
    post,
    path = "/auth/password-reset",
    operation_id = "requestPasswordReset",
    tag = "accounts",
    request_body(content = PasswordResetRequest, example = json!({"email": "ada@example.com"})),
    responses(
        (status = 202, description = "If the address has an account, a link is on its way"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    Json(input): Json<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    crate::rate_limit::check_login_target(&state, &input.email).await?;
    request_reset(&state, input.email);
    Ok(StatusCode::ACCEPTED)
}

/// Starts the reset off the request, so that the answer takes as long whatever the address.
pub(crate) fn request_reset(state: &AppState, email: String) {
    let todo = state.todo.clone();
    tokio::spawn(async move {
        if let Err(e) = todo.request_password_reset(&email).await {
            tracing::warn!(error = %e, "a password reset request failed");
        }
    });
}

/// Set a new password with the token from a reset link. The token works once, within an hour
/// of being sent; every session of the account ends.
#[utoipa::path(
    post,
    path = "/auth/password-reset/confirm",
    operation_id = "confirmPasswordReset",
    tag = "accounts",
    request_body = PasswordResetConfirm,
    responses(
        (status = 204, description = "The password is changed and every session ended"),
        (status = 422, description = "The token is unknown, used or expired, or the password breaks a rule", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    Json(input): Json<PasswordResetConfirm>,
) -> ApiResult<StatusCode> {
    state
        .todo
        .confirm_password_reset(&input.token, input.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The token from an email confirmation link.
#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct EmailVerificationConfirm {
    /// The token from the link `PUBLIC_URL/verify-email?token=…` (a secret the server gave
    /// out, not a format).
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
}

/// Confirm an email address with the token from a confirmation link. The token works once,
/// within 7 days of being sent, and confirms the address it was sent to. Needs no login: the
/// token is the proof.
#[utoipa::path(
    post,
    path = "/auth/verify-email",
    operation_id = "verifyEmail",
    tag = "accounts",
    request_body = EmailVerificationConfirm,
    responses(
        (status = 200, description = "The address is confirmed: the account, as `GET /me` shows it", body = User),
        (status = 422, description = "The token is unknown, used or expired", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify_email(
    State(state): State<AppState>,
    Json(input): Json<EmailVerificationConfirm>,
) -> ApiResult<axum::Json<User>> {
    let user_id = state.todo.verify_email(&input.token).await?;
    Ok(axum::Json(state.todo.me(&user_id).await?))
}

/// Email a new link to confirm the caller's address (needed to accept invitations while the
/// server sends mail; docs/email.md). Earlier links keep working until used or expired.
#[utoipa::path(
    post,
    path = "/me/email-verification",
    operation_id = "sendEmailVerification",
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A confirmation link is on its way to the caller's address"),
        (status = 409, description = "The address is confirmed already, the account has none, this server sends no email (no `SMTP_URL`/`PUBLIC_URL`), or three links were sent to it in the last hour", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad credential", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The API key lacks the `write` scope", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn send_email_verification(
    State(state): State<AppState>,
    Auth(principal): Auth,
) -> ApiResult<StatusCode> {
    match state
        .todo
        .send_email_verification(&principal.user_id)
        .await?
    {
        VerificationSent::Sent => Ok(StatusCode::ACCEPTED),
        VerificationSent::AlreadyVerified => {
            Err(todo_core::Error::Conflict("your email address is confirmed already".into()).into())
        }
    }
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
