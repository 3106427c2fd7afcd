//! Transmission to CARPOS end to end: the server's transmitter against the reference peer
//! (`ccpor carpos-sim`) as a separate process, over real sockets; the server itself as a real
//! process where it must die (SIGKILL between send and acknowledgement).
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ccpor::carpos::ledger::{Ledger, RecordStatus};
use ccpor::carpos::message::MessageKey;
use entities::carpos_transmission as tx;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};
use serde_json::json;

use crate::carpos_sim::Peer;
use crate::helpers::{TestApp, carpos_config, create, dv_tro, spawn_app, spawn_app_with_carpos};

const WAIT: Duration = Duration::from_secs(60);

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

/// Every transmission row, by chain and sequence.
async fn rows(db: &DatabaseConnection) -> Vec<tx::Model> {
    tx::Entity::find()
        .order_by_asc(tx::Column::ChainRootId)
        .order_by_asc(tx::Column::Seq)
        .all(db)
        .await
        .unwrap()
}

/// Waits until `n` rows exist and all are in `state`; returns them.
async fn wait_for(db: &DatabaseConnection, n: usize, state: &str) -> Vec<tx::Model> {
    let start = Instant::now();
    loop {
        let all = rows(db).await;
        if all.len() == n && all.iter().all(|r| r.state == state) {
            return all;
        }
        assert!(
            start.elapsed() < WAIT,
            "not all {n} rows {state}: {:#?}",
            all.iter()
                .map(|r| (&r.message_key, &r.state, &r.error))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn audit_rows(app: &TestApp, event: &str) -> i64 {
    app.count(&format!("audit_event WHERE event = '{event}'"))
        .await
}

/// Messages the peer applied (its journal holds one line per message applied; a replay of an
/// answered idempotency key is not applied again).
fn applied(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("carpos-sim.jsonl"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[tokio::test]
async fn a_dv_chain_goes_out_in_order_under_one_fcn() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    let (tro, _, _) = create(&app, dv_tro("25FL300001", 3)).await;
    let modify = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id } } }";
    let d = app
        .data(modify, json!({ "i": { "orderId": tro, "issuedAt": days(-2), "formNumber": "DV-130", "expiresAt": days(365), "reason": "Order after hearing" } }))
        .await;
    let oah = d["modifyOrder"]["order"]["id"].clone();
    let serve = "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }";
    app.data(serve, json!({ "i": { "orderId": oah, "servedAt": days(-1), "method": "PERSONAL", "serverName": "Deputy Synthetic" } }))
        .await;
    let d = app
        .data(modify, json!({ "i": { "orderId": oah, "issuedAt": days(-1), "expiresAt": days(700), "reason": "Stay-away extended" } }))
        .await;
    let modified = d["modifyOrder"]["order"]["id"].clone();
    let term = "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { id } } }";
    app.data(
        term,
        json!({ "i": { "orderId": modified, "terminatedAt": days(0) } }),
    )
    .await;

    let all = wait_for(&app.db, 5, "acknowledged").await;
    let got: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r.trigger.as_str(), r.message_key.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("issue_temporary", "ETO"),
            ("order_after_hearing", "MPO"),
            ("service", "MPO"),
            ("modification", "MPO"),
            ("termination", "CPO"),
        ]
    );
    let fcn = all[0].fcn.clone().unwrap();
    assert!(all.iter().all(|r| r.fcn.as_deref() == Some(fcn.as_str())));
    assert!(
        all.iter()
            .all(|r| r.attempts == 1 && r.due_by > r.queued_at)
    );
    // One record at the peer, entered as temporary, modified, cleared.
    let ledger = Ledger::read(peer_dir.path()).unwrap();
    let records: Vec<_> = ledger.records().collect();
    assert_eq!(records.len(), 1);
    let (peer_fcn, record) = records[0];
    assert_eq!(peer_fcn.as_str(), fcn);
    assert_eq!(record.entered_as, MessageKey::EnterTemporary);
    assert_eq!(record.status, RecordStatus::Cleared);
    assert_eq!(applied(peer_dir.path()), 5);
    // Every send and every acknowledgement is in the audit log.
    assert_eq!(audit_rows(&app, "carpos.send").await, 5);
    assert_eq!(audit_rows(&app, "carpos.ack").await, 5);
}

