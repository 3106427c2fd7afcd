//! Liveness and readiness probes.
use axum::extract::State;
use axum::http::StatusCode;

use crate::db;
use crate::http::HttpState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// A constant JSON body and nothing else: the throughput benchmark's measure of what the HTTP
/// stack alone costs in this binary (BENCHMARKS.md).
pub async fn ping() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"data":{"ping":"pong"}}"#,
    )
}

/// The database is reachable, every migration is applied, and the search index has caught up
/// with the outbox once since the start (a fresh instance with an empty index directory joins a
/// balancer only when its searches find everyone).
pub async fn readyz(State(s): State<HttpState>) -> (StatusCode, &'static str) {
    if s.app.health.is_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable");
    }
    if !s.app.search.is_caught_up() {
        return (StatusCode::SERVICE_UNAVAILABLE, "search index catching up");
    }
    match db::is_ready(&s.app.db).await {
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
