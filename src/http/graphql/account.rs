//! Stage `account`: an answer's audit row and metrics. The row is committed before the client
//! hears of anything, so data that cannot be accounted for is withheld (CJIS AU-5: fail closed);
//! so is the start of a write, before anything is written. `/graphql/ws` accounts for each
//! subscription event the same way (`Audited`).
use std::sync::Arc;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::reuse::Accounting;
use super::{Exchange, refusal};
use crate::audit::{AccessLog, Outcome};
use crate::http::HttpState;
use crate::http::authn::audit_unavailable;
use crate::http::error::error_response;
use crate::images::access::Requester;

/// An executed request's answer, audited and counted, not yet sent.
pub(super) struct Answer {
    status: StatusCode,
    pub(super) body: String,
    /// It ended without any error.
    pub(super) clean: bool,
    /// The objects and confidential fields it read, kept with a reusable answer, to be audited
    /// again when it is served again.
    pub(super) read: Option<(Vec<String>, Vec<String>)>,
}

impl Answer {
    pub(super) fn send(self, content_type: &'static str) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, content_type)],
            self.body,
        )
            .into_response()
    }
}

/// A whole answer served again: the same audit row and metrics as running it.
pub(super) async fn reused(
    s: &HttpState,
    x: &Exchange,
    (hit, body): (Accounting, String),
) -> Result<Response, Response> {
    if !x.reference_only() || !hit.objects.is_empty() {
        let mut rec = x.record("graphql.query", Outcome::Allowed);
        rec.object_ids = hit.objects;
        rec.fields = hit.fields;
        if let Err(e) = s.app.audit.append(rec).await {
            return Err(audit_unavailable(&e));
        }
    }
    crate::metrics::graphql_request(
        x.op_label,
        "query",
        Outcome::Allowed.as_str(),
        x.started.elapsed(),
        &[],
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, x.content_type())],
        body,
    )
        .into_response())
}

/// A mutation's start is audited first. Fail closed before writing anything: no audit, no write.
pub(super) async fn before_write(s: &HttpState, x: &Exchange) -> Result<(), Response> {
    if !x.mutation() {
        return Ok(());
    }
    let mut rec = x.record("graphql.mutation.start", Outcome::Allowed);
    rec.detail = Some("started".into());
    if let Err(e) = s.app.audit.append(rec).await {
        return Err(audit_unavailable(&e));
    }
    Ok(())
}

/// The executed request's audit row and metrics, then its status and body.
pub(super) async fn answer(
    s: &HttpState,
    x: &Exchange,
    mut resp: async_graphql::Response,
) -> Result<Answer, Response> {
    let request_error = is_request_error(&resp);
    // Every error carries a code: request errors come from parsing and validation; anything
    // else without one is internal.
    set_missing_codes(
        &mut resp,
        if request_error {
            "GRAPHQL_VALIDATION"
        } else {
            "INTERNAL"
        },
    );
    let codes = error_codes(&resp);
    let rate_limited = codes.iter().any(|c| c == "RATE_LIMITED");
    let outcome = outcome_of(&codes);
    let (objects, fields) = x.log.snapshot();
    let read = x.reuse.is_some().then(|| (objects.clone(), fields.clone()));
    audit(s, x, outcome, &codes, objects, fields).await?;
    crate::metrics::graphql_request(
        x.op_label,
        if x.mutation() { "mutation" } else { "query" },
        outcome.as_str(),
        x.started.elapsed(),
        &codes,
    );
    let status = if rate_limited {
        StatusCode::TOO_MANY_REQUESTS
    } else if x.graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = body(&resp, request_error).map_err(|e| {
        tracing::error!(error = %e, "serializing a GraphQL response");
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "internal error",
        )
    })?;
    Ok(Answer {
        status,
        body,
        clean: codes.is_empty(),
        read,
    })
}

/// Request errors (parse, validation, variable coercion) leave `data` absent; with the
/// GraphQL response media type they are 400 (GraphQL over HTTP spec). A field error that
/// nulls a non-null root field also leaves `data` null, but it has a path and the request
/// was executed: that stays 200.
fn is_request_error(resp: &async_graphql::Response) -> bool {
    resp.data == async_graphql::Value::Null
        && resp.is_err()
        && resp.errors.iter().all(|e| e.path.is_empty())
}

