//! Stage `admit`: what a request must pass before anything is read for it. An upload's
//! preflight header and writer's token before its body is read; an authenticated caller before
//! a persisted-query hash is looked up; the document's size limits (and, in production, no
//! introspection); the caller's token for what the document does. Every refusal of a token is
//! audited (`http::authn`). `/graphql/ws` admits each subscription with the same limits and an
//! audited token check (`over_limit`, `subscriber`).
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Arrival, Exchange, refusal};
use crate::audit::Outcome;
use crate::auth::{AuthFailure, Caller, Operation};
use crate::graphql::document::DocInfo;
use crate::graphql::{MAX_ALIASES, MAX_DUPLICATE_FIELDS};
use crate::http::HttpState;
use crate::http::authn::{Attempt, check_bearer};
use crate::http::error::error_response;
use crate::images::access::Requester;

/// Headers a browser cannot send cross-site without a CORS preflight; one must come with a
/// multipart (upload) request, which is otherwise a CORS-simple request (research/graphql.md §2.10).
const PREFLIGHT_HEADERS: [&str; 3] = [
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
];

/// A multipart body is an upload, spooled to disk as it is read: only a writer's token gets
/// that far (the document inside it is checked again once read).
pub(super) async fn upload(
    s: &HttpState,
    arrival: &Arrival,
    headers: &HeaderMap,
) -> Result<(), Response> {
    if !super::parse::is_multipart(headers) {
        return Ok(());
    }
    if let Some(resp) = without_preflight(headers) {
        return Err(resp);
    }
    let attempt = Attempt {
        operation: Some("POST /graphql (multipart upload)".into()),
        op: Operation::Write,
        trusted: true,
        anonymous_ok: false,
    };
    check_bearer(s, arrival.token.as_ref(), &arrival.who, &attempt)
        .await
        .map(|_| ())
}

/// The refusal of a multipart request without a header a browser cannot add cross-site without
/// a preflight; `None` when it has one.
fn without_preflight(headers: &HeaderMap) -> Option<Response> {
    if PREFLIGHT_HEADERS.iter().any(|h| headers.contains_key(*h)) {
        return None;
    }
    Some(error_response(
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "multipart requests need a CSRF preflight header (apollo-require-preflight: true)",
    ))
}

/// A persisted query sent as a hash alone names a stored document only to an authenticated
/// caller: anyone else gets the same refusal whether or not the hash is registered (issue 22,
/// item 18). Only who the holder is is checked here; what the document may do is checked as for
/// any request once it is known. Trusted documents' hashes are public (the manifest) and pass.
pub(super) async fn before_lookup(s: &HttpState, x: &Exchange) -> Result<(), Response> {
    let req = &x.request;
    let hash_only = req.query.is_empty()
        && req
            .extensions
            .get("persistedQuery")
            .and_then(|pq| pq.clone().into_json().ok())
            .and_then(|v| v.get("sha256Hash")?.as_str().map(str::to_owned))
            .is_some_and(|h| crate::contract::persisted::find(&h).is_none());
    if !hash_only {
        return Ok(());
    }
    let attempt = Attempt {
        operation: None,
        op: Operation::Read,
        trusted: true,
        anonymous_ok: false,
    };
    check_bearer(s, x.token.as_ref(), &x.who, &attempt)
        .await
        .map(|_| ())
}

/// A document size limit a request goes over.
pub(crate) enum Limit {
    Aliases,
    Duplicates,
}

/// The first size limit the document goes over, if any.
pub(crate) fn over_limit(info: &DocInfo) -> Option<Limit> {
    if info.aliases > MAX_ALIASES {
        Some(Limit::Aliases)
    } else if info.duplicates > MAX_DUPLICATE_FIELDS {
        Some(Limit::Duplicates)
    } else {
        None
    }
}

/// The refusal of a document over a size limit, or asking for the schema in production.
fn limits(s: &HttpState, x: &Exchange) -> Option<Response> {
    let info = x.info.as_ref()?;
    let message = match over_limit(info) {
        Some(Limit::Aliases) => format!("at most {MAX_ALIASES} aliases per request"),
        Some(Limit::Duplicates) => {
            format!("at most {MAX_DUPLICATE_FIELDS} repeated fields per request")
        }
        None if s.app.auth.config.production && info.introspects() => {
            "introspection is disabled".to_owned()
        }
        None => return None,
    };
    Some(error_response(
        StatusCode::BAD_REQUEST,
        "GRAPHQL_VALIDATION",
        &message,
    ))
}

/// The document within its limits, then the caller: the token checked for what the document
/// does (a read or a write, trusted or not); none for an anonymous request that may go on as one.
pub(super) async fn request(s: &HttpState, x: &mut Exchange) -> Result<(), Response> {
    if let Some(refused) = limits(s, x) {
        return Err(refused);
    }
    let attempt = Attempt {
        operation: x.operation.clone(),
        op: x.op,
        trusted: x.persisted.trusted,
        // Anonymous callers get `__typename` only; a document that does not parse cannot
        // reach data and gets its parse error from execution.
        anonymous_ok: x.info.as_ref().is_none_or(|i| i.typename_only()),
    };
    x.who.caller = check_bearer(s, x.token.as_ref(), &x.who, &attempt).await?;
    Ok(())
}

/// A subscription's caller: the connection's token checked again, so one revoked since the
/// connection opened is refused; a refusal is audited under `who`, as `/graphql` audits one.
pub(crate) async fn subscriber(
    s: &HttpState,
    token: &str,
    who: &Requester,
    operation: &str,
) -> Result<Caller, async_graphql::Response> {
    match s
        .app
        .auth
        .authenticate(&s.app.db, token, Operation::Read)
        .await
    {
        Ok(c) => Ok(c),
        Err(f) => {
            let mut rec = who.record("auth.failed", Outcome::Denied);
            rec.operation = Some(operation.to_owned());
            rec.detail = Some(f.to_string());
            if let Err(e) = s.app.audit.append(rec).await {
                let (code, message) = crate::http::authn::audit_failure(&e);
                return Err(refusal(code, message));
            }
            Err(auth_refusal(&f))
        }
    }
}

fn auth_refusal(f: &AuthFailure) -> async_graphql::Response {
    metrics::counter!("ccpor_auth_failures_total", "code" => f.code()).increment(1);
    refusal(f.code(), f.to_string())
}
