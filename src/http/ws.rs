//! GraphQL subscriptions over WebSocket (`/graphql/ws`, the graphql-ws `graphql-transport-ws`
//! protocol and the legacy `graphql-ws` one). The bearer token comes in `connection_init`
//! (`{"authorization": "Bearer …"}`), as browsers cannot set headers on a WebSocket. Only
//! subscriptions run here: queries and mutations go to `/graphql`, where they are audited and
//! checked as reads or writes. Each subscription is admitted, executed and accounted for by
//! `/graphql`'s stages (`http::graphql::{admit, execute, account}`); this module is the transport.
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Response};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::Message;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State, WebSocketUpgrade};
use axum::response::{IntoResponse, Response as HttpResponse};
use futures_util::stream::BoxStream;
use futures_util::{SinkExt, StreamExt};

use crate::audit::{AccessLog, Outcome};
use crate::auth::Operation;
use crate::graphql::loaders::EpochCache;
use crate::graphql::subscription::SessionToken;
use crate::graphql::{MAX_ALIASES, MAX_DUPLICATE_FIELDS, request_loader_with};
use crate::http::authn::request_id;
use crate::http::graphql::account::Audited;
use crate::http::graphql::{admit, execute, refusal};
use crate::http::{HttpState, MAX_BODY};
use crate::images::access::Requester;

/// Runs subscriptions for one connection, each with its own caller check, loader and audit rows.
#[derive(Clone)]
struct WsExecutor {
    s: HttpState,
    client_addr: Option<String>,
    /// The upgrade request's id; each subscription's rows carry `<this>/<n>`.
    connection: Arc<str>,
    /// Set when `connection_init` was refused.
    refused: Arc<AtomicBool>,
    /// Set when `connection_init` arrived (before it is checked).
    init_seen: Arc<AtomicBool>,
    /// Subscriptions running on this connection.
    active: Arc<AtomicUsize>,
}

/// A running subscription's place in its connection's count; freed when the stream is dropped
/// (completed, stopped by the client, or the socket closed).
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// graphql-ws's close code for a refused `connection_init` ("4403: Forbidden").
const FORBIDDEN_CLOSE: u16 = 4403;
/// graphql-ws's close code for a socket that sent no `connection_init` in time.
const INIT_TIMEOUT_CLOSE: u16 = 4408;
/// Fed to the protocol in place of a client message when the init timeout fires: it is no
/// client message, so the protocol closes the socket (1002, changed to 4408 on its way out).
const INIT_TIMEOUT_MARK: &str = "{\"type\":\"ccpor_connection_init_timeout\"}";

/// Reads the token of a `connection_init` payload: `authorization` (`Bearer …` or bare) or
/// `token`, any case of key.
fn token_of(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    let v = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("token"))
        .and_then(|(_, v)| v.as_str())?
        .trim();
    let t = match v.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        None if v.eq_ignore_ascii_case("bearer") => "",
        _ => v,
    };
    (!t.is_empty()).then(|| t.to_owned())
}

impl WsExecutor {
    fn who(&self, id: String) -> Requester {
        Requester {
            request_id: Some(id),
            client_addr: self.client_addr.clone(),
            ..Requester::default()
        }
    }

    /// `connection_init`: the token must be good for reading; a refusal is audited and closes
    /// the socket (4403).
    async fn init(self, payload: serde_json::Value) -> async_graphql::Result<Data> {
        self.init_seen.store(true, Ordering::Relaxed);
        let db = &self.s.app.db;
        let who = self.who(self.connection.to_string());
        let failure = match token_of(&payload) {
            None => {
                "connection_init carries no token: send {\"authorization\": \"Bearer <token>\"}"
                    .to_owned()
            }
            Some(t) => match self.s.app.auth.authenticate(db, &t, Operation::Read).await {
                Ok(_) => {
                    let mut data = Data::default();
                    data.insert(SessionToken(t));
                    return Ok(data);
                }
                Err(f) => {
                    metrics::counter!("ccpor_auth_failures_total", "code" => f.code()).increment(1);
                    f.to_string()
                }
            },
        };
        self.refused.store(true, Ordering::Relaxed);
        let mut rec = who.record("auth.failed", Outcome::Denied);
        rec.operation = Some("graphql-ws connection_init".into());
        rec.detail = Some(failure.clone());
        if self.s.app.audit.append(rec).await.is_err() {
            return Err("the audit log cannot be written".into());
        }
        Err(failure.into())
    }

