//! Bearer tokens at the HTTP edge: reading the header, answering failures, and authenticating
//! the non-GraphQL routes (`POST /images`) the same way `/graphql` does, audited.
use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::audit::{self, Outcome};
use crate::auth::{AuthFailure, Operation};
use crate::http::HttpState;
use crate::http::error::error_response;
use crate::images::access::Requester;

/// The client's request id (`x-request-id`), or a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Reads `Authorization: Bearer <token>`: `None` when absent, `Some(Err)` when malformed.
pub fn bearer(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let v = headers.get(header::AUTHORIZATION)?;
    let v = v.to_str().map_err(|_| ());
    Some(v.and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ').ok_or(())?;
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            Ok(token.trim().to_owned())
        } else {
            Err(())
        }
    }))
}

pub fn auth_failure_response(f: &AuthFailure) -> Response {
    metrics::counter!("ccpor_auth_failures_total", "code" => f.code()).increment(1);
    let status = match f {
        AuthFailure::Denied(_) | AuthFailure::TrustedDocumentsOnly => StatusCode::FORBIDDEN,
        AuthFailure::AuthorizerLimit => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    let mut resp = error_response(status, f.code(), &f.to_string());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

pub fn audit_unavailable() -> Response {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "AUDIT_UNAVAILABLE",
        "the audit log cannot be written, so no data is served",
    )
}

/// The token holder of a non-GraphQL request, for `op`. Every refusal is audited and answered
/// as `/graphql` answers it (401 with `WWW-Authenticate`, 403, 503).
pub async fn authenticate(
    s: &HttpState,
    headers: &HeaderMap,
    client: Option<SocketAddr>,
    operation: &str,
    op: Operation,
) -> Result<Requester, Response> {
    let mut who = Requester {
        request_id: Some(request_id(headers)),
        client_addr: client.map(|c| c.ip().to_string()),
        ..Requester::default()
    };
    let db = &s.app.db;
    let failure = match bearer(headers) {
        Some(Ok(token)) => match s.app.auth.authenticate(db, &token, op).await {
            Ok(c) => {
                who.caller = Some(c);
                return Ok(who);
            }
            Err(f) => f,
        },
        Some(Err(())) => AuthFailure::Malformed,
        None => {
            let mut rec = who.record("auth.missing", Outcome::Denied);
            rec.operation = Some(operation.to_owned());
            if audit::append(db, rec).await.is_err() {
                return Err(audit_unavailable());
            }
            let mut resp = error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "sign in: send Authorization: Bearer <token>",
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(resp);
        }
    };
    let mut rec = who.record("auth.failed", Outcome::Denied);
    rec.operation = Some(operation.to_owned());
    rec.detail = Some(failure.to_string());
    if audit::append(db, rec).await.is_err() {
        return Err(audit_unavailable());
    }
    Err(auth_failure_response(&failure))
}
