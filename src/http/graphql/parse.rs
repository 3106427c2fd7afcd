//! Stage `parse`: the HTTP request read into a GraphQL one (a `GET`'s query string, never a
//! mutation; a JSON body; or a multipart upload) and, once `persisted` has supplied the
//! document, the document parsed and analysed.
use std::net::SocketAddr;
use std::time::Instant;

use async_graphql::http::{MultipartOptions, parse_query_string, receive_body};
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::{Bytes, to_bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt;

use super::{Arrival, Exchange, GRAPHQL_RESPONSE};
use crate::auth::Operation;
use crate::http::authn::{bearer, request_id};
use crate::http::error::{JSON, error_response};
use crate::http::{HttpState, MAX_BODY, UPLOAD_OVERHEAD};
use crate::images::access::Requester;

const MULTIPART: &str = "multipart/form-data";

/// What the request's headers and connection say before its body is read.
pub(super) fn arrival(req: &Request) -> Arrival {
    let started = Instant::now();
    let request_id = request_id(req.headers());
    let client_addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    Arrival {
        started,
        token: bearer(req.headers()),
        graphql_response: wants_graphql_response(req.headers()),
        who: Requester {
            request_id: Some(request_id),
            client_addr,
            ..Requester::default()
        },
    }
}

/// The request's body (or query string) read into the exchange the later stages share.
pub(super) async fn request(
    arrival: Arrival,
    req: Request,
    max_file: u64,
) -> Result<Exchange, Response> {
    let request = parse_request(req, max_file).await?;
    Ok(Exchange::new(arrival, request))
}

/// The document, parsed once per text in the process; a whole-answer hit never needs it, and
/// execution is handed a copy of the parse. Names the operation for metrics and audit rows.
pub(super) fn document(s: &HttpState, x: &mut Exchange) {
    let parsed = s
        .documents
        .get(&x.request.query, x.request.operation_name.as_deref());
    let info = parsed.as_ref().and_then(|p| p.info.clone());
    x.op_label = crate::metrics::operation_label(
        x.request
            .operation_name
            .as_deref()
            .or(info.as_ref().and_then(|i| i.name.as_deref())),
        &x.request.query,
        x.persisted.trusted,
    );
    x.operation = info
        .as_ref()
        .map(|i| i.describe(x.request.operation_name.as_deref()));
    x.op = match info.as_ref().map(|i| i.op) {
        Some(OperationType::Mutation) => Operation::Write,
        _ => Operation::Read,
    };
    x.parsed = parsed;
    x.info = info;
}

/// `application/graphql-response+json` only when asked for; plain JSON otherwise.
fn wants_graphql_response(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(GRAPHQL_RESPONSE))
}

fn operation_type(req: &async_graphql::Request) -> Option<OperationType> {
    let doc = parse_query(&req.query).ok()?;
    match &doc.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match &req.operation_name {
            Some(name) => ops.get(name.as_str()).map(|op| op.node.ty),
            None if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
            None => None,
        },
    }
}

/// A GraphQL multipart request (file uploads), its CSRF preflight header and token already
/// checked by `admit::upload`: each file capped at the image limit while it streams.
async fn parse_multipart(
    req: Request,
    content_type: String,
    max_file: u64,
) -> Result<async_graphql::Request, Response> {
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("larger than the limit of {max_file} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max_file + UPLOAD_OVERHEAD) {
        return Err(too_large());
    }
    let body = req
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other)
        .into_async_read();
    let opts = MultipartOptions::default()
        .max_file_size(usize::try_from(max_file).unwrap_or(usize::MAX))
        .max_num_files(1);
    receive_body(Some(content_type), body, opts)
        .await
        .map_err(|e| match e {
            async_graphql::ParseRequestError::PayloadTooLarge => too_large(),
            other => error_response(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("not a GraphQL multipart request: {other}"),
            ),
        })
}

/// Whether the request's body is `multipart/form-data`.
pub(super) fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(MULTIPART))
}

/// A `GET`'s query string (a mutation there is 405, `Allow: POST`), a JSON body or an upload.
async fn parse_request(req: Request, max_file: u64) -> Result<async_graphql::Request, Response> {
    if req.method() == Method::GET {
        let parsed = parse_query_string(req.uri().query().unwrap_or_default())
            .map_err(|e| error_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &e.to_string()))?;
        if matches!(
            operation_type(&parsed),
            Some(OperationType::Mutation | OperationType::Subscription)
        ) {
            let mut resp = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "mutations must be sent with POST",
            );
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return Err(resp);
        }
        return Ok(parsed);
    }
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match mime.as_deref() {
        Some(JSON) | Some(GRAPHQL_RESPONSE) => {}
        Some(MULTIPART) => {
            let content_type = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            return parse_multipart(req, content_type, max_file).await;
        }
        None => {
            return Err(error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "missing Content-Type; send application/json",
            ));
        }
        Some(_) => {
            return Err(error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send application/json (or multipart/form-data for uploads)",
            ));
        }
    }
    parse_json(req).await
}

/// A JSON body, at most `MAX_BODY` bytes.
async fn parse_json(req: Request) -> Result<async_graphql::Request, Response> {
    let bytes: Bytes = to_bytes(req.into_body(), MAX_BODY).await.map_err(|_| {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "request body too large",
        )
    })?;
    let not_a_request = |why: &str| {
        error_response(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("request body is not a GraphQL request: {why}"),
        )
    };
    // Read in one pass into the request's parts (through a JSON value first, the body was
    // parsed twice); only an object is a request, which a struct would also read from an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(not_a_request("expected a JSON object"));
    }
    let wire: WireRequest =
        serde_json::from_slice(&bytes).map_err(|e| not_a_request(&e.to_string()))?;
    // A body without `query` (a misspelt key, say) is a malformed request, not an empty
    // document (GraphQL over HTTP §"Request Parameters"); a persisted query may omit it.
    let persisted = wire
        .extensions
        .get("persistedQuery")
        .is_some_and(|v| *v != async_graphql::Value::Null);
    let query = match wire.query {
        Some(serde_json::Value::String(q)) => q,
        None if persisted => String::new(),
        _ => return Err(not_a_request("`query` must be a string")),
    };
    let mut req = async_graphql::Request::new(query).variables(wire.variables);
    req.operation_name = wire.operation_name;
    req.extensions = wire.extensions;
    Ok(req)
}

/// A GraphQL-over-HTTP request body, as `async_graphql::Request` reads one, but with `query`
/// kept as sent, so that a missing or non-string one is told apart.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireRequest {
    #[serde(default)]
    query: Option<serde_json::Value>,
    #[serde(default)]
    operation_name: Option<String>,
    #[serde(default)]
    variables: async_graphql::Variables,
    #[serde(default)]
    extensions: async_graphql::Extensions,
}