    async fn start(
        self,
        request: async_graphql::Request,
        session: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let once = |r: Response| futures_util::stream::once(async move { r }).boxed();
        let token = session_token(session.as_ref());
        let (Some(session), Some(token)) = (session, token) else {
            return once(refusal(
                "UNAUTHENTICATED",
                "send connection_init with a token first",
            ));
        };
        // Parsed once per text in the process; execution is handed a copy of the parse.
        let mut request = request;
        let parsed = self
            .s
            .documents
            .get(&request.query, request.operation_name.as_deref());
        if let Some(p) = &parsed {
            request.set_parsed_query(p.doc.clone());
        }
        let Some(info) = parsed.and_then(|p| p.info.clone()) else {
            // Let execution report the parse or operation-name error.
            return self
                .s
                .schema
                .execute_stream_with_session_data(request, session);
        };
        if info.op != OperationType::Subscription {
            return once(refusal(
                "BAD_REQUEST",
                "only subscriptions run on /graphql/ws; send queries and mutations to /graphql",
            ));
        }
        if admit::over_limit(&info).is_some() {
            return once(refusal(
                "GRAPHQL_VALIDATION",
                format!(
                    "at most {MAX_ALIASES} aliases and {MAX_DUPLICATE_FIELDS} repeated fields per request"
                ),
            ));
        }
        let id = format!("{}/{}", self.connection, uuid::Uuid::new_v4().simple());
        let mut who = self.who(id);
        let operation = info.describe(request.operation_name.as_deref());
        // Checked again at each subscription: revoked since the connection opened is refused.
        let caller = match admit::subscriber(&self.s, &token, &who, &operation).await {
            Ok(c) => c,
            Err(refused) => return once(refused),
        };
        who.caller = Some(caller);
        self.run(request, session, who, operation)
    }

    /// An admitted subscription run with its own loader and access log, each response audited
    /// before it is sent.
    fn run(
        &self,
        request: async_graphql::Request,
        session: Arc<Data>,
        mut who: Requester,
        operation: String,
    ) -> BoxStream<'static, Response> {
        let log = Arc::new(AccessLog::default());
        who.log = Some(log.clone());
        let cache = EpochCache::default();
        let request = request
            .data(request_loader_with(
                &self.s.app,
                log.clone(),
                false,
                cache.clone(),
            ))
            .data(cache);
        let request = execute::context(request, &log, &who);
        let audited = Audited {
            app: self.s.app.clone(),
            who,
            operation,
            log,
        };
        let events = self
            .s
            .schema
            .execute_stream_with_session_data(request, session);
        audited.stream(events)
    }
}

/// The token `connection_init` left in the connection's session data.
fn session_token(session: Option<&Arc<Data>>) -> Option<String> {
    session.and_then(|d| {
        d.get(&std::any::TypeId::of::<SessionToken>())
            .and_then(|b| b.downcast_ref::<SessionToken>())
            .map(|t| t.0.clone())
    })
}

