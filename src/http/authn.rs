//! Bearer tokens at the HTTP edge: reading the header, answering failures, and authenticating
//! the non-GraphQL routes (`POST /images`) the same way `/graphql` does, audited.
use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::audit::Outcome;
use crate::auth::{AuthFailure, Caller, Operation, Role};
use crate::error::AppError;
use crate::http::HttpState;
use crate::http::error::error_response;
use crate::images::access::Requester;

/// The client's request id (`x-request-id`, bounded and cleaned: it reaches audit rows and
/// logs), or a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| crate::audit::clean::bounded(v, crate::audit::clean::MAX_CLIENT_TEXT).into_owned())
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
        AuthFailure::AuthorizerLimit | AuthFailure::DatabaseUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::UNAUTHORIZED,
    };
    let mut resp = error_response(status, f.code(), &f.to_string());
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

/// The answer to a request whose audit row could not be written: nothing is served or written
/// that cannot be accounted for (CJIS AU-5). 503 either way; the code says why.
pub fn audit_unavailable(e: &AppError) -> Response {
    let (code, message) = audit_failure(e);
    error_response(StatusCode::SERVICE_UNAVAILABLE, code, message)
}

/// Code and message for a failed audit append: an unreachable database is
/// `DATABASE_UNAVAILABLE` (retry in a few seconds: every instance and request is affected alike),
/// a full disk `STORAGE_FULL`; anything else is `AUDIT_UNAVAILABLE`.
pub fn audit_failure(e: &AppError) -> (&'static str, &'static str) {
    match e {
        AppError::DatabaseUnavailable => (
            "DATABASE_UNAVAILABLE",
            "the database is unavailable; nothing was read or written; retry in a few seconds",
        ),
        AppError::StorageFull => (
            "STORAGE_FULL",
            "the database's disk is full; nothing was read or written",
        ),
        _ => ("AUDIT_UNAVAILABLE", crate::audit::UNAVAILABLE),
    }
}

/// What a request asks of its token.
pub struct Attempt {
    /// How the request is described in audit rows (`POST /images`, `query Name(field)`).
    pub operation: Option<String>,
    pub op: Operation,
    /// The request is a document of the trusted manifest.
    pub trusted: bool,
    /// A request without a token may go on as anonymous (`{ __typename }`).
    pub anonymous_ok: bool,
}

/// Checks the request's bearer token (`bearer`'s reading of the header); every refusal is
/// audited under `who` and answered 401 (with `WWW-Authenticate`), 403 or 503. `Ok(None)`:
/// no token, and `attempt.anonymous_ok`.
pub async fn check_bearer(
    s: &HttpState,
    token: Option<&Result<String, ()>>,
    who: &Requester,
    attempt: &Attempt,
) -> Result<Option<Caller>, Response> {
    let db = &s.app.db;
    let refusal = |event: &str, detail: Option<String>| {
        let mut rec = who.record(event, Outcome::Denied);
        rec.operation = attempt.operation.clone();
        rec.detail = detail;
        rec
    };
    let (rec, resp) = match token {
        None if attempt.anonymous_ok => return Ok(None),
        None => {
            let mut resp = error_response(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "sign in: send Authorization: Bearer <token>",
            );
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            (refusal("auth.missing", None), resp)
        }
        Some(Err(())) => (
            refusal(
                "auth.failed",
                Some("Authorization header is not a bearer token".into()),
            ),
            auth_failure_response(&AuthFailure::Malformed),
        ),
        Some(Ok(t)) => match s
            .app
            .auth
            .authenticate_document(db, t, attempt.op, attempt.trusted)
            .await
        {
            // A feed token sends feed messages and nothing else; only feed tokens send them.
            Ok(c) if (c.role == Role::Feed) != attempt.is_feed() => {
                let f = AuthFailure::Denied(if c.role == Role::Feed {
                    "a feed token sends POST /feeds/v1/messages only".into()
                } else {
                    "only a feed token (ccpor token mint --role feed --court …) sends feed messages"
                        .into()
                });
                let mut rec = refusal("auth.failed", Some(f.to_string()));
                rec.user_id = Some(c.user.clone());
                rec.role = Some(c.role.as_str().to_owned());
                rec.court = c.court.clone();
                rec.agency_ori = c.agency.clone();
                (rec, auth_failure_response(&f))
            }
            Ok(c) => return Ok(Some(c)),
            Err(f) => (
                refusal("auth.failed", Some(f.to_string())),
                auth_failure_response(&f),
            ),
        },
    };
    if let Err(e) = s.app.audit.append(rec).await {
        return Err(audit_unavailable(&e));
    }
    Err(resp)
}

impl Attempt {
    /// The request is a feed's (`POST /feeds/v1/messages`).
    fn is_feed(&self) -> bool {
        self.operation.as_deref() == Some(crate::http::feeds::OPERATION)
    }
}

/// The token holder of a non-GraphQL request, for `op`, answered as `/graphql` answers.
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
    let attempt = Attempt {
        operation: Some(operation.to_owned()),
        op,
        trusted: false,
        anonymous_ok: false,
    };
    who.caller = check_bearer(s, bearer(headers).as_ref(), &who, &attempt).await?;
    Ok(who)
}
