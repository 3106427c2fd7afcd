//! `POST /images` for scanner software, and the signed-link downloads `GET /images/{id}` and
//! `GET /images/{id}/preview`.
//!
//! Upload: `multipart/form-data` with a `file` field and either `orderId` (an existing order) or
//! `record` (JSON of `ImageOnlyOrderInput`, registering an image-only order); optional `kind`
//! (`ORDER`, `PROOF_OF_SERVICE`, `ATTACHMENT`, `TERMINATING_ORDER`). Answers 201 with the image.
use async_graphql::InputType;
use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use crate::audit::Outcome;
use crate::auth::Operation;
use crate::domain::ids::{self, Kind};
use crate::error::{AppError, AppResult};
use crate::graphql::inputs::ImageOnlyOrderInput;
use crate::http::HttpState;
use crate::http::authn::{audit_unavailable, authenticate, request_id};
use crate::http::error::{JSON, app_error, error_response};
use crate::http::range::{Wanted, wanted};
use crate::images::access::{ReadPath, Requester};
use crate::images::format::Format;
use crate::images::kind::ImageKind;
use crate::images::read;
use crate::images::signing::{LinkError, Purpose};
use crate::images::store::{original_key, preview_key};
use crate::images::upload::{self, Received, Stored};

/// Largest text field of an upload form (the `record` JSON).
const MAX_TEXT_FIELD: usize = 64 * 1024;

fn multipart_error(e: MultipartError, limit: u64) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge { limit }
    } else {
        AppError::invalid(
            "",
            format!("the multipart body is malformed: {}", e.body_text()),
        )
    }
}

async fn text_field(field: Field<'_>, name: &str, limit: u64) -> AppResult<String> {
    let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
    if bytes.len() > MAX_TEXT_FIELD {
        return Err(AppError::invalid(name, "field too long"));
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| AppError::invalid(name, "not UTF-8 text"))
}

/// `ORDER` (GraphQL spelling) or `order` (stored spelling).
fn parse_kind(s: &str) -> AppResult<ImageKind> {
    let lower = s.trim().to_ascii_lowercase();
    ImageKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_db() == lower)
        .ok_or_else(|| {
            AppError::invalid(
                "kind",
                "must be ORDER, PROOF_OF_SERVICE, ATTACHMENT or TERMINATING_ORDER",
            )
        })
}

fn parse_record(text: &str) -> AppResult<ImageOnlyOrderInput> {
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| AppError::invalid("record", format!("not JSON: {e}")))?;
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("record", e.to_string()))?;
    ImageOnlyOrderInput::parse(Some(value))
        .map_err(|e| AppError::invalid("record", e.into_server_error(Default::default()).message))
}

/// `POST /images`: needs a token that may write (read-only tokens are refused).
pub async fn upload(
    State(s): State<HttpState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if s.app.health.is_down() {
        return app_error(AppError::DatabaseUnavailable);
    }
    if s.app.space.is_full() {
        return app_error(AppError::StorageFull);
    }
    let who = match authenticate(&s, &headers, Some(client), "POST /images", Operation::Write).await
    {
        Ok(w) => w,
        Err(resp) => return resp,
    };
    // Fail closed before anything is stored: no audit, no upload.
    let mut start = who.record("image.upload.start", Outcome::Allowed);
    start.operation = Some("POST /images".into());
    if let Err(e) = s.app.audit.append(start).await {
        return audit_unavailable(&e);
    }
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(_) => {
            return error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send multipart/form-data with a file field and orderId or record",
            );
        }
    };
    match receive(&s, &who, &mut multipart).await {
        Ok((stored, order_gid)) => {
            s.app.search.wake();
            // An upload with a record registers an image-only order.
            s.app.cache.invalidate().await;
            let body = json!({ "image": image_json(&s, &stored, &who), "order": { "id": order_gid },
                               "deduplicated": stored.deduplicated });
            (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, JSON)],
                body.to_string(),
            )
                .into_response()
        }
        Err(e) => {
            let outcome = match e {
                AppError::Forbidden { .. } | AppError::Unauthenticated(_) => Outcome::Denied,
                _ => Outcome::Error,
            };
            let mut rec = who.record("image.upload", outcome);
            rec.operation = Some("POST /images".into());
            rec.detail = Some(e.code().to_owned());
            if let Err(e) = s.app.audit.append(rec).await {
                return audit_unavailable(&e);
            }
            app_error(e)
        }
    }
}

