//! GraphQL over HTTP (`GET`/`POST /graphql`). Written out instead of the stock service because
//! the stock one executes mutations over GET, accepts CORS-simple content types and ignores
//! `Accept` (research/graphql.md §2.10).
//!
//! A request goes through named stages, each its own module, one `Exchange` carried between
//! them: `parse` (the HTTP request read), `persisted` (persisted documents), `admit` (limits and
//! authentication), `reuse` (the whole-answer cache), `execute`, and `account` (audit and
//! metrics). `handle` lists them in their order. `/graphql/ws` (`http::ws`) admits, executes and
//! accounts for subscriptions with the same stages.
pub(crate) mod account;
pub(crate) mod admit;
pub(crate) mod execute;
mod parse;
mod persisted;
mod reuse;

use std::sync::Arc;
use std::time::Instant;

use async_graphql::ServerError;
use axum::extract::{Request, State};
use axum::response::Response;

use crate::audit::{AccessLog, AuditRecord, Outcome};
use crate::auth::Operation;
use crate::cache::RequestCache;
use crate::graphql::document::DocInfo;
use crate::graphql::parsed::Parsed;
use crate::http::HttpState;
use crate::http::error::JSON;
use crate::images::access::Requester;
use persisted::Persisted;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// `GET`/`POST /graphql`: the stages, in order.
pub async fn handle(State(s): State<HttpState>, req: Request) -> Response {
    match stages(&s, req).await {
        Ok(resp) | Err(resp) => resp,
    }
}

/// Each stage hands the exchange on or ends the request with its answer (`Err`). The order is
/// the rules': a token before an upload's body is read and before a hash is looked up, the
/// caller before a stored answer, and the audit row before any answer.
async fn stages(s: &HttpState, req: Request) -> Result<Response, Response> {
    if s.app.health.is_down() {
        // Nothing can be audited, so nothing can be served: say so at once.
        return Err(crate::http::error::app_error(
            crate::error::AppError::DatabaseUnavailable,
        ));
    }
    let arrival = parse::arrival(&req);
    admit::upload(s, &arrival, req.headers()).await?;
    let mut x = parse::request(arrival, req, s.app.images.max_bytes).await?;
    admit::before_lookup(s, &x).await?;
    persisted::resolve(&mut x, &s.app.cache).await?;
    parse::document(s, &mut x);
    admit::request(s, &mut x).await?;
    persisted::register(&x, s).await;
    if let Some(hit) = reuse::lookup(s, &mut x).await {
        return account::reused(s, &x, hit).await;
    }
    if x.mutation() && s.app.space.is_full() {
        // The disk's last room is kept for the audit rows of reads (`space`).
        return Err(crate::http::error::app_error(
            crate::error::AppError::StorageFull,
        ));
    }
    account::before_write(s, &x).await?;
    let admitted = Instant::now();
    let response = execute::execute(s, &mut x).await;
    let executed = Instant::now();
    let mut answer = account::answer(s, &x, response).await?;
    let audited = Instant::now();
    reuse::store(&x, &mut answer).await;
    crate::metrics::graphql_stages(&[
        ("admit", admitted - x.started),
        ("execute", executed - admitted),
        ("audit", audited - executed),
        ("store", audited.elapsed()),
    ]);
    Ok(answer.send(x.content_type()))
}

/// What a request's headers and connection say, before its body is read.
struct Arrival {
    /// When the request arrived, for the latency metric.
    started: Instant,
    /// `Authorization`, as `authn::bearer` read it.
    token: Option<Result<String, ()>>,
    /// The client asked for `application/graphql-response+json`.
    graphql_response: bool,
    /// The request id and client address; no caller yet.
    who: Requester,
}

/// One request on its way through the stages: what each stage found, for the next.
struct Exchange {
    started: Instant,
    token: Option<Result<String, ()>>,
    graphql_response: bool,
    /// The asker: request id and client address, the caller once admitted, the access log.
    who: Requester,
    /// What the request reads, for its audit row and its answer's reuse.
    log: Arc<AccessLog>,
    /// The GraphQL request as sent, then with its persisted document; execution takes it.
    request: async_graphql::Request,
    /// What its persisted-query extension made of it.
    persisted: Persisted,
    /// Its document, parsed once per text in the process; `None` when it does not parse.
    parsed: Option<Arc<Parsed>>,
    /// What access control reads of the document; `None` without a single operation.
    info: Option<DocInfo>,
    /// The operation's metric label.
    op_label: &'static str,
    /// The operation as audit rows describe it.
    operation: Option<String>,
    /// A read or a write.
    op: Operation,
    /// The request's one view of the cache (`reuse`), handed to execution on a miss.
    request_cache: Option<Arc<RequestCache>>,
    /// Where its whole answer is kept, when it may be reused.
    reuse: Option<(Arc<RequestCache>, String)>,
}

impl Exchange {
    fn new(arrival: Arrival, request: async_graphql::Request) -> Self {
        let log = Arc::new(AccessLog::default());
        let mut who = arrival.who;
        who.log = Some(log.clone());
        Exchange {
            started: arrival.started,
            token: arrival.token,
            graphql_response: arrival.graphql_response,
            who,
            log,
            request,
            persisted: Persisted::default(),
            parsed: None,
            info: None,
            op_label: "anonymous",
            operation: None,
            op: Operation::Read,
            request_cache: None,
            reuse: None,
        }
    }

    fn mutation(&self) -> bool {
        self.op == Operation::Write
    }

    /// Only reference data is asked for (courts, agencies, forms, introspection).
    fn reference_only(&self) -> bool {
        self.info.as_ref().is_some_and(|i| i.reference_only())
    }

    fn content_type(&self) -> &'static str {
        if self.graphql_response {
            GRAPHQL_RESPONSE
        } else {
            JSON
        }
    }

    /// An audit row of this request.
    fn record(&self, event: &str, outcome: Outcome) -> AuditRecord {
        let mut rec = self.who.record(event, outcome);
        rec.operation = self.operation.clone();
        rec
    }

    /// The request, for execution, which consumes it (an empty one is left behind).
    fn take_request(&mut self) -> async_graphql::Request {
        std::mem::replace(
            &mut self.request,
            async_graphql::Request::new(String::new()),
        )
    }
}

/// A GraphQL response of one error with this code, as `/graphql/ws` refuses a subscription.
pub(crate) fn refusal(code: &'static str, message: impl Into<String>) -> async_graphql::Response {
    let mut e = ServerError::new(message, None);
    let mut ext = async_graphql::ErrorExtensionValues::default();
    ext.set("code", code);
    e.extensions = Some(ext);
    async_graphql::Response::from_errors(vec![e])
}
