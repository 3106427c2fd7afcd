//! GraphQL over HTTP. Written out instead of the stock service because the stock one executes
//! mutations over GET, accepts CORS-simple content types and ignores `Accept`
//! (research/graphql.md §2.10).
use async_graphql::http::{MultipartOptions, parse_query_string, receive_body};
use async_graphql::parser::parse_query;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use futures_util::TryStreamExt;

use crate::audit::{AccessLog, Outcome};
use crate::auth::Operation;
use crate::cache::CacheKind;
use crate::graphql::{MAX_ALIASES, MAX_DUPLICATE_FIELDS, request_loader};
use crate::http::answers::{self, Accounting};
use crate::http::authn::{
    Attempt, audit_unavailable, authenticate_before_lookup, bearer, check_bearer, request_id,
};
use crate::http::error::{JSON, error_response};
use crate::http::{HttpState, MAX_BODY, UPLOAD_OVERHEAD};
use crate::images::access::Requester;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const MULTIPART: &str = "multipart/form-data";
/// Headers a browser cannot send cross-site without a CORS preflight; one must come with a
/// multipart (upload) request, which is otherwise a CORS-simple request (research/graphql.md §2.10).
const PREFLIGHT_HEADERS: [&str; 3] = [
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
];

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
/// checked by `handle`: each file capped at the image limit while it streams.
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

/// Whether the request's body is `multipart/form-data`.
fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(MULTIPART))
}

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

/// A request refused before execution: status, code, message.
type Refusal = (StatusCode, &'static str, &'static str);

/// Largest document registered as an automatic persisted query (a larger one still runs).
const MAX_APQ_DOCUMENT: usize = 64 * 1024;

/// What a persisted-query extension made of a request.
#[derive(Debug, Default)]
struct Persisted {
    /// The document is in the trusted-documents manifest.
    trusted: bool,
    /// An automatic persisted query to register once the caller is authenticated: (hash, text).
    register: Option<(String, String)>,
}

/// Apollo's persisted-query protocol (v1): a hash from the trusted-documents manifest supplies
/// (or vouches for) the document; any other hash is an automatic persisted query, looked up in
/// the cache (Redis when configured, so every instance shares them) or, sent with its document,
/// registered. Only manifest documents are trusted: a registered one is not. Unknown hashes
/// without a document get `PERSISTED_QUERY_NOT_FOUND` (200, as Apollo clients expect).
async fn resolve_persisted(
    req: &mut async_graphql::Request,
    cache: &crate::cache::Cache,
) -> Result<Persisted, Refusal> {
    let Some(pq) = req.extensions.get("persistedQuery") else {
        return Ok(Persisted::default());
    };
    let pq = pq.clone().into_json().ok();
    let hash = pq.as_ref().and_then(|v| {
        v.get("sha256Hash")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    });
    let Some(hash) = hash else {
        return Err((
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "extensions.persistedQuery needs a sha256Hash",
        ));
    };
    if pq
        .as_ref()
        .and_then(|v| v.get("version"))
        .is_some_and(|v| v.as_i64() != Some(1))
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "only version 1 of the persisted-query protocol is supported",
        ));
    }
    if !req.query.is_empty() && !crate::persisted::hash(&req.query).eq_ignore_ascii_case(&hash) {
        return Err((
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_HASH_MISMATCH",
            "the document's SHA-256 is not extensions.persistedQuery.sha256Hash",
        ));
    }
    req.extensions.remove("persistedQuery");
    if let Some(doc) = crate::persisted::find(&hash) {
        req.query = doc.body.to_owned();
        return Ok(Persisted {
            trusted: true,
            register: None,
        });
    }
    if !req.query.is_empty() {
        let register = (req.query.len() <= MAX_APQ_DOCUMENT).then(|| (hash, req.query.clone()));
        return Ok(Persisted {
            trusted: false,
            register,
        });
    }
    let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    match valid_hash.then_some(()) {
        Some(()) => match cache.apq_get(&hash).await {
            Some(doc) => {
                req.query = doc;
                Ok(Persisted::default())
            }
            None => Err(not_found()),
        },
        None => Err(not_found()),
    }
}

