//! The GraphiQL playground, served with its assets from the binary and the named operations of
//! `schema/operations/` offered as tabs.
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::contract::operations::OPERATIONS;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript",
        include_bytes!("../../playground/assets/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css",
        include_bytes!("../../playground/assets/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript",
        include_bytes!("../../playground/assets/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../../playground/assets/react-dom.production.min.js"),
    ),
];

const PAGE: &str = include_str!("../../playground/index.html");

/// The page's tabs: each named operation with fixed, synthetic example variables. Nothing from
/// the database is embedded (issue 22, item 1): once a token is pasted, the page asks `/graphql`
/// with it for examples that token may read, and that read is audited like any other.
static TABS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let tabs: Vec<serde_json::Value> = OPERATIONS
        .iter()
        .map(|op| {
            let vars: serde_json::Value =
                serde_json::from_str(op.variables).unwrap_or_else(|_| serde_json::json!({}));
            let vars = serde_json::to_string_pretty(&vars).unwrap_or_default();
            serde_json::json!({ "query": op.document, "variables": vars })
        })
        .collect();
    serde_json::to_string(&tabs)
        .unwrap_or_else(|_| "[]".to_owned())
        .replace("</", "<\\/")
});

/// `GET /playground`.
pub async fn page() -> Html<String> {
    Html(PAGE.replace("__DEFAULT_TABS__", &TABS))
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
