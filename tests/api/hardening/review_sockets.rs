//! Outside review (issue 22): WebSockets, uploads, image links and the audit anchor (items 6, 11, 12, 14, 17).
use ccpor::auth::Role;
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::{create, dv_tro, spawn_app};
use crate::subscriptions::{Subscriber, nexts, wait_for_subscriptions, ws_url};

/// Item 6. An LEA stream carried a restrained person's driver licence, and the event's audit row
/// named no person and no field: each delivered event's row must name the objects sent and the
/// confidential fields read, as `/graphql`'s rows do.
#[tokio::test]
async fn item_06_subscription_event_rows_name_the_persons_and_confidential_fields_sent() {
    let app = spawn_app().await;
    let officer = app.mint(Role::Lea, Some("CA0190000"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &officer,
        "subscription { orderEvents(kinds: [ISSUED]) { kind order { id parties { role person { id driverLicenseNumber } } } } }",
        json!({}),
        1,
    );
    wait_for_subscriptions(&app, 1).await;
    let mut input = dv_tro("26FL722006", 1);
    input["parties"][0]["person"]["driverLicenseNumber"] = json!("D1234567");
    input["parties"][0]["person"]["driverLicenseState"] = json!("CA");
    let (order, restrained, protected) = create(&app, input).await;
    let event = sub.next_event().await;
    let parties = &event["data"]["orderEvents"]["order"]["parties"];
    assert!(
        parties.to_string().contains("D1234567"),
        "the licence was sent: {event:#}"
    );
    let msgs = sub.messages().await;
    assert_eq!(nexts(&msgs).len(), 1, "{msgs:#?}");
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("graphql.subscription.event"))
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    for id in [&order, &restrained, &protected] {
        assert!(row.object_ids.contains(id.as_str()), "{id} in {row:#?}");
    }
    assert!(
        row.fields.contains("Person.driverLicenseNumber"),
        "the confidential field sent is named: {row:#?}"
    );
    assert_eq!(row.user_id.as_deref(), Some("lea-test"), "{row:#?}");
    assert!(
        row.operation
            .as_deref()
            .is_some_and(|o| o.contains("orderEvents(")),
        "{row:#?}"
    );
    assert!(
        row.detail.as_deref().is_some_and(|d| d.contains("event")),
        "{row:#?}"
    );
}

/// A PNG whose header claims 100,000 × 100,000 pixels (40 GB decoded) in a few dozen bytes:
/// the shape of a decompression bomb, refused by the decoder's limits.
fn bomb_png() -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffff_u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000_u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000_u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Sends the head of a `multipart/form-data` POST to /graphql declaring a body of 1 MB, and
/// only 200 bytes of it; returns the status line the server answers with, if it answers within
/// 5 s while the rest of the body is still owed.
async fn answer_to_unfinished_multipart(
    app: &crate::helpers::TestApp,
    token: Option<&str>,
) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n\
         apollo-require-preflight: true\r\n{auth}Content-Length: 1000000\r\n\r\n",
        app.addr
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let part = "--XyZ\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n\
                {\"query\":\"mutation($f: Upload!) { uploadOrderImage(orderId: \\\"x\\\", file: $f) { deduplicated } }\",\"variables\":{\"f\":null}}\r\n";
    sock.write_all(&part.as_bytes()[..200.min(part.len())])
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf))
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().map(str::to_owned)
}