#[tokio::test]
async fn messages_queue_while_the_peer_is_down_and_drain_when_it_returns() {
    // A port with nothing listening (yet).
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let app = spawn_app_with_carpos(carpos_config(&addr), None).await;
    for i in 0..3 {
        create(&app, dv_tro(&format!("25FL30010{i}"), 2)).await;
    }
    // Tried and failed, to be retried.
    let start = Instant::now();
    while !rows(&app.db)
        .await
        .iter()
        .all(|r| r.state == "retrying" && r.attempts >= 1)
    {
        assert!(start.elapsed() < WAIT, "{:#?}", rows(&app.db).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rows(&app.db).await.iter().all(|r| r.error.is_some()));
    let peer_dir = tempfile::tempdir().unwrap();
    let _peer = Peer::start_on(&addr, peer_dir.path(), &[]);
    let all = wait_for(&app.db, 3, "acknowledged").await;
    assert!(all.iter().all(|r| r.error.is_none()));
    assert_eq!(Ledger::read(peer_dir.path()).unwrap().records().count(), 3);
    assert!(audit_rows(&app, "carpos.retry").await >= 3);
}

/// A pass whose answers take longer in all than one answer's wait, at a peer that answers each
/// within it: the whole pass is answered once. (One bound of the answer's wait for the whole
/// pass gave up on the later answers of every such pass and sent them again.)
#[tokio::test]
async fn a_slow_peer_answers_a_whole_pass_once() {
    let peer_dir = tempfile::tempdir().unwrap();
    // 40 answers 40 ms apart: 1.6 s in all, each well within the 1 s wait.
    let peer = Peer::start(peer_dir.path(), &["--answer-gap-ms", "40"]);
    const ORDERS: usize = 40;
    // Queued before any transmitter runs, so that one pass leases them all.
    let app = spawn_app().await;
    for i in 0..ORDERS {
        create(&app, dv_tro(&format!("25FL3009{i:02}"), 2)).await;
    }
    let mut cfg = carpos_config(&peer.addr);
    cfg.timeout = Duration::from_secs(1);
    let _transmitting = spawn_app_with_carpos(cfg, Some(&app)).await;
    let all = wait_for(&app.db, ORDERS, "acknowledged").await;
    assert!(
        all.iter().all(|r| r.attempts == 1),
        "sent more than once: {:?}",
        all.iter().map(|r| r.attempts).collect::<Vec<_>>()
    );
    assert_eq!(audit_rows(&app, "carpos.retry").await, 0);
    assert_eq!(audit_rows(&app, "carpos.send").await, ORDERS as i64);
    assert_eq!(applied(peer_dir.path()), ORDERS);
}

/// An entry complete when queued and incomplete by the time it is leased (its restrained
/// person's height and hair cleared since) is held, not sent: the lease that marked it sent
/// takes back its attempt and its send time, and no send is in the audit log.
#[tokio::test]
async fn an_entry_found_incomplete_at_send_time_is_held_unsent() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app().await;
    create(&app, dv_tro("25FL300950", 2)).await;
    assert_eq!(wait_for(&app.db, 1, "queued").await.len(), 1);
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(
            "UPDATE person SET height_inches = NULL, hair = NULL WHERE id IN \
             (SELECT person_id FROM order_party WHERE role = 'restrained')",
        )
        .await
        .unwrap();
    let _transmitting = spawn_app_with_carpos(carpos_config(&peer.addr), Some(&app)).await;
    let held = wait_for(&app.db, 1, "held_incomplete").await;
    assert_eq!(held[0].missing_fields.as_deref(), Some("HGT,HAI"));
    assert_eq!(held[0].attempts, 0, "{held:#?}");
    assert_eq!(held[0].sent_at, None, "{held:#?}");
    assert_eq!(held[0].lease_owner, None, "{held:#?}");
    assert_eq!(audit_rows(&app, "carpos.send").await, 0);
    assert_eq!(applied(peer_dir.path()), 0);
}