impl Executor for WsExecutor {
    async fn execute(&self, _request: async_graphql::Request) -> Response {
        refusal(
            "BAD_REQUEST",
            "only subscriptions run on /graphql/ws; send queries and mutations to /graphql",
        )
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        // Each subscription holds a broadcast receiver, a loader and a revocation check per
        // event: a socket may not open them without bound.
        let max = self.s.app.auth.config.ws_max_subscriptions;
        if self.active.fetch_add(1, Ordering::Relaxed) >= max {
            self.active.fetch_sub(1, Ordering::Relaxed);
            let refused = refusal(
                "TOO_MANY_SUBSCRIPTIONS",
                format!(
                    "at most {max} subscriptions run at once on one connection; complete one first"
                ),
            );
            return futures_util::stream::once(async move { refused }).boxed();
        }
        let slot = Slot(self.active.clone());
        let this = self.clone();
        futures_util::stream::once(this.start(request, session_data))
            .flatten()
            .map(move |r| {
                let _held = &slot;
                r
            })
            .boxed()
    }
}

/// `GET /graphql/ws`: the WebSocket upgrade.
pub async fn handle(State(s): State<HttpState>, req: Request) -> HttpResponse {
    let (mut parts, _body) = req.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let exec = WsExecutor {
        s,
        client_addr: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        connection: request_id(&parts.headers).into(),
        refused: Arc::default(),
        init_seen: Arc::default(),
        active: Arc::default(),
    };
    let init_timeout = exec.s.app.auth.config.ws_init_timeout;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // A message is read whole and parsed as JSON, `connection_init` before any token: bound
        // it as `/graphql` bounds a body (the transport's default is 64 MB; issue 22, item 12).
        .max_message_size(MAX_BODY)
        .max_frame_size(MAX_BODY)
        .on_upgrade(move |socket| {
            let init = exec.clone();
            let refused = init.refused.clone();
            let timed_out = Arc::new(AtomicBool::new(false));
            let (sink, stream) = socket.split();
            // async-graphql has no init timeout (graphql-ws: close 4408 when no
            // `connection_init` came in time): a message of our own stands in for it.
            let (seen, fired) = (init.init_seen.clone(), timed_out.clone());
            let alarm = futures_util::stream::once(async move {
                tokio::time::sleep(init_timeout).await;
                (!seen.load(Ordering::Relaxed)).then(|| {
                    fired.store(true, Ordering::Relaxed);
                    Ok(Message::Text(INIT_TIMEOUT_MARK.into()))
                })
            })
            .filter_map(futures_util::future::ready);
            let stream = futures_util::stream::select(stream, alarm);
            let sink = sink.with(move |m: Message| {
                futures_util::future::ready(Ok::<_, axum::Error>(close_code(
                    m, &timed_out, &refused,
                )))
            });
            GraphQLWebSocket::new_with_pair(sink, stream, exec, protocol)
                .on_connection_init(move |payload| init.init(payload))
                .serve()
        })
        .into_response()
}

/// async-graphql closes a refused `connection_init` with 1002; graphql-ws says 4403 (and 4408
/// when it never came, which the init-timeout mark stands in for).
fn close_code(m: Message, timed_out: &AtomicBool, refused: &AtomicBool) -> Message {
    match m {
        Message::Close(Some(mut f)) if f.code == 1002 && timed_out.load(Ordering::Relaxed) => {
            f.code = INIT_TIMEOUT_CLOSE;
            f.reason = "Connection initialisation timeout".into();
            Message::Close(Some(f))
        }
        Message::Close(Some(mut f)) if f.code == 1002 && refused.load(Ordering::Relaxed) => {
            f.code = FORBIDDEN_CLOSE;
            Message::Close(Some(f))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::token_of;
    use serde_json::json;

    #[test]
    fn the_token_is_read_from_connection_init() {
        assert_eq!(
            token_of(&json!({"authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_of(&json!({"Authorization": "bearer  abc "})).as_deref(),
            Some("abc")
        );
        assert_eq!(token_of(&json!({"token": "abc"})).as_deref(), Some("abc"));
        assert_eq!(token_of(&json!({"authorization": "Bearer "})), None);
        assert_eq!(token_of(&json!({})), None);
        assert_eq!(token_of(&json!("abc")), None);
    }
}
