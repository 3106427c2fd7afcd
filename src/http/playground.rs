//! The GraphiQL playground, served with its assets from the binary and the named operations of
//! `schema/operations/` offered as tabs.
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::http::HttpState;
use crate::operations::{OPERATIONS, example_variables};

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

/// `GET /playground`. Example variables are looked up once per process.
pub async fn page(State(s): State<HttpState>) -> Html<String> {
    let tabs = s
        .playground_tabs
        .get_or_init(|| async {
            let mut tabs = Vec::new();
            for op in OPERATIONS {
                let vars = match example_variables(&s.app.db, op).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::warn!(error = %e, op = op.name, "no example variables");
                        serde_json::json!({})
                    }
                };
                let vars = serde_json::to_string_pretty(&vars).unwrap_or_default();
                tabs.push(serde_json::json!({ "query": op.document, "variables": vars }));
            }
            tabs
        })
        .await;
    let tabs = serde_json::to_string(tabs)
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