/// The executed request's audit row: a signed-in caller's writes, denials, errors and reads of
/// anything beyond reference data.
async fn audit(
    s: &HttpState,
    x: &Exchange,
    outcome: Outcome,
    codes: &[String],
    objects: Vec<String>,
    fields: Vec<String>,
) -> Result<(), Response> {
    let mutation = x.mutation();
    if x.who.caller.is_some()
        && (mutation || !x.reference_only() || outcome != Outcome::Allowed || !objects.is_empty())
    {
        let event = if mutation {
            "graphql.mutation"
        } else {
            "graphql.query"
        };
        let mut rec = x.record(event, outcome);
        rec.object_ids = objects;
        rec.fields = fields;
        if !codes.is_empty() {
            rec.detail = Some(format!("errors: {}", codes.join(",")));
        }
        // A row that finds the disk full goes into the reserve (`space`): a write that committed
        // and took the disk's last room is answered as stored, not STORAGE_FULL (a client
        // would send it again), and reads go on.
        if let Err(e) = s.app.audit.append(rec).await {
            // The data was read but cannot be accounted for: withhold it (CJIS AU-5).
            return Err(audit_unavailable(&e));
        }
    }
    Ok(())
}

/// Serialized straight from the response so fields keep the query's order; a request error
/// has no `data` key.
fn body(resp: &async_graphql::Response, request_error: bool) -> serde_json::Result<String> {
    if request_error {
        serde_json::to_string(&serde_json::json!({ "errors": resp.errors }))
    } else {
        serde_json::to_string(resp)
    }
}

/// Gives every error without a `code` extension the code `code`.
pub(crate) fn set_missing_codes(resp: &mut async_graphql::Response, code: &str) {
    for e in &mut resp.errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions
                .get_or_insert_with(Default::default)
                .set("code", code);
        }
    }
}

/// How a request with these error codes ends in the audit log.
pub(crate) fn outcome_of(codes: &[String]) -> Outcome {
    if codes
        .iter()
        .any(|c| c == "FORBIDDEN" || c == "UNAUTHENTICATED" || c == "RATE_LIMITED")
    {
        Outcome::Denied
    } else if codes.is_empty() {
        Outcome::Allowed
    } else {
        Outcome::Error
    }
}

pub(crate) fn error_codes(resp: &async_graphql::Response) -> Vec<String> {
    resp.errors
        .iter()
        .filter_map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|v| v.to_string().trim_matches('"').to_owned())
        })
        .collect()
}

/// What a subscription's responses are audited with.
pub(crate) struct Audited {
    pub(crate) app: crate::state::AppState,
    pub(crate) who: Requester,
    pub(crate) operation: String,
    pub(crate) log: Arc<AccessLog>,
}

impl Audited {
    /// Writes a response's audit row, as `/graphql` writes a request's: an event names the
    /// objects and confidential fields it carries (resolved by now, not yet sent); errors without
    /// an event (denials before the first one, a token revoked mid-stream) are audited as such.
    /// `Err`: the row could not be written, so the response is replaced and the stream ends
    /// (CJIS AU-5: fail closed).
    pub(crate) async fn record(
        &self,
        mut resp: async_graphql::Response,
    ) -> Result<async_graphql::Response, async_graphql::Response> {
        set_missing_codes(&mut resp, "GRAPHQL_VALIDATION");
        let codes = error_codes(&resp);
        let sent = self.log.take();
        let rec = if resp.data != async_graphql::Value::Null {
            let outcome = if codes.is_empty() {
                Outcome::Allowed
            } else {
                outcome_of(&codes)
            };
            let mut rec = self.who.record("graphql.subscription.event", outcome);
            rec.object_ids = sent.objects;
            rec.fields = sent.fields;
            let (operation, note) = sent.note.unzip();
            rec.operation = operation;
            rec.detail = match (note, codes.is_empty()) {
                (note, true) => note,
                (Some(note), false) => Some(format!("{note}; errors: {}", codes.join(","))),
                (None, false) => Some(format!("errors: {}", codes.join(","))),
            };
            rec
        } else if !codes.is_empty() {
            let mut rec = self.who.record("graphql.subscription", outcome_of(&codes));
            rec.detail = Some(format!("errors: {}", codes.join(",")));
            rec
        } else {
            return Ok(resp);
        };
        let mut rec = rec;
        rec.operation.get_or_insert_with(|| self.operation.clone());
        match self.app.audit.append(rec).await {
            Ok(_) => Ok(resp),
            Err(e) => {
                let (code, message) = crate::http::authn::audit_failure(&e);
                Err(refusal(code, message))
            }
        }
    }

    /// `events`, each audited before it is sent; one that cannot be ends the stream.
    pub(crate) fn stream(
        self,
        events: BoxStream<'static, async_graphql::Response>,
    ) -> BoxStream<'static, async_graphql::Response> {
        futures_util::stream::unfold(Some((events, self)), |state| async move {
            let (mut events, audited) = state?;
            let resp = events.next().await?;
            match audited.record(resp).await {
                Ok(resp) => Some((resp, Some((events, audited)))),
                Err(refused) => Some((refused, None)),
            }
        })
        .boxed()
    }
}
