//! Error bodies of the plain HTTP endpoints, shaped like GraphQL errors:
//! `{"errors":[{"message":…,"extensions":{"code":…,"field":…}}]}`. Internals are logged, not sent.
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::AppError;

pub const JSON: &str = "application/json";

/// A body with one error.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
}

/// The HTTP status of a service error.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Validation(_) => StatusCode::BAD_REQUEST,
        AppError::NotFound { .. } => StatusCode::NOT_FOUND,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        AppError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::StorageFull | AppError::ImageStoreFull => StatusCode::INSUFFICIENT_STORAGE,
        AppError::ImageStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A service error as a response.
pub fn app_error(e: AppError) -> Response {
    let status = status_of(&e);
    match e {
        AppError::Internal(inner) => {
            tracing::error!(error = %inner, "internal error");
            error_response(status, "INTERNAL", "internal error")
        }
        AppError::Validation(inv) => {
            let body = serde_json::json!({ "errors": [{ "message": inv.to_string(),
                "extensions": { "code": "VALIDATION", "field": inv.field } }] });
            (status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
        }
        AppError::Forbidden { rule, message } => {
            let body = serde_json::json!({ "errors": [{ "message": message,
                "extensions": { "code": "FORBIDDEN", "rule": rule } }] });
            (status, [(header::CONTENT_TYPE, JSON)], body.to_string()).into_response()
        }
        other => error_response(status, other.code(), &other.to_string()),
    }
}
