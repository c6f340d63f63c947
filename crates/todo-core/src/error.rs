//! The domain error: each variant is an outcome an interface can explain to its caller.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; every broken rule is listed.
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    /// The thing does not exist for this user (someone else's counts as absent).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input clashes with existing state (an email already registered).
    #[error("{0}")]
    Conflict(String),
    /// The credential is missing, wrong, expired or revoked.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// A member of a project whose role does not allow the action.
    #[error("{0}")]
    InsufficientRole(String),
    /// The action needs a confirmed email address and the caller's is not (accepting an
    /// invitation while the server sends mail: see [`crate::sharing::check_may_accept`]).
    #[error("{0}")]
    EmailUnverified(String),
    /// A conditional request's condition does not hold (`If-Match` on a changed resource).
    #[error("{0}")]
    PreconditionFailed(&'static str),
    /// The database cannot be reached right now (restarting, overloaded, network); worth
    /// retrying soon. The detail is for the log, never the client.
    #[error("unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Too much of a bounded resource is in use right now (every password-hashing thread and
    /// its queue); nothing was done, worth retrying in a moment.
    #[error("busy: {0}")]
    Busy(&'static str),
    /// Storage or another dependency failed; the detail is for the log, never the client.
    #[error("internal error: {0}")]
    Internal(#[source] BoxError),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(err: impl Into<BoxError>) -> Self {
        Self::Internal(err.into())
    }
}
