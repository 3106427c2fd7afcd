//! The hardening checklist: every attack a reviewer should try, one test each, read top to bottom.
//!
//! - `graphql_cop`: graphql-cop's probes (aliases, batches, duplication, directives, circular
//!   introspection and fragments, suggestions, introspection and IDE in production, CSRF, traces,
//!   masked errors, oversized bodies, per-token cost budget).
//! - `review_tokens`: the outside review of 2026-12 (issue 22), tokens and client-supplied strings.
//! - `review_scope`: the outside review, narrowed tokens' scope, documents and statistics.
//! - `review_sockets`: the outside review, WebSockets, uploads, image links and the audit anchor.
//! - `review_strings`: item 3's NUL along every path a client's string takes to the audit log.
//!
//! `EVIDENCE.md` records each item's test failing on the code before the fixes.
use ccpor::auth::AuthConfig;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with};

mod graphql_cop;
mod review_scope;
mod review_sockets;
mod review_strings;
mod review_tokens;

pub(crate) fn production() -> AuthConfig {
    AuthConfig {
        production: true,
        ..Default::default()
    }
}

/// POSTs `query` with `token` (or none); returns the status and the JSON body.
pub(crate) async fn post(app: &TestApp, token: Option<&str>, query: &str) -> (u16, Value) {
    let client = match token {
        Some(t) => client_with(t),
        None => reqwest::Client::new(),
    };
    let resp = client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// Every error message of a response, joined.
pub(crate) fn messages(body: &Value) -> String {
    body["errors"]
        .as_array()
        .map(|errs| {
            errs.iter()
                .map(|e| e["message"].as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}