async fn receive(
    s: &HttpState,
    who: &Requester,
    multipart: &mut Multipart,
) -> AppResult<(Stored, String)> {
    let images = &s.app.images;
    let limit = images.max_bytes;
    let (mut order_id, mut record, mut kind, mut file) = (None, None, None, None::<Received>);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name().unwrap_or_default() {
            "orderId" => order_id = Some(text_field(field, "orderId", limit).await?),
            "record" => record = Some(text_field(field, "record", limit).await?),
            "kind" => kind = Some(parse_kind(&text_field(field, "kind", limit).await?)?),
            "file" => {
                if file.is_some() {
                    return Err(AppError::invalid("file", "send one file per request"));
                }
                let filename = field.file_name().map(str::to_owned);
                file = Some(upload::receive(images, Box::pin(field), filename.as_deref()).await?);
            }
            other => {
                return Err(AppError::invalid(
                    other,
                    "unknown field; send file, orderId or record, and kind",
                ));
            }
        }
    }
    let file = file.ok_or_else(|| AppError::invalid("file", "no file field"))?;
    let kind = kind.unwrap_or(ImageKind::Order);
    let db = &s.app.db;
    match (order_id, record) {
        (Some(gid), None) => {
            let stored = upload::attach(db, images, who, &gid, kind, file).await?;
            Ok((stored, gid))
        }
        (None, Some(text)) => {
            let input = parse_record(&text)?;
            let (id, stored) = upload::register(db, images, who, &input.into(), kind, file).await?;
            Ok((stored, ids::encode(Kind::Order, id)))
        }
        _ => Err(AppError::invalid(
            "orderId",
            "give orderId (an existing order) or record (an image-only order), not both",
        )),
    }
}

fn image_json(s: &HttpState, stored: &Stored, who: &Requester) -> serde_json::Value {
    let gid = ids::encode(Kind::Image, stored.image.id);
    let signer = &s.app.images.signer;
    let now = Utc::now();
    let (user, tokens) = (who.label(), who.link_tokens());
    let (user, tokens) = (user.as_str(), &tokens[..]);
    json!({
        "id": gid,
        "kind": stored.image.kind.to_ascii_uppercase(),
        "contentType": stored.blob.content_type,
        "pages": stored.blob.pages,
        "size": stored.blob.size,
        "sha256": stored.blob.sha256,
        "uploadedAt": stored.image.uploaded_at.to_rfc3339(),
        "uploadedBy": stored.image.uploaded_by,
        "url": signer.link(Purpose::Download, &gid, user, tokens, now),
        "previewUrl": stored.blob.preview_sha256.as_ref().map(|_| signer.link(Purpose::Preview, &gid, user, tokens, now)),
    })
}

/// The signed-link query.
#[derive(Debug, serde::Deserialize)]
pub struct Link {
    /// The user the link was issued to, hex.
    u: Option<String>,
    /// Revocation ids of the token the link was issued to, hex, joined by `.`.
    t: Option<String>,
    expires: Option<i64>,
    sig: Option<String>,
}

/// A refused link: status, code, message.
type Refusal = (StatusCode, &'static str, &'static str);

/// Checks the signed link (before, and apart from, the access gate): signature, expiry, and
/// that the token it was issued to is not revoked; returns the image's id and the user the link
/// was issued to.
async fn check_link(
    s: &HttpState,
    purpose: Purpose,
    gid: &str,
    link: &Link,
) -> Result<(i32, String), Refusal> {
    let (Some(user_hex), Some(expires), Some(sig)) =
        (link.u.as_deref(), link.expires, link.sig.as_deref())
    else {
        return Err((
            StatusCode::FORBIDDEN,
            "LINK_INVALID",
            "images are read through signed links from Order.images",
        ));
    };
    let tokens = link.t.as_deref().unwrap_or_default();
    let issued =
        match s
            .app
            .images
            .signer
            .check(purpose, gid, user_hex, tokens, expires, sig, Utc::now())
        {
            Ok(issued) => issued,
            Err(LinkError::Expired) => {
                return Err((
                    StatusCode::FORBIDDEN,
                    "LINK_EXPIRED",
                    "the link has expired; ask Order.images for a new one",
                ));
            }
            Err(LinkError::BadSignature) => {
                return Err((
                    StatusCode::FORBIDDEN,
                    "LINK_INVALID",
                    "the link's signature is not valid",
                ));
            }
        };
    // A link dies with its token: revoked (logged out, lost, disabled) means no more bytes.
    match s.app.auth.any_revoked(&s.app.db, &issued.tokens).await {
        Ok(false) if !issued.tokens.is_empty() => {}
        Ok(_) => {
            return Err((
                StatusCode::FORBIDDEN,
                "LINK_REVOKED",
                "the token this link was issued to has been revoked",
            ));
        }
        Err(_) => {
            return Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "AUTHORIZER_LIMIT",
                "the revocation list cannot be read, so no link is honoured",
            ));
        }
    }
    let id = ids::decode("id", Kind::Image, gid)
        .map_err(|_| (StatusCode::NOT_FOUND, "NOT_FOUND", "image not found"))?;
    Ok((id, issued.user))
}