#[tokio::test]
async fn two_instances_on_one_database_send_each_message_once() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &["--delay-ms", "20"]);
    // Leases longer than any answer takes here: a second send would be a fault.
    let mut cfg = carpos_config(&peer.addr);
    cfg.lease = Duration::from_secs(30);
    cfg.timeout = Duration::from_secs(20);
    let a = spawn_app_with_carpos(cfg.clone(), None).await;
    let b = spawn_app_with_carpos(cfg, Some(&a)).await;
    const ORDERS: usize = 12;
    for i in 0..ORDERS {
        let app = if i % 2 == 0 { &a } else { &b };
        create(app, dv_tro(&format!("25FL3002{i:02}"), 2)).await;
    }
    let all = wait_for(&a.db, ORDERS, "acknowledged").await;
    assert!(all.iter().all(|r| r.attempts == 1));
    assert_eq!(audit_rows(&a, "carpos.send").await, ORDERS as i64);
    assert_eq!(applied(peer_dir.path()), ORDERS);
    assert_eq!(
        Ledger::read(peer_dir.path()).unwrap().records().count(),
        ORDERS
    );
}

/// A fresh database for processes: a SQLite file in `dir`, or a new PostgreSQL database when
/// `CCPOR_TEST_POSTGRES_URL` is set.
pub(crate) async fn fresh_database(dir: &Path) -> String {
    match std::env::var("CCPOR_TEST_POSTGRES_URL") {
        Err(_) => format!("sqlite://{}?mode=rwc", dir.join("ccpor.db").display()),
        Ok(base) => {
            use sea_orm::ConnectionTrait;
            let name = format!("ccpor_test_{}", uuid::Uuid::new_v4().simple());
            let (admin, _) = ccpor::db::connect(&base).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
    }
}

pub(crate) fn ccpor(dir: &Path, url: &str) -> Command {
    let mut cmd = crate::cli::ccpor();
    cmd.arg("--data-dir").arg(dir).args(["--database-url", url]);
    cmd
}

/// A server process that is killed when dropped, so a failing test leaves none running.
struct Server(Child);

impl Server {
    fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }

    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `ccpor serve` transmitting to `peer`, its output discarded.
fn serve(dir: &Path, url: &str, peer: &str, lease_secs: &str) -> Server {
    let child = ccpor(dir, url)
        .args(["serve", "--addr", "127.0.0.1:0", "--carpos-addr", peer])
        .args([
            "--carpos-lease-secs",
            lease_secs,
            "--carpos-timeout-secs",
            "8",
            // A pass holds its rows for the answers' deadline of a full pass (50 ms a row more
            // than the timeout) and the lease: passes of 4, so that a restarted server takes
            // over the dead one's rows in ~10 s, not in the default pass's minute.
            "--carpos-batch",
            "4",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server(child)
}

#[tokio::test]
async fn a_server_killed_between_send_and_answer_makes_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(dir.path()).await;
    // Orders come in by import, and queue (no transmitter runs yet).
    let file = dir.path().join("orders.ndjson");
    let lines: Vec<String> = (0..3)
        .map(|i| dv_tro(&format!("25FL30030{i}"), 2).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = ccpor(dir.path(), &url)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = ccpor(dir.path(), &url)
        .args(["keys", "generate"])
        .output()
        .unwrap();
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    assert_eq!(wait_for(&db, 3, "queued").await.len(), 3);

    // The peer answers 5 s after deciding, longer than the 2 s lease: a sent row stays its
    // worker's until the answers' timeout, or the server's second worker would take it and send
    // it again while the first still waits (each stealing from the other, none finishing). The
    // server dies while it waits. A row is `sent` just
    // before its message is written to the socket, so the kill waits for the peer to have
    // received (and recorded) all three, not for the rows alone: killed in between, a message
    // would first reach the peer from the restarted server (no duplicate either, but not the
    // case under test).
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &["--delay-ms", "5000"]);
    let mut server = serve(dir.path(), &url, &peer.addr, "2");
    wait_for(&db, 3, "sent").await;
    let start = Instant::now();
    while applied(peer_dir.path()) < 3 {
        assert!(start.elapsed() < WAIT, "the peer never received all three");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    // The peer applied each message once (in its delay it is still answering nobody).
    tokio::time::sleep(Duration::from_millis(5500)).await;
    assert_eq!(applied(peer_dir.path()), 3);

    // Restarted: the leases run out, the same messages go again, the peer replays its answers.
    let mut server = serve(dir.path(), &url, &peer.addr, "2");
    let all = wait_for(&db, 3, "acknowledged").await;
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(all.iter().all(|r| r.attempts == 2), "{all:#?}");
    assert_eq!(applied(peer_dir.path()), 3);
    assert_eq!(Ledger::read(peer_dir.path()).unwrap().records().count(), 3);
    let fcns: std::collections::BTreeSet<_> = all.iter().map(|r| r.fcn.clone()).collect();
    assert_eq!(fcns.len(), 3, "one record each: {all:#?}");
}

#[tokio::test]
async fn a_rejection_shows_on_the_work_list_and_goes_out_after_the_fix() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    let (first, _, _) = create(&app, dv_tro("25FL300400", 3)).await;
    wait_for(&app.db, 1, "acknowledged").await;
    // A second order entered under the same case number: CARPOS refuses a duplicate record.
    let (second, _, _) = create(&app, dv_tro("25FL300400", 1)).await;
    let list = "{ carposWorkList(courtCode: \"SC19\") { id state messageKey error order { id } } }";
    let start = Instant::now();
    let item = loop {
        let d = app.data(list, json!({})).await;
        if let Some(item) = d["carposWorkList"].as_array().and_then(|l| l.first()) {
            break item.clone();
        }
        if start.elapsed() > WAIT {
            let all = rows(&app.db).await;
            panic!(
                "nothing on the work list: {:#?}",
                all.iter()
                    .map(|r| (r.order_id, &r.message_key, &r.state, &r.error))
                    .collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(item["state"], "REJECTED");
    assert_eq!(item["messageKey"], "ETO");
    assert_eq!(item["order"]["id"], json!(second));
    assert!(
        item["error"].as_str().unwrap().contains("DUPLICATE"),
        "{item}"
    );
    let transmissions = "query($o: ID!) { order(id: $o) { transmissions { state error missingFields dueBy late } } }";
    let d = app.data(transmissions, json!({ "o": second })).await;
    assert_eq!(d["order"]["transmissions"][0]["state"], "REJECTED");
    assert_eq!(d["order"]["transmissions"][0]["late"], false);

    // A clerk of another court neither sees the list nor retries.
    let other = app.mint(ccpor::auth::Role::Clerk, Some("SC01"));
    let body = app.gql_as(Some(&other), list, json!({})).await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");
    let retry = "mutation($id: ID!) { retryTransmission(id: $id) { state } }";
    let body = app
        .gql_as(Some(&other), retry, json!({ "id": item["id"] }))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "FORBIDDEN");

    // The fix: the first order was the one entered wrongly; cancelled, its record goes.
    let cancel = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { id } } }";
    app.data(
        cancel,
        json!({ "i": { "orderId": first, "reason": "Entered twice" } }),
    )
    .await;
    // The clerk retries once CARPOS has cancelled the first record (sooner, the duplicate
    // would still be in effect and the retry refused again).
    let start = Instant::now();
    while !rows(&app.db)
        .await
        .iter()
        .any(|r| r.message_key == "XPO" && r.state == "acknowledged")
    {
        assert!(start.elapsed() < WAIT, "the cancel was not acknowledged");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let d = app.data(retry, json!({ "id": item["id"] })).await;
    assert_eq!(d["retryTransmission"]["state"], "QUEUED");
    // Acknowledged only once queued again: a second retry of a queued row is refused.
    let all = wait_for(&app.db, 3, "acknowledged").await;
    assert_ne!(all[0].fcn, all.last().unwrap().fcn, "a new record");
    let d = app.data(list, json!({})).await;
    assert_eq!(d["carposWorkList"], json!([]));
    let body = app.gql(retry, json!({ "id": item["id"] })).await;
    assert_eq!(crate::helpers::error_code(&body), "CONFLICT");
    assert_eq!(audit_rows(&app, "carpos.reject").await, 1);
}

#[tokio::test]
async fn a_held_entry_goes_out_when_a_modification_completes_it() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    // The restrained person's height and hair were not known at the ex parte hearing.
    let mut input = dv_tro("25FL300500", 3);
    let restrained = &mut input["parties"][0]["person"];
    restrained["heightInches"] = serde_json::Value::Null;
    restrained["hair"] = serde_json::Value::Null;
    let (tro, _, _) = create(&app, input).await;
    let held = wait_for(&app.db, 1, "held_incomplete").await;
    assert_eq!(held[0].missing_fields.as_deref(), Some("HGT,HAI"));
    let q = "query($o: ID!) { order(id: $o) { transmissions { id state missingFields } } }";
    let d = app.data(q, json!({ "o": tro })).await;
    let t = &d["order"]["transmissions"][0];
    assert_eq!(t["state"], "HELD_INCOMPLETE");
    assert_eq!(t["missingFields"], json!(["HGT", "HAI"]));
    let list = "{ carposWorkList(courtCode: \"SC19\") { id state order { id } } }";
    let d = app.data(list, json!({})).await;
    assert_eq!(d["carposWorkList"][0]["id"], t["id"]);
    // Released by hand while data is still missing: refused, and it stays held.
    let retry = "mutation($id: ID!) { retryTransmission(id: $id) { state } }";
    let body = app.gql(retry, json!({ "id": t["id"] })).await;
    assert_eq!(crate::helpers::error_code(&body), "CONFLICT");
    // A bad descriptor is refused with its field, and changes nothing.
    let modify = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id } } }";
    let bad = json!({ "i": { "orderId": tro, "issuedAt": days(-1), "reason": "Descriptors",
                             "restrainedDescriptors": { "heightInches": 5 } } });
    let body = app.gql(modify, bad).await;
    assert_eq!(
        crate::helpers::error_field(&body),
        "restrainedDescriptors.heightInches"
    );
    // The modification that brings them completes the entry: it goes out, once, as the entry.
    let d = app
        .data(modify, json!({ "i": { "orderId": tro, "issuedAt": days(-1), "reason": "Descriptors found at the hearing",
                                     "restrainedDescriptors": { "heightInches": 71, "hair": "BROWN" } } }))
        .await;
    let modified = d["modifyOrder"]["order"]["id"].clone();
    let all = wait_for(&app.db, 1, "acknowledged").await;
    assert_eq!(all[0].message_key, "ETO");
    assert_eq!(all[0].missing_fields, None);
    let ledger = Ledger::read(peer_dir.path()).unwrap();
    let records: Vec<_> = ledger.records().collect();
    assert_eq!(records.len(), 1);
    use ccpor::carpos::message::FieldCode;
    assert_eq!(records[0].1.value(FieldCode::Hgt), Some("511"));
    assert_eq!(records[0].1.value(FieldCode::Hai), Some("BRO"));
    let d = app.data(q, json!({ "o": modified })).await;
    assert_eq!(d["order"]["transmissions"][0]["state"], "ACKNOWLEDGED");
    let d = app.data(list, json!({})).await;
    assert_eq!(d["carposWorkList"], json!([]));
}
