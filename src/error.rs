//! The crate's error type: stable snake_case codes for clients, internals logged once and masked.
use std::sync::Arc;

use crate::domain::Invalid;

/// Everything a service function can fail with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// Input that breaks a rule; names the offending field.
    #[error("{0}")]
    Validation(#[from] Invalid),
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound { what: String },
    /// The request is well-formed but the stored state forbids it (e.g. terminating twice).
    #[error("{message}")]
    Conflict { message: String },
    /// No valid token.
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller's role or scope does not allow this; `rule` names the rule.
    #[error("{message}")]
    Forbidden { rule: &'static str, message: String },
    /// The token has spent its query budget for now.
    #[error("query budget exceeded for this token; retry in a minute")]
    RateLimited,
    /// A file of a type the registry does not take (decided by its content, not its name).
    #[error("{message}")]
    UnsupportedMediaType { message: String },
    /// A body or file over the configured limit.
    #[error("larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// Database or other internal failure; never shown to clients.
    #[error("internal error")]
    Internal(Arc<anyhow::Error>),
}

impl AppError {
    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "VALIDATION",
            AppError::NotFound { .. } => "NOT_FOUND",
            AppError::Conflict { .. } => "CONFLICT",
            AppError::Unauthenticated(_) => "UNAUTHENTICATED",
            AppError::Forbidden { .. } => "FORBIDDEN",
            AppError::RateLimited => "RATE_LIMITED",
            AppError::UnsupportedMediaType { .. } => "UNSUPPORTED_MEDIA_TYPE",
            AppError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            AppError::Internal(_) => "INTERNAL",
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::NotFound { what: what.into() }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        AppError::Conflict {
            message: message.into(),
        }
    }

    pub fn forbidden(rule: &'static str, message: impl Into<String>) -> Self {
        AppError::Forbidden {
            rule,
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(Invalid::new(field, message))
    }

    /// Wraps an internal failure (logged where it is turned into a response, never shown).
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(Arc::new(e.into()))
    }

    /// Prefixes the field of a validation error, so nested input reports its full path.
    pub fn at(self, prefix: &str) -> Self {
        match self {
            AppError::Validation(inv) => AppError::Validation(inv.at(prefix)),
            other => other,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::Internal(Arc::new(anyhow::Error::new(e)))
    }
}

impl From<Arc<sea_orm::DbErr>> for AppError {
    fn from(e: Arc<sea_orm::DbErr>) -> Self {
        AppError::Internal(Arc::new(anyhow::anyhow!("{e}")))
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(e: sea_orm::TransactionError<AppError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

/// Result alias for service functions.
pub type AppResult<T> = Result<T, AppError>;