/// A signed link checked, then the image opened through the access gate under the link's user.
/// Refused links are audited too (CJIS AU-2: failed access attempts).
async fn open_link(
    s: &HttpState,
    purpose: Purpose,
    gid: &str,
    link: &Link,
    headers: &HeaderMap,
    client: SocketAddr,
) -> Result<read::Opened, Response> {
    let mut who = Requester {
        request_id: Some(request_id(headers)),
        client_addr: Some(client.ip().to_string()),
        ..Requester::default()
    };
    let operation = match purpose {
        Purpose::Download => format!("GET /images/{gid}"),
        Purpose::Preview => format!("GET /images/{gid}/preview"),
    };
    let (id, path) = match check_link(s, purpose, gid, link).await {
        Ok((id, user)) => {
            who.link_user = Some(user);
            let path = match purpose {
                Purpose::Download => ReadPath::Download,
                Purpose::Preview => ReadPath::Preview,
            };
            (id, path)
        }
        Err((status, code, message)) => {
            let mut rec = who.record("image.link_refused", Outcome::Denied);
            rec.operation = Some(operation);
            rec.detail = Some(code.to_owned());
            if let Err(e) = s.app.audit.append(rec).await {
                return Err(audit_unavailable(&e));
            }
            return Err(error_response(status, code, message));
        }
    };
    read::open(&s.app.db, &s.app.images, &who, id, path)
        .await
        .map_err(app_error)
}

/// `GET /images/{id}`: the file, whole or one byte range.
pub async fn download(
    State(s): State<HttpState>,
    Path(gid): Path<String>,
    Query(link): Query<Link>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let opened = match open_link(&s, Purpose::Download, &gid, &link, &headers, client).await {
        Ok(o) => o,
        Err(resp) => return resp,
    };
    let size = u64::try_from(opened.blob.size).unwrap_or(0);
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match wanted(range_header, size) {
        Wanted::Full => None,
        Wanted::Part(r) => Some(r),
        Wanted::Unsatisfiable => {
            let mut resp = error_response(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "RANGE_NOT_SATISFIABLE",
                "the range lies outside the file",
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return resp;
        }
    };
    let ext = Format::from_content_type(&opened.blob.content_type)
        .map(Format::extension)
        .unwrap_or("bin");
    let filename = format!(
        "order-{}-{}-{}.{ext}",
        opened.order.case_number_key, opened.image.kind, opened.image.id
    );
    send(
        &s,
        &original_key(&opened.blob.sha256),
        &opened.blob.content_type,
        &opened.blob.sha256,
        &filename,
        range,
    )
    .await
}

/// `GET /images/{id}/preview`: a PNG of the first page (raster images only).
pub async fn preview(
    State(s): State<HttpState>,
    Path(gid): Path<String>,
    Query(link): Query<Link>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let opened = match open_link(&s, Purpose::Preview, &gid, &link, &headers, client).await {
        Ok(o) => o,
        Err(resp) => return resp,
    };
    let Some(preview_sha) = &opened.blob.preview_sha256 else {
        return app_error(AppError::not_found("preview (PDFs have none)"));
    };
    let filename = format!(
        "order-{}-preview-{}.png",
        opened.order.case_number_key, opened.image.id
    );
    send(
        &s,
        &preview_key(&opened.blob.sha256),
        "image/png",
        preview_sha,
        &filename,
        None,
    )
    .await
}

/// Streams an object (or a range of it) with its headers.
async fn send(
    s: &HttpState,
    key: &object_store::path::Path,
    content_type: &str,
    etag: &str,
    filename: &str,
    range: Option<std::ops::Range<u64>>,
) -> Response {
    let partial = range.is_some();
    let fetched = match s.app.images.store.get(key, range).await {
        Ok(Some(f)) => f,
        Ok(None) => {
            return app_error(AppError::internal(anyhow::anyhow!(
                "object {key} is missing from the image store; run `ccpor images verify`"
            )));
        }
        Err(e) => return app_error(e),
    };
    let len = fetched.range.end - fetched.range.start;
    let mut resp = Body::from_stream(fetched.stream).into_response();
    *resp.status_mut() = if partial {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = resp.headers_mut();
    let mut set = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, content_type.to_owned());
    set(header::CONTENT_LENGTH, len.to_string());
    set(header::ACCEPT_RANGES, "bytes".to_owned());
    set(header::ETAG, format!("\"{etag}\""));
    set(header::CACHE_CONTROL, "private, no-store".to_owned());
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned());
    set(
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{filename}\""),
    );
    if partial {
        set(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                fetched.range.start,
                fetched.range.end.saturating_sub(1),
                fetched.size
            ),
        );
    }
    resp
}
