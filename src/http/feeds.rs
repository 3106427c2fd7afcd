//! `POST /feeds/v1/messages`: a court's case-management system sends NDJSON messages
//! (`feed::message`) and gets one NDJSON acknowledgement per line, in order. Only a `feed`
//! token, bound to one court, may send, and only that court's orders; every message is audited
//! before the answer goes out (fail closed). The batch runs in a task of its own, so a client that
//! hangs up does not cut it short: what it stored is acknowledged as `DUPLICATE` on the resend.
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::audit::Outcome as AuditOutcome;
use crate::auth::Operation;
use crate::domain::codes::Channel;
use crate::feed::{Ack, Feed, Outcome, Sender, Status};
use crate::http::HttpState;
use crate::http::authn::{audit_unavailable, authenticate};
use crate::http::error::error_response;
use crate::images::access::Requester;
use crate::service::refs::Refs;

/// The route as audit rows and token checks name it.
pub const OPERATION: &str = "POST /feeds/v1/messages";
/// Largest body: 1,000 whole orders are about 2 MiB.
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// Most messages in one request: messages other than new chains' ISSUEs are a transaction
/// each (`feed::runs`), and the request must finish within the 30 s request timeout on a
/// loaded server.
pub const MAX_LINES: usize = 2000;
const NDJSON: &str = "application/x-ndjson";

pub async fn receive(
    State(s): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    // The token before the body: a refused sender's bytes are never read.
    let who = match authenticate(&s, &headers, Some(client), OPERATION, Operation::Write).await {
        Ok(w) => w,
        Err(resp) => return resp,
    };
    let ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(NDJSON));
    if !ndjson {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send application/x-ndjson, one message a line",
        );
    }
    let bytes = match read_bounded(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "the body is not UTF-8",
        );
    };
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    if lines.len() > MAX_LINES {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("at most {MAX_LINES} messages per request"),
        );
    }
    let task = tokio::spawn(take_all(s.clone(), who, lines));
    match task.await {
        Ok(Ok(acks)) => {
            let mut out = String::with_capacity(acks.len() * 96);
            for a in &acks {
                out.push_str(&serde_json::to_string(a).unwrap_or_default());
                out.push('\n');
            }
            (StatusCode::OK, [(header::CONTENT_TYPE, NDJSON)], out).into_response()
        }
        Ok(Err(resp)) => resp,
        Err(e) => {
            tracing::error!(error = %e, "feed batch task failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
    }
}

/// The body, at most `MAX_BODY` bytes (413 beyond, without reading the rest).
async fn read_bounded(body: Body) -> Result<Vec<u8>, Response> {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body could not be read",
            )
        })?;
        if out.len() + chunk.len() > MAX_BODY {
            return Err(error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                &format!("at most {MAX_BODY} bytes per request"),
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Takes every line in order, audits each, then starts the conflict check of the new orders.
async fn take_all(s: HttpState, who: Requester, lines: Vec<String>) -> Result<Vec<Ack>, Response> {
    let court = who.caller.as_ref().and_then(|c| c.court.clone());
    let refs = match Refs::load(&s.app.db).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "loading reference data for a feed batch");
            return Err(error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "the registry cannot take messages now; resend later",
            ));
        }
    };
    let sender = Sender {
        court,
        channel: Channel::Feed,
    };
    let feed = Feed {
        db: &s.app.db,
        refs: &refs,
        sender: &sender,
    };
    let mut outcomes = Vec::with_capacity(lines.len());
    for (line, taken) in lines.iter().zip(feed.take_all(&lines).await) {
        let outcome = match taken {
            Ok(o) => o,
            Err(e) => Outcome {
                ack: crate::feed::ack::rejected_internal(line, &e),
                action: None,
                other_court: false,
                new_order: None,
            },
        };
        metrics::counter!("ccpor_feed_messages_total", "status" => outcome.ack.status.as_str())
            .increment(1);
        outcomes.push(outcome);
    }
    let audits = outcomes.iter().map(|o| s.app.audit.append(record(&who, o)));
    let results = futures_util::future::join_all(audits).await;
    if let Some(e) = results.iter().find_map(|r| r.as_ref().err()) {
        return Err(audit_unavailable(e));
    }
    let new_orders: Vec<i32> = outcomes.iter().filter_map(|o| o.new_order).collect();
    if outcomes.iter().any(|o| o.ack.status == Status::Accepted) {
        s.app.search.wake();
        s.app.cache.invalidate().await;
    }
    if !new_orders.is_empty() {
        let (db, search) = (s.app.db.clone(), s.app.search.clone());
        // Conflicts inform and never undo an order: checked after the answer, as after
        // `createOrder`'s commit.
        tokio::spawn(async move {
            for id in new_orders {
                if let Err(e) = crate::service::conflicts::after_create(&db, &search, id).await {
                    tracing::error!(error = %e, order_id = id, "conflict check of a feed order");
                }
            }
        });
    }
    Ok(outcomes.into_iter().map(|o| o.ack).collect())
}

/// The audit row of one message: who sent it, the order it touched, what became of it.
fn record(who: &Requester, o: &Outcome) -> crate::audit::AuditRecord {
    let outcome = match o.ack.status {
        _ if o.other_court => AuditOutcome::Denied,
        Status::Rejected => AuditOutcome::Error,
        _ => AuditOutcome::Allowed,
    };
    let mut rec = who.record("feed.message", outcome);
    rec.operation = Some(OPERATION.to_owned());
    rec.object_ids = o.ack.order_id.iter().cloned().collect();
    let action = o.action.map_or("?", crate::feed::message::Action::as_wire);
    let id = o.ack.message_id.as_deref().unwrap_or("-");
    let mut detail = format!("{action} {id} {}", o.ack.status.as_str());
    if o.other_court {
        detail.push_str(" (another court's order)");
    }
    rec.detail = Some(crate::audit::clean::bounded(&detail, 512).into_owned());
    rec
}
