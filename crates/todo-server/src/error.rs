//! Every error leaves as `application/problem+json` (RFC 9457). Server faults are logged in
//! full and answered with an opaque body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use todo_core::error::FieldError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem, e.g. `urn:todo:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// One entry per invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    /// Sent as `Retry-After`, in seconds.
    retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            slug,
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// Tells the client when to try again (`Retry-After`).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-request", detail)
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", detail)
    }

    pub fn forbidden(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, slug, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// What the client is told, if anything (never for internal errors).
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// A fault of ours: the cause goes to the log, the client learns nothing of it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            slug: "internal",
            detail: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }
}

impl From<todo_core::Error> for ApiError {
    fn from(err: todo_core::Error) -> Self {
        use todo_core::Error as E;
        match err {
            E::Validation(errors) => Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                slug: "validation",
                detail: Some(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                errors,
                retry_after: None,
            },
            E::NotFound(what) => Self::not_found(format!("{what} not found")),
            E::Conflict(detail) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            E::Unauthenticated(detail) => Self::unauthenticated(detail),
            E::Forbidden(detail) => Self::forbidden("forbidden", detail),
            E::InsufficientRole(detail) => Self::forbidden("insufficient-role", detail),
            E::EmailUnverified(detail) => Self::forbidden("email-unverified", detail),
            E::PreconditionFailed(detail) => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                detail,
            ),
            E::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database cannot be reached right now; nothing was changed, try again shortly",
                )
                .retry_after(5)
            }
            E::Busy(detail) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", detail).retry_after(1)
            }
            E::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl ApiError {
    /// The problem document this error is answered with (also sent inside event streams).
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:todo:problem:{}", self.slug),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let mut response = (self.status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// For routes that do not exist.
pub async fn no_route() -> ApiError {
    ApiError::not_found("no such route")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this route does not accept that method",
    )
}

/// What a panicking handler answers (the panic itself is logged by the layer's caller).
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(&"a request handler panicked").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_core_is_a_503_problem_with_retry_after() {
        let response =
            ApiError::from(todo_core::Error::Busy("too many sign-ins at once")).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let headers = response.headers();
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
        assert_eq!(
            headers
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        let problem = ApiError::from(todo_core::Error::Busy("x")).problem();
        assert_eq!(problem.kind, "urn:todo:problem:busy");
    }
}
