//! HTTP surface: routes and middleware.

pub mod authn;
pub mod error;
pub mod feeds;
pub mod graphql;
pub mod health;
pub mod images;
pub mod metrics;
pub mod playground;
pub mod range;
pub mod ws;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::graphql::{AppSchema, build_schema_with};
use crate::state::AppState;

/// Largest GraphQL (JSON) request body.
pub const MAX_BODY: usize = 2 * 1024 * 1024;
/// Room for the form fields around an uploaded file.
pub const UPLOAD_OVERHEAD: u64 = 1024 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest an image upload may take to arrive (a 25 MiB scan on a slow court link).
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(300);

/// What every handler can reach: one shared value, so the per-request clone axum makes of the
/// state is one reference count, not one per handle (those clones and drops were 7 % of a cached
/// answer's time).
#[derive(Clone)]
pub struct HttpState(std::sync::Arc<Shared>);

impl std::ops::Deref for HttpState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The handles behind `HttpState`.
pub struct Shared {
    pub app: AppState,
    pub schema: AppSchema,
    /// Documents parsed once and shared by every request that sends the same text.
    pub documents: crate::graphql::parsed::Documents,
}

/// The whole router.
pub fn router(app: AppState) -> Router {
    router_with(app, crate::service::events::Notifier::default())
}

/// The router, with the process's order-event notifier.
pub fn router_with(app: AppState, events: crate::service::events::Notifier) -> Router {
    let schema = build_schema_with(app.clone(), events);
    // Install the recorder before the first request, so nothing is recorded into the void.
    crate::metrics::handle();
    // Bodies are capped at the image limit plus form fields; JSON GraphQL bodies are capped
    // at `MAX_BODY` by the handler, and each uploaded file at the image limit while it streams.
    let body_limit = usize::try_from(app.images.max_bytes + UPLOAD_OVERHEAD).unwrap_or(usize::MAX);
    let state = HttpState(std::sync::Arc::new(Shared {
        app,
        schema,
        documents: Default::default(),
    }));
    let production = state.app.auth.config.production;
    let transfers = Router::new()
        .route("/images", post(images::upload))
        .route("/images/{id}", get(images::download))
        .route("/images/{id}/preview", get(images::preview))
        .layer(DefaultBodyLimit::disable())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TRANSFER_TIMEOUT,
        ));
    let mut router = Router::new()
        .route("/graphql", get(graphql::handle).post(graphql::handle))
        .route("/graphql/ws", get(ws::handle))
        .route("/feeds/v1/messages", post(feeds::receive));
    // No playground in production (OWASP GraphQL Cheat Sheet: disable GraphiQL).
    if !production {
        router = router
            .route("/playground", get(playground::page))
            .route("/playground/assets/{file}", get(playground::asset));
    }
    router
        .route("/healthz", get(health::healthz))
        .route("/ping", get(health::ping))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::render))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .merge(transfers)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(body_limit))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        // Every request has an `x-request-id` (the client's, or a new UUID) before anything
        // else runs, so log lines, audit rows and the response all carry the same id.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CatchPanicLayer::custom(panic_response))
}

/// The span every log line of a request is recorded in: its request id, method and path (never
/// the query string, which may hold GraphQL variables with personal data).
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let request_id = crate::audit::clean::bounded(request_id, crate::audit::clean::MAX_CLIENT_TEXT);
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.uri().path(),
    )
}

/// A panic becomes a plain 500 with no internals; the panic itself is logged.
fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = detail, "request handler panicked");
    let body = serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL" } }] });
    axum::response::IntoResponse::into_response((
        StatusCode::INTERNAL_SERVER_ERROR,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    ))
}
