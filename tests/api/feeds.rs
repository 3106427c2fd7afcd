//! `POST /feeds/v1/messages` (issue 24): resent batches are recognised, messages wait for their
//! predecessors, a cut connection or two servers at once store every order once, and a feed
//! token speaks for its own court only.
use std::io::Write;
use std::net::SocketAddr;

use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, dv_tro, error_code, spawn_app, spawn_peer};

/// A DV-110 of SC19 (or `court`) as a feed's `order`.
fn order(case: &str, court: &str) -> Value {
    let mut o = dv_tro(case, 1);
    o["courtCode"] = json!(court);
    o
}

pub(crate) fn issue(mid: &str, ext: &str, court: &str) -> String {
    json!({ "messageId": mid, "externalId": ext, "sequence": 1, "action": "ISSUE",
            "order": order(&format!("26FL{ext}"), court) })
    .to_string()
}

/// The same order a day later with a longer stay-away distance.
pub(crate) fn modify(mid: &str, ext: &str, seq: i64) -> String {
    let mut o = order(&format!("26FL{ext}"), "SC19");
    let issued = chrono::Utc::now() - chrono::Duration::hours(2);
    o["issuedAt"] = json!(issued.to_rfc3339());
    o["conditions"]["stayAwayYards"] = json!(200);
    json!({ "messageId": mid, "externalId": ext, "sequence": seq, "action": "MODIFY", "order": o })
        .to_string()
}

pub(crate) fn batch(lines: &[String]) -> String {
    let mut b = lines.join("\n");
    b.push('\n');
    b
}

/// Posts a batch as `token` and returns the acknowledgements (asserting 200 and one per line).
pub(crate) async fn post(app: &TestApp, token: &str, body: &str) -> Vec<Value> {
    let resp = client_with(token)
        .post(app.url("/feeds/v1/messages"))
        .header("content-type", "application/x-ndjson")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = resp.status();
    if status != 200 {
        panic!("HTTP {status}: {}", resp.text().await.unwrap_or_default());
    }
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = resp.text().await.expect("body");
    let acks: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("an NDJSON ack"))
        .collect();
    assert_eq!(
        acks.len(),
        body.lines().filter(|l| !l.trim().is_empty()).count()
    );
    acks
}

fn statuses(acks: &[Value]) -> Vec<&str> {
    acks.iter().map(|a| a["status"].as_str().unwrap()).collect()
}

pub(crate) fn feed_token(app: &TestApp) -> String {
    app.mint(Role::Feed, Some("SC19"))
}

#[tokio::test]
async fn the_same_batch_posted_twice_is_all_duplicate_the_second_time() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let lines: Vec<String> = (0..5)
        .map(|i| issue(&format!("m{i}"), &format!("{i:06}"), "SC19"))
        .chain(["{ not json".to_owned(), modify("m-mod", "000001", 2)])
        .collect();
    let body = batch(&lines);
    let first = post(&app, &token, &body).await;
    assert_eq!(
        statuses(&first),
        [
            "ACCEPTED", "ACCEPTED", "ACCEPTED", "ACCEPTED", "ACCEPTED", "REJECTED", "ACCEPTED"
        ]
    );
    // A bad line costs only itself, and says why.
    assert_eq!(first[5]["errors"][0]["path"], "");
    assert!(first[0]["orderId"].as_str().is_some());
    assert_eq!(first[6]["messageId"], "m-mod");
    let orders = app.count("protective_order").await;
    assert_eq!(orders, 6, "five issued, one modification");
    let second = post(&app, &token, &body).await;
    assert_eq!(
        statuses(&second),
        [
            "DUPLICATE",
            "DUPLICATE",
            "DUPLICATE",
            "DUPLICATE",
            "DUPLICATE",
            "REJECTED",
            "DUPLICATE"
        ]
    );
    assert_eq!(second[0]["orderId"], first[0]["orderId"]);
    assert_eq!(app.count("protective_order").await, orders);
    assert_eq!(app.count("feed_message").await, 6);
    // The same messageId with other content is refused and stores nothing.
    let reused = post(&app, &token, &batch(&[issue("m0", "999999", "SC19")])).await;
    assert_eq!(statuses(&reused), ["REJECTED"]);
    assert_eq!(reused[0]["errors"][0]["path"], "messageId");
    assert_eq!(app.count("protective_order").await, orders);
    // Every message was audited.
    assert_eq!(
        audit_count(&app, "feed.message", None).await,
        7 + 7 + 1,
        "one audit row per message"
    );
}

