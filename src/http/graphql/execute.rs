//! Stage `execute`: the document run with the request's loader, audit trail and caller; a write
//! moves the cache's generation before anyone hears of it. `/graphql/ws` hands its subscriptions
//! the same context (`context`).
use std::sync::Arc;

use super::Exchange;
use crate::audit::AccessLog;
use crate::graphql::request_loader;
use crate::http::HttpState;
use crate::images::access::Requester;

/// Runs the request (handed a copy of its parse); the response is not yet accounted for.
pub(super) async fn execute(s: &HttpState, x: &mut Exchange) -> async_graphql::Response {
    let mut request = x.take_request();
    if let Some(p) = &x.parsed {
        request.set_parsed_query(p.doc.clone());
    }
    let request = request.data(request_loader(
        &s.app,
        x.log.clone(),
        x.request_cache.take(),
    ));
    let resp = s.schema.execute(context(request, &x.log, &x.who)).await;
    if x.mutation() {
        // After the write committed and before the client hears of it: every instance's next
        // read misses (a failed mutation may have written part of its work, so it counts too).
        s.app.cache.invalidate().await;
    }
    resp
}

/// What resolvers read of the request beside its loader: its access log, the caller (when
/// there is one) and the requester.
pub(crate) fn context(
    request: async_graphql::Request,
    log: &Arc<AccessLog>,
    who: &Requester,
) -> async_graphql::Request {
    let mut request = request.data(log.clone());
    if let Some(c) = who.caller.clone() {
        request = request.data(c);
    }
    request.data(who.clone())
}
