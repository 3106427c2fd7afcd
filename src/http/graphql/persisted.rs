//! Stage `persisted`: a persisted-query hash resolved to its document (or vouching for the one
//! sent), and an automatic persisted query registered once its sender is authenticated.
use axum::http::StatusCode;
use axum::response::Response;

use super::Exchange;
use crate::http::HttpState;
use crate::http::error::error_response;

/// A request refused before execution: status, code, message.
type Refusal = (StatusCode, &'static str, &'static str);

/// Largest document registered as an automatic persisted query (a larger one still runs).
const MAX_APQ_DOCUMENT: usize = 64 * 1024;

/// What a persisted-query extension made of a request.
#[derive(Debug, Default)]
pub(super) struct Persisted {
    /// The document is in the trusted-documents manifest.
    pub(super) trusted: bool,
    /// An automatic persisted query to register once the caller is authenticated: (hash, text).
    register: Option<(String, String)>,
}

/// The request's document, from its persisted-query extension when it has one.
pub(super) async fn resolve(x: &mut Exchange, cache: &crate::cache::Cache) -> Result<(), Response> {
    x.persisted = resolve_persisted(&mut x.request, cache)
        .await
        .map_err(|(status, code, message)| error_response(status, code, message))?;
    Ok(())
}

/// Registered only for authenticated callers, so anonymous clients cannot fill the store; only
/// a document that parses (an unparsable one is never charged to the token's query budget);
/// and only within the token's `APQ_KIB_PER_HOUR` (past it the document runs, unkept).
pub(super) async fn register(x: &Exchange, s: &HttpState) {
    if let Some((hash, document)) = &x.persisted.register
        && let Some(caller) = &x.who.caller
        && x.parsed.is_some()
        && s.app
            .auth
            .apq_limiter
            .charge(&caller.token_id, document.len().div_ceil(1024))
    {
        s.app.cache.apq_put(hash, document).await;
    }
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
    if !req.query.is_empty()
        && !crate::contract::persisted::hash(&req.query).eq_ignore_ascii_case(&hash)
    {
        return Err((
            StatusCode::BAD_REQUEST,
            "PERSISTED_QUERY_HASH_MISMATCH",
            "the document's SHA-256 is not extensions.persistedQuery.sha256Hash",
        ));
    }
    req.extensions.remove("persistedQuery");
    if let Some(doc) = crate::contract::persisted::find(&hash) {
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
    registered(req, &hash, cache).await
}

/// An automatic persisted query sent as its hash alone: the document registered under it.
async fn registered(
    req: &mut async_graphql::Request,
    hash: &str,
    cache: &crate::cache::Cache,
) -> Result<Persisted, Refusal> {
    let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    match valid_hash.then_some(()) {
        Some(()) => match cache.apq_get(hash).await {
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