/// Item 11. A GraphQL multipart body was read (and its file spooled to disk) before the token
/// was looked at, and an image was decoded before the upload was authorized: anonymous or
/// read-only callers made the server read and store their bodies, and anyone with a write token
/// could make it decode a crafted image for an order they may not touch.
#[tokio::test]
async fn item_11_uploads_are_authorized_before_the_body_is_read_or_the_image_decoded() {
    use ccpor::auth::token::{Narrowing, attenuate};
    let app = spawn_app().await;
    // Answered at once, with the body still owed: it was never waited for.
    let status = answer_to_unfinished_multipart(&app, None).await;
    assert!(
        status.as_deref().is_some_and(|s| s.contains(" 401 ")),
        "anonymous: {status:?}"
    );
    let read_only = attenuate(
        &app.mint(Role::Clerk, Some("SC19")),
        &Narrowing {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let status = answer_to_unfinished_multipart(&app, Some(&read_only)).await;
    assert!(
        status.as_deref().is_some_and(|s| s.contains(" 403 ")),
        "read-only: {status:?}"
    );
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Operation.eq("POST /graphql (multipart upload)"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "both refusals audited: {rows:#?}");

    // A clerk of another court sends a bomb to an SC19 order: refused for who they are, before
    // the decoder sees it; the clerk of the court gets the image refused for what it is.
    let (order, _, _) = create(&app, dv_tro("26FL722011", 1)).await;
    let outsider = crate::helpers::client_with(&app.mint(Role::Clerk, Some("SC38")));
    let (status, body) = crate::images::post_image_with(
        &outsider,
        &app,
        &[("orderId", order.clone())],
        "bomb.png",
        bomb_png(),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    let (status, body) =
        crate::images::post_image(&app, &[("orderId", order.clone())], "bomb.png", bomb_png())
            .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large")),
        "{body}"
    );
    crate::images::assert_nothing_stored(&app).await;
}

/// Runs `ws-raw.mjs` against `app` sending `send`, for up to `ms`; returns what it printed.
pub(crate) async fn raw_socket(
    app: &crate::helpers::TestApp,
    send: serde_json::Value,
    ms: u64,
) -> Vec<serde_json::Value> {
    raw_socket_padded(app, send, 0, ms).await
}

/// `raw_socket`, the first message's payload padded with `pad` bytes (`WS_PAD_BYTES`).
async fn raw_socket_padded(
    app: &crate::helpers::TestApp,
    send: serde_json::Value,
    pad: usize,
    ms: u64,
) -> Vec<serde_json::Value> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let out = tokio::process::Command::new("node")
        .arg("ws-raw.mjs")
        .arg(ws_url(app.addr))
        .arg(ms.to_string())
        .current_dir(&dir)
        .env("WS_SEND", send.to_string())
        .env("WS_PAD_BYTES", pad.to_string())
        .output()
        .await
        .expect("node must be installed for the WebSocket tests");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Item 12. A WebSocket could stay open forever without `connection_init`, and one socket could
/// open any number of subscriptions (each a broadcast receiver, a loader and a revocation check
/// per event): the socket is closed with 4408 when `connection_init` does not come in time, and
/// a socket runs a bounded number of subscriptions at once.
#[tokio::test]
async fn item_12_sockets_must_init_in_time_and_run_a_bounded_number_of_subscriptions() {
    let app = crate::helpers::spawn_app_with(ccpor::auth::AuthConfig {
        ws_init_timeout: std::time::Duration::from_secs(1),
        ws_max_subscriptions: 2,
        ..Default::default()
    })
    .await;
    let silent = raw_socket(&app, json!([]), 8000).await;
    let closed = silent
        .iter()
        .find(|m| m["type"] == "closed")
        .unwrap_or_else(|| panic!("not closed: {silent:#?}"));
    assert_eq!(closed["code"], 4408, "{silent:#?}");
    assert!(closed["ms"].as_u64().unwrap() < 4000, "{silent:#?}");

    let token = app.mint(Role::BenchOfficer, Some("SC19"));
    let sub = |id: &str| {
        json!({ "type": "subscribe", "id": id,
                "payload": { "query": "subscription { orderEvents { kind } }" } })
    };
    let msgs = raw_socket(
        &app,
        json!([
            { "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } },
            sub("1"), sub("2"), sub("3"),
            { "type": "complete", "id": "1" },
            sub("4"),
        ]),
        3000,
    )
    .await;
    let about = |id: &str| -> Vec<&serde_json::Value> {
        msgs.iter()
            .filter(|m| m["message"]["id"] == id)
            .map(|m| &m["message"])
            .collect()
    };
    let third = about("3");
    assert_eq!(
        third
            .first()
            .map(|m| &m["payload"]["errors"][0]["extensions"]["code"]),
        Some(&json!("TOO_MANY_SUBSCRIPTIONS")),
        "{msgs:#?}"
    );
    // The others run (no message until an event); the slot `complete` freed went to 4.
    for id in ["1", "2", "4"] {
        assert!(
            about(id).iter().all(|m| m["payload"]["errors"].is_null()),
            "{id}: {msgs:#?}"
        );
    }
}

/// Item 12 (message size). A WebSocket message could be as large as the transport's default
/// (64 MB), parsed whole as JSON, `connection_init` included, where `/graphql` takes 2 MB: a
/// message over the request body's bound now closes the socket unread, and one under it is
/// answered as usual.
#[tokio::test]
async fn item_12_a_socket_message_is_bounded_like_a_request_body() {
    let app = spawn_app().await;
    let token = app.mint(Role::BenchOfficer, Some("SC19"));
    let init = json!([{ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }]);
    let acked = |msgs: &[serde_json::Value]| {
        msgs.iter()
            .any(|m| m["message"]["type"] == "connection_ack")
    };
    let over = raw_socket_padded(&app, init.clone(), ccpor::http::MAX_BODY + 1, 8000).await;
    assert!(
        !acked(&over),
        "an oversized connection_init was read: {over:#?}"
    );
    assert!(
        over.iter().any(|m| m["type"] == "closed"),
        "the socket is closed: {over:#?}"
    );
    let under = raw_socket_padded(&app, init, 64 * 1024, 3000).await;
    assert!(acked(&under), "{under:#?}");
}

/// Item 14. A signed image link kept working after the token it was issued to was revoked:
/// the link carries the token's revocation ids, and a download through it is refused once the
/// token is revoked (`ccpor token revoke`).
#[tokio::test]
async fn item_14_a_signed_image_link_dies_with_its_token() {
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL722014", 1)).await;
    let token = app.mint(Role::Clerk, Some("SC19"));
    let (status, body) = crate::images::post_image_with(
        &crate::helpers::client_with(&token),
        &app,
        &[("orderId", order)],
        "order.pdf",
        crate::images::files::pdf(1, "item 14"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let url = body["image"]["url"].as_str().unwrap().to_owned();
    assert_eq!(crate::images::get(&app, &url, None).await.status(), 200);

    let out = crate::cli::ccpor()
        .args([
            "token",
            "revoke",
            "--token",
            &token,
            "--reason",
            "lost device",
        ])
        .env("DATABASE_URL", &app.database_url)
        .env_remove("CCPOR_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // In force everywhere within `STALE_AFTER` of the revocation, usually within `REFRESH`.
    let deadline = crate::helpers::revocation_deadline();
    let refused = loop {
        let resp = crate::images::get(&app, &url, None).await;
        if resp.status() != 200 || std::time::Instant::now() > deadline {
            break resp;
        }
        tokio::time::sleep(ccpor::auth::revocation::REFRESH / 4).await;
    };
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LINK_REVOKED",
        "{body}"
    );
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("image.link_refused"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.detail.as_deref() == Some("LINK_REVOKED")),
        "{rows:#?}"
    );
}

/// Item 17. The audit hash chain had no key: whoever could write the database could rewrite a
/// row and recompute every hash after it, and `audit verify` found nothing. The writer keeps
/// the head signed outside the database, and `audit verify` checks it.
#[tokio::test]
async fn item_17_a_rewritten_and_rechained_audit_row_is_found_by_its_anchor() {
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
    let app = spawn_app().await;
    let (order, _, _) = create(&app, dv_tro("26FL722017", 1)).await;
    for _ in 0..3 {
        app.data(
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": order }),
        )
        .await;
    }
    let last = app.count("audit_event").await;
    // The writer signs the head at most a second behind.
    let checkpoint = app.data_dir().join(ccpor::audit::anchor::CHECKPOINT_FILE);
    for _ in 0..100 {
        let seq = std::fs::read(&checkpoint)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["seq"].as_i64());
        if seq == Some(last) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let verify = |code: i32| {
        let out = crate::cli::ccpor()
            .args(["audit", "verify"])
            .env("DATABASE_URL", &app.database_url)
            .env("CCPOR_DATA_DIR", app.data_dir())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let out = verify(0);
    assert!(out.contains(&format!("anchored up to row {last}")), "{out}");

    // An attacker with the database: past the triggers, row 2 now says someone else read it,
    // and the plain chain is recomputed from there to the head.
    let disable: &[&str] = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            &["ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"]
        }
        _ => &[
            "DROP TRIGGER audit_event_no_update",
            "DROP TRIGGER audit_event_no_delete",
        ],
    };
    for sql in disable {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let rows = audit_event::Entity::find()
        .order_by_asc(audit_event::Column::Seq)
        .all(&app.db)
        .await
        .unwrap();
    let mut prev = rows[0].hash.clone();
    for mut row in rows.into_iter().skip(1) {
        if row.seq == 2 {
            row.user_id = Some("somebody-else".into());
        }
        row.prev_hash = prev;
        row.hash = ccpor::audit::chain::row_hash(&row);
        prev = row.hash.clone();
        let mut active: audit_event::ActiveModel = row.clone().into();
        active.user_id = Set(row.user_id.clone());
        active.prev_hash = Set(row.prev_hash.clone());
        active.hash = Set(row.hash.clone());
        active.update(&app.db).await.unwrap();
    }
    app.db
        .execute_unprepared(&format!(
            "UPDATE audit_head SET last_hash = '{prev}' WHERE id = 1"
        ))
        .await
        .unwrap();
    let plain = ccpor::audit::verify(&app.db).await.unwrap();
    assert_eq!(plain.first_bad, None, "the plain chain alone is fooled");
    let out = verify(4);
    assert!(out.contains("BROKEN"), "{out}");
    assert!(out.contains(&format!("row {last}")), "{out}");
}
