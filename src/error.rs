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
    /// The database cannot be reached (stopped, restarting, connections cut, pool timed out).
    /// Nothing of the request was written; the client may retry in a few seconds, and the server
    /// reconnects by itself.
    #[error("the database is unavailable; nothing was written; retry in a few seconds")]
    DatabaseUnavailable,
    /// The database's disk is full: the write was refused and nothing of it was stored.
    #[error("the database's disk is full; the write was refused and nothing was stored")]
    StorageFull,
    /// The image store is full (disk or quota): the upload was refused and nothing of it was
    /// stored; order data is read and written as before.
    #[error("the image store is full; the upload was refused and nothing was stored")]
    ImageStoreFull,
    /// The image store cannot be reached (S3 endpoint down, network cut): nothing was stored;
    /// order data is read and written as before; retry once the store is back.
    #[error("the image store is unavailable; nothing was stored; retry later")]
    ImageStoreUnavailable,
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
            AppError::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
            AppError::StorageFull => "STORAGE_FULL",
            AppError::ImageStoreFull => "IMAGE_STORE_FULL",
            AppError::ImageStoreUnavailable => "IMAGE_STORE_UNAVAILABLE",
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

    /// Wraps an internal failure (logged where it is turned into a response, never shown). A
    /// database error that means "unreachable" or "disk full" becomes that error instead.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        let fault = if let Some(db) = e.downcast_ref::<sea_orm::DbErr>() {
            crate::db::fault_of(db)
        } else if let Some(sqlx) = e.downcast_ref::<sea_orm::sqlx::Error>() {
            crate::db::fault_of_sqlx(sqlx)
        } else {
            None
        };
        match fault {
            Some(f) => {
                tracing::warn!(error = %e, "database fault");
                if f == crate::db::Fault::Full {
                    crate::space::note_full();
                }
                f.into()
            }
            None => AppError::Internal(Arc::new(e)),
        }
    }

    /// Prefixes the field of a validation error, so nested input reports its full path.
    pub fn at(self, prefix: &str) -> Self {
        match self {
            AppError::Validation(inv) => AppError::Validation(inv.at(prefix)),
            other => other,
        }
    }
}

impl From<crate::db::Fault> for AppError {
    fn from(f: crate::db::Fault) -> Self {
        match f {
            crate::db::Fault::Unavailable => AppError::DatabaseUnavailable,
            crate::db::Fault::Full => AppError::StorageFull,
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(e: sea_orm::DbErr) -> Self {
        AppError::internal(e)
    }
}

impl From<Arc<sea_orm::DbErr>> for AppError {
    fn from(e: Arc<sea_orm::DbErr>) -> Self {
        match crate::db::fault_of(&e) {
            Some(f) => {
                if f == crate::db::Fault::Full {
                    crate::space::note_full();
                }
                f.into()
            }
            None => AppError::Internal(Arc::new(anyhow::anyhow!("{e}"))),
        }
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