#[tokio::test]
async fn a_modify_before_its_issue_waits_and_is_applied_when_the_issue_arrives() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let m2 = modify("m2", "ABC1", 2);
    let early = post(&app, &token, &batch(std::slice::from_ref(&m2))).await;
    assert_eq!(statuses(&early), ["DEFERRED"]);
    assert_eq!(app.count("protective_order").await, 0);
    assert_eq!(app.count("feed_deferred").await, 1);
    let late = post(&app, &token, &batch(&[issue("m1", "ABC1", "SC19")])).await;
    assert_eq!(statuses(&late), ["ACCEPTED"]);
    // Both applied: the issued order and its modification, which now heads the chain.
    assert_eq!(app.count("protective_order").await, 2);
    assert_eq!(app.count("feed_deferred").await, 0);
    let head = app
        .data(
            "query($id: ID!) { order(id: $id) { status supersededBy { conditions { stayAwayYards } } } }",
            json!({ "id": late[0]["orderId"] }),
        )
        .await;
    assert_eq!(head["order"]["status"], "SUPERSEDED", "{head:#}");
    assert_eq!(
        head["order"]["supersededBy"]["conditions"]["stayAwayYards"],
        200
    );
    // The deferred message, resent, is a duplicate; a sequence already applied is refused.
    let again = post(&app, &token, &batch(&[m2, modify("m2b", "ABC1", 2)])).await;
    assert_eq!(statuses(&again), ["DUPLICATE", "REJECTED"]);
    // Service, then termination, named by externalId only.
    let served_at = (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339();
    let tail = post(
        &app,
        &token,
        &batch(&[
            json!({ "messageId": "m4", "externalId": "ABC1", "sequence": 4, "action": "TERMINATE",
                    "termination": { "terminatedAt": chrono::Utc::now().to_rfc3339(), "reason": "dismissed" } })
            .to_string(),
            json!({ "messageId": "m3", "externalId": "ABC1", "sequence": 3, "action": "SERVE",
                    "service": { "servedAt": served_at, "method": "PERSONAL" } })
            .to_string(),
        ]),
    )
    .await;
    assert_eq!(statuses(&tail), ["DEFERRED", "ACCEPTED"]);
    assert_eq!(app.count("service_record").await, 1);
    let chain_head = tail[1]["orderId"].clone();
    let ended = app
        .data(
            "query($id: ID!) { order(id: $id) { status } }",
            json!({ "id": chain_head }),
        )
        .await;
    assert_eq!(ended["order"]["status"], "TERMINATED");
}

#[tokio::test]
async fn a_batch_of_new_chains_is_stored_together_and_answered_as_line_by_line() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let bad = {
        let mut v: Value = serde_json::from_str(&issue("r-3", "R3", "SC19")).unwrap();
        v["order"]["parties"][0]["person"]["dob"] = json!("2999-01-01");
        v.to_string()
    };
    let r1 = issue("r-1", "R1", "SC19");
    let lines = [
        modify("r-m2", "R2", 2),    // waits for R2's ISSUE
        r1.clone(),                 // a run of new chains: R1 and R2 ...
        issue("r-2", "R2", "SC19"), // ... whose commit applies the waiting MODIFY
        bad,                        // refused alone, after the run
        issue("r-4", "R1", "SC19"), // R1 was issued (earlier in this batch)
        r1,                         // line 2 resent
        issue("r-5", "R5", "SC19"), // new, beside a resend
    ];
    let acks = post(&app, &token, &batch(&lines)).await;
    assert_eq!(
        statuses(&acks),
        [
            "DEFERRED",
            "ACCEPTED",
            "ACCEPTED",
            "REJECTED",
            "REJECTED",
            "DUPLICATE",
            "ACCEPTED"
        ],
        "{acks:#?}"
    );
    assert!(
        acks[3]["errors"][0]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("order.parties")),
        "{:#}",
        acks[3]
    );
    assert_eq!(acks[5]["orderId"], acks[1]["orderId"]);
    // R1, R2 and R2's modification, R5.
    assert_eq!(app.count("protective_order").await, 4);
    assert_eq!(app.count("feed_deferred").await, 0);
    assert_eq!(app.count("feed_chain").await, 3);
    // r-m2, r-1, r-2, r-5: a refused line or a resend stores no message.
    assert_eq!(app.count("feed_message").await, 4);
    // R1 and R2 went in one write (one instant); r-5, beside a resend, alone.
    let received = |mid: &'static str| {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let db = app.db.clone();
        async move {
            entities::feed_message::Entity::find()
                .filter(entities::feed_message::Column::MessageId.eq(mid))
                .one(&db)
                .await
                .expect("read")
                .expect("stored")
                .received_at
        }
    };
    assert_eq!(received("r-1").await, received("r-2").await);
    assert_ne!(received("r-2").await, received("r-5").await);
    let r2 = app
        .data(
            "query($id: ID!) { order(id: $id) { status externalId supersededBy { conditions { stayAwayYards } } } }",
            json!({ "id": acks[2]["orderId"] }),
        )
        .await;
    assert_eq!(r2["order"]["status"], "SUPERSEDED", "{r2:#}");
    assert_eq!(r2["order"]["externalId"], "R2");
    assert_eq!(
        r2["order"]["supersededBy"]["conditions"]["stayAwayYards"],
        200
    );
    assert_eq!(audit_count(&app, "feed.message", None).await, 7);
    // Each new order is transmitted to CARPOS and indexed as one entered alone would be.
    assert_eq!(app.count("carpos_transmission").await, 4);
}

