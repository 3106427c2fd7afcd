//! Liveness and readiness probes.
use axum::extract::State;
use axum::http::StatusCode;

use crate::db;
use crate::http::HttpState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The database is reachable and every migration is applied.
pub async fn readyz(State(s): State<HttpState>) -> (StatusCode, &'static str) {
    match db::is_ready(&s.app.db).await {
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
