//! The GraphiQL playground, served with its assets from the binary and the named operations of
//! `schema/operations/` offered as tabs.
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::operations::OPERATIONS;

const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript", include_bytes!("../../playground/assets/graphiql.min.js")),
    ("graphiql.min.css", "text/css", include_bytes!("../../playground/assets/graphiql.min.css")),
    ("react.production.min.js", "text/javascript", include_bytes!("../../playground/assets/react.production.min.js")),
    ("react-dom.production.min.js", "text/javascript", include_bytes!("../../playground/assets/react-dom.production.min.js")),
];

const PAGE: &str = include_str!("../../playground/index.html");

/// `GET /playground`.
pub async fn page() -> Html<String> {
    let tabs: Vec<serde_json::Value> = OPERATIONS
        .iter()
        .map(|op| serde_json::json!({ "query": op.document, "variables": op.variables }))
        .collect();
    let tabs = serde_json::to_string(&tabs)
        .unwrap_or_else(|_| "[]".to_owned())
        .replace("</", "<\\/");
    Html(PAGE.replace("__DEFAULT_TABS__", &tabs))
}

/// `GET /playground/assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, bytes)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