/// Sends the request head and the first `send` bytes of `body` over a raw connection and drops it without reading the answer.
fn send_and_drop(addr: SocketAddr, token: &str, body: &str, send: usize, wait_ms: u64) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST /feeds/v1/messages HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
        addr,
        body.len()
    );
    s.write_all(head.as_bytes()).expect("head");
    s.write_all(&body.as_bytes()[..send]).expect("body");
    s.flush().expect("flush");
    std::thread::sleep(std::time::Duration::from_millis(wait_ms));
    s.shutdown(std::net::Shutdown::Both).ok();
    drop(s);
}

#[tokio::test]
async fn a_batch_cut_by_a_dropped_connection_and_resent_whole_stores_every_order_once() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let lines: Vec<String> = (0..40)
        .map(|i| issue(&format!("c{i}"), &format!("C{i:05}"), "SC19"))
        .collect();
    let body = batch(&lines);
    // Half a body, then the connection drops: nothing can be taken from it.
    let (b, t) = (body.clone(), token.clone());
    let app_addr = app.addr;
    let half = body.len() / 2;
    tokio::task::spawn_blocking(move || send_and_drop(app_addr, &t, &b, half, 100))
        .await
        .unwrap();
    // The whole body, then the connection drops before the answer: the batch goes on.
    let (b, t) = (body.clone(), token.clone());
    tokio::task::spawn_blocking(move || send_and_drop(app_addr, &t, &b, b.len(), 50))
        .await
        .unwrap();
    let acks = post(&app, &token, &body).await;
    for a in &acks {
        assert!(
            matches!(a["status"].as_str(), Some("ACCEPTED" | "DUPLICATE")),
            "{a}"
        );
    }
    assert_eq!(app.count("protective_order").await, 40);
    assert_eq!(app.count("feed_message").await, 40);
    let again = post(&app, &token, &body).await;
    assert!(statuses(&again).iter().all(|s| *s == "DUPLICATE"));
    assert_eq!(app.count("protective_order").await, 40);
}

#[tokio::test]
async fn two_servers_receiving_the_same_messages_at_once_store_every_order_once() {
    let a = spawn_app().await;
    let b = spawn_peer(&a).await;
    let token = feed_token(&a);
    let mut lines: Vec<String> = (0..30)
        .map(|i| issue(&format!("p{i}"), &format!("P{i:05}"), "SC19"))
        .collect();
    lines.extend((0..30).map(|i| modify(&format!("q{i}"), &format!("P{i:05}"), 2)));
    let body = batch(&lines);
    let (x, y) = tokio::join!(post(&a, &token, &body), post(&b, &token, &body));
    for (ax, ay) in x.iter().zip(&y) {
        let pair = [
            ax["status"].as_str().unwrap(),
            ay["status"].as_str().unwrap(),
        ];
        // Each message taken once; the other server saw it stored (or, for a MODIFY whose
        // ISSUE it had not yet seen stored, waiting).
        assert!(
            pair.contains(&"ACCEPTED") || pair.contains(&"DUPLICATE"),
            "{ax} {ay}"
        );
        assert!(!pair.contains(&"REJECTED"), "{ax} {ay}");
    }
    assert_eq!(a.count("feed_message").await, 60);
    assert_eq!(a.count("feed_chain").await, 30);
    assert_eq!(
        a.count("protective_order").await,
        60,
        "30 orders and 30 modifications"
    );
    assert_eq!(a.count("feed_deferred").await, 0);
}

