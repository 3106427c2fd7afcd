//! HTTP surface: routes and middleware.

pub mod graphql;
pub mod health;
pub mod playground;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::graphql::{AppSchema, build_schema};
use crate::state::AppState;

/// Largest GraphQL request body.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schema: AppSchema,
    /// Playground tabs with example variables, computed on first use.
    pub playground_tabs: std::sync::Arc<tokio::sync::OnceCell<Vec<serde_json::Value>>>,
}

/// The whole router.
pub fn router(app: AppState) -> Router {
    let schema = build_schema(app.clone());
    let state = HttpState {
        app,
        schema,
        playground_tabs: Default::default(),
    };
    Router::new()
        .route("/graphql", get(graphql::handle).post(graphql::handle))
        .route("/playground", get(playground::page))
        .route("/playground/assets/{file}", get(playground::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
}