fn not_found() -> Refusal {
    (
        StatusCode::OK,
        "PERSISTED_QUERY_NOT_FOUND",
        "PersistedQueryNotFound: send the document with its hash to register it",
    )
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

/// `GET`/`POST /graphql`: authenticate, execute, audit.
pub async fn handle(State(s): State<HttpState>, req: Request) -> Response {
    let started = std::time::Instant::now();
    let request_id = request_id(req.headers());
    let client_addr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let token = bearer(req.headers());
    let graphql_response = wants_graphql_response(req.headers());
    // A multipart body is an upload, spooled to disk as it is read: only a writer's token gets
    // that far (the document inside it is checked again once read).
    if is_multipart(req.headers()) {
        if let Some(resp) = without_preflight(req.headers()) {
            return resp;
        }
        let uploader = Requester {
            request_id: Some(request_id.clone()),
            client_addr: client_addr.clone(),
            ..Requester::default()
        };
        let attempt = Attempt {
            operation: Some("POST /graphql (multipart upload)".into()),
            op: Operation::Write,
            trusted: true,
            anonymous_ok: false,
        };
        if let Err(resp) = check_bearer(&s, token.clone(), &uploader, &attempt).await {
            return resp;
        }
    }
    let mut gql_req = match parse_request(req, s.app.images.max_bytes).await {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if let Err(resp) =
        authenticate_before_lookup(&s, &gql_req, &token, &request_id, &client_addr).await
    {
        return resp;
    }
    let persisted = match resolve_persisted(&mut gql_req, &s.app.cache).await {
        Ok(p) => p,
        Err((status, code, message)) => return error_response(status, code, message),
    };
    let trusted = persisted.trusted;
    // Parsed once per text in the process; a whole-answer hit never needs the document, and
    // execution is handed a copy of the parse.
    let parsed = s
        .documents
        .get(&gql_req.query, gql_req.operation_name.as_deref());
    let info = parsed.as_ref().and_then(|p| p.info.clone());
    let op_label = crate::metrics::operation_label(
        gql_req
            .operation_name
            .as_deref()
            .or(info.as_ref().and_then(|i| i.name.as_deref())),
        &gql_req.query,
        trusted,
    );
    let operation = info
        .as_ref()
        .map(|i| i.describe(gql_req.operation_name.as_deref()));
    if let Some(i) = &info
        && i.aliases > MAX_ALIASES
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            "GRAPHQL_VALIDATION",
            &format!("at most {MAX_ALIASES} aliases per request"),
        );
    }
    if let Some(i) = &info
        && i.duplicates > MAX_DUPLICATE_FIELDS
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            "GRAPHQL_VALIDATION",
            &format!("at most {MAX_DUPLICATE_FIELDS} repeated fields per request"),
        );
    }
    if s.app.auth.config.production
        && let Some(i) = &info
        && i.introspects()
    {
        return error_response(
            StatusCode::BAD_REQUEST,
            "GRAPHQL_VALIDATION",
            "introspection is disabled",
        );
    }
    let op = match info.as_ref().map(|i| i.op) {
        Some(OperationType::Mutation) => Operation::Write,
        _ => Operation::Read,
    };
    let log = Arc::new(AccessLog::default());
    let mut who = Requester {
        caller: None,
        link_user: None,
        log: Some(log.clone()),
        request_id: Some(request_id),
        client_addr,
    };
    let attempt = Attempt {
        operation: operation.clone(),
        op,
        trusted,
        // Anonymous callers get `__typename` only; a document that does not parse cannot
        // reach data and gets its parse error from execution.
        anonymous_ok: info.as_ref().is_none_or(|i| i.typename_only()),
    };
    who.caller = match check_bearer(&s, token, &who, &attempt).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let caller = who.caller.clone();
    // Registered only for authenticated callers, so anonymous clients cannot fill the store.
    if let Some((hash, document)) = &persisted.register
        && caller.is_some()
    {
        s.app.cache.apq_put(hash, document).await;
    }
    let record = |event: &str, outcome: Outcome| {
        let mut rec = who.record(event, outcome);
        rec.operation = operation.clone();
        rec
    };
    let mutation = op == Operation::Write;
    let reference_only = info.as_ref().is_some_and(|i| i.reference_only());
    let content_type = if graphql_response {
        GRAPHQL_RESPONSE
    } else {
        JSON
    };
    // The request's one view of the cache: the whole answer and, on a miss, the rows it needs are
    // read under the same generation.
    let request_cache =
        (!mutation && s.app.cache.caches_answers()).then(|| Arc::new(s.app.cache.for_request()));
    // A query whose answer may be reused is looked up whole first (`http::answers`).
    let reuse = match (&caller, &info, &request_cache) {
        (Some(c), Some(i), Some(rc)) if i.reusable() => {
            answers::key(&gql_req, c, s.app.search.cursor()).map(|k| (rc.clone(), k))
        }
        _ => None,
    };
    if let (Some((rc, key)), Some(c)) = (&reuse, &caller)
        && let Some(entry) = rc.get_first_raw(CacheKind::Answer, key).await
        && let Some((hit, body)) = answers::decode(&entry)
        && s.app.auth.limiter.charge(&c.token_id, hit.cost)
    {
        if !reference_only || !hit.objects.is_empty() {
            let mut rec = record("graphql.query", Outcome::Allowed);
            rec.object_ids = hit.objects;
            rec.fields = hit.fields;
            if s.app.audit.append(rec).await.is_err() {
                return audit_unavailable();
            }
        }
        crate::metrics::graphql_request(
            op_label,
            "query",
            Outcome::Allowed.as_str(),
            started.elapsed(),
            &[],
        );
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type)],
            body.to_owned(),
        )
            .into_response();
    }
    if mutation {
        // Fail closed before writing anything: no audit, no write.
        let mut rec = record("graphql.mutation.start", Outcome::Allowed);
        rec.detail = Some("started".into());
        if s.app.audit.append(rec).await.is_err() {
            return audit_unavailable();
        }
    }
    if let Some(p) = parsed {
        gql_req.set_parsed_query(p.doc.clone());
    }
    let mut gql_req = gql_req
        .data(request_loader(&s.app, log.clone(), request_cache))
        .data(log.clone());
    if let Some(c) = caller.clone() {
        gql_req = gql_req.data(c);
    }
    gql_req = gql_req.data(who.clone());
    let mut resp = s.schema.execute(gql_req).await;
    if mutation {
        // After the write committed and before the client hears of it: every instance's next
        // read misses (a failed mutation may have written part of its work, so it counts too).
        s.app.cache.invalidate().await;
    }
    // Request errors (parse, validation, variable coercion) leave `data` absent; with the
    // GraphQL response media type they are 400 (GraphQL over HTTP spec). A field error that
    // nulls a non-null root field also leaves `data` null, but it has a path and the request
    // was executed: that stays 200.
    let request_error = resp.data == async_graphql::Value::Null
        && resp.is_err()
        && resp.errors.iter().all(|e| e.path.is_empty());
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
    let (objects, fields) = log.snapshot();
    // Kept with a reusable answer, to be audited again when it is served again.
    let read = reuse.is_some().then(|| (objects.clone(), fields.clone()));
    if caller.is_some()
        && (mutation || !reference_only || outcome != Outcome::Allowed || !objects.is_empty())
    {
        let event = if mutation {
            "graphql.mutation"
        } else {
            "graphql.query"
        };
        let mut rec = record(event, outcome);
        rec.object_ids = objects;
        rec.fields = fields;
        if !codes.is_empty() {
            rec.detail = Some(format!("errors: {}", codes.join(",")));
        }
        if s.app.audit.append(rec).await.is_err() {
            // The data was read but cannot be accounted for: withhold it (CJIS AU-5).
            return audit_unavailable();
        }
    }
    crate::metrics::graphql_request(
        op_label,
        if mutation { "mutation" } else { "query" },
        outcome.as_str(),
        started.elapsed(),
        &codes,
    );
    let status = if rate_limited {
        StatusCode::TOO_MANY_REQUESTS
    } else if graphql_response && request_error {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    // Serialized straight from the response so fields keep the query's order.
    let body = if request_error {
        serde_json::to_string(&serde_json::json!({ "errors": resp.errors }))
    } else {
        serde_json::to_string(&resp)
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "serializing a GraphQL response");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            );
        }
    };
    if let (Some((rc, key)), Some((objects, fields))) = (reuse, read)
        && codes.is_empty()
        && let Some(ttl) = log.reusable_for(chrono::Utc::now())
        && let Some(entry) = answers::encode(
            &Accounting {
                objects,
                fields,
                cost: log.charged(),
            },
            &body,
        )
    {
        // Stored before the client hears of it, so its next request finds it.
        rc.put_raw(CacheKind::Answer, &key, entry, ttl).await;
    }
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}