async fn audit_count(app: &TestApp, event: &str, outcome: Option<&str>) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let mut q = entities::audit_event::Entity::find()
        .filter(entities::audit_event::Column::Event.eq(event));
    if let Some(o) = outcome {
        q = q.filter(entities::audit_event::Column::Outcome.eq(o));
    }
    i64::try_from(q.count(&app.db).await.expect("count")).unwrap()
}

#[tokio::test]
async fn a_feed_token_speaks_for_its_own_court_only_and_nowhere_else() {
    let app = spawn_app().await;
    let token = feed_token(&app);
    let acks = post(
        &app,
        &token,
        &batch(&[issue("x1", "X1", "SC01"), issue("x2", "X2", "SC19")]),
    )
    .await;
    assert_eq!(statuses(&acks), ["REJECTED", "ACCEPTED"]);
    assert_eq!(acks[0]["errors"][0]["path"], "order.courtCode");
    assert_eq!(app.count("protective_order").await, 1);
    assert_eq!(audit_count(&app, "feed.message", Some("denied")).await, 1);
    // The feed role gets nothing on /graphql.
    let body = app
        .gql_as(Some(&token), "{ courts { code } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    // Only a feed token sends feed messages.
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let resp = client_with(&clerk)
        .post(app.url("/feeds/v1/messages"))
        .header("content-type", "application/x-ndjson")
        .body(issue("x3", "X3", "SC19"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = reqwest::Client::new()
        .post(app.url("/feeds/v1/messages"))
        .header("content-type", "application/x-ndjson")
        .body(issue("x3", "X3", "SC19"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Not NDJSON; too many lines.
    let resp = client_with(&token)
        .post(app.url("/feeds/v1/messages"))
        .header("content-type", "application/json")
        .body(issue("x3", "X3", "SC19"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let many = "{}\n".repeat(ccpor::http::feeds::MAX_LINES + 1);
    let resp = client_with(&token)
        .post(app.url("/feeds/v1/messages"))
        .header("content-type", "application/x-ndjson")
        .body(many)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(app.count("protective_order").await, 1);
}

/// `ccpor import` takes the feed's message lines beside plain `CreateOrderInput` lines; a second
/// run of the same file stores nothing new.
#[tokio::test]
async fn an_import_of_message_lines_run_twice_stores_nothing_new() {
    let app = spawn_app().await;
    let file = app.data_dir().join("messages.ndjson");
    let lines = [
        modify("i2", "IMP1", 2),
        issue("i1", "IMP1", "SC19"),
        issue("i3", "IMP2", "SC19"),
        dv_tro("26FL880001", 2).to_string(),
        json!({ "messageId": "i4", "externalId": "IMP2", "sequence": 2, "action": "CANCEL",
                "courtCode": "SC19", "cancellation": { "reason": "entered in error" } })
        .to_string(),
        json!({ "messageId": "i5", "externalId": "IMP3", "sequence": 2, "action": "CANCEL",
                "cancellation": { "reason": "no court named" } })
        .to_string(),
    ];
    std::fs::write(&file, batch(&lines)).unwrap();
    let run = || {
        crate::cli::ccpor()
            .args(["import", file.to_str().unwrap()])
            .env("CCPOR_DATA_DIR", app.data_dir())
            .env("DATABASE_URL", &app.database_url)
            .env_remove("CCPOR_IMAGE_STORE")
            .output()
            .unwrap()
    };
    let out = run();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The MODIFY waits for its ISSUE (the next line) and is then applied.
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(
        said.contains("line 6: courtCode: required with CANCEL"),
        "{said}"
    );
    assert!(
        said.contains("imported 4 of 6 orders") && said.contains("1 deferred"),
        "{said}"
    );
    let orders = app.count("protective_order").await;
    assert_eq!(orders, 4, "three issued, one modification");
    assert_eq!(app.count("feed_deferred").await, 0);
    let out = run();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        said.contains("imported 0 of 6 orders") && said.contains("5 already present"),
        "{said}"
    );
    assert_eq!(app.count("protective_order").await, orders);
}
