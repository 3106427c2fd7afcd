//! CARPOS's answers in the order's history and on `orderEvents`: an acknowledged message is a
//! `TRANSMITTED` event naming its FCN, a refused one a `TRANSMISSION_REJECTED` event with the
//! reason, heard by a clerk's subscription (graphql-ws, `tests/node/subscribe.mjs`) as they happen;
//! and the CLETS-001 data an acknowledged entry carried is purged (CRC 1.51(e)) unless configured
//! otherwise.
use std::time::{Duration, Instant};

use ccpor::auth::Role;
use ccpor::carpos::ledger::Ledger;
use ccpor::carpos::message::FieldCode;
use entities::audit_event;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::carpos_sim::Peer;
use crate::helpers::{TestApp, carpos_config, create, dv_tro, spawn_app_with_carpos};
use crate::subscriptions::{Subscriber, nexts, wait_for_subscriptions, ws_url};

const EVENTS: &str = "subscription($kinds: [EventKind!]) {
  orderEvents(kinds: $kinds) { kind event { kind reason } order { id } }
}";

#[tokio::test]
async fn an_acknowledgement_and_a_rejection_reach_subscribers_and_the_history() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let mut sub = Subscriber::start(
        &ws_url(app.addr),
        &clerk,
        EVENTS,
        json!({ "kinds": ["TRANSMITTED", "TRANSMISSION_REJECTED"] }),
        2,
    );
    wait_for_subscriptions(&app, 1).await;
    let (first, _, _) = create(&app, dv_tro("25FL300600", 2)).await;
    let acked = sub.next_event().await;
    let e = &acked["data"]["orderEvents"];
    assert_eq!(e["kind"], "TRANSMITTED", "{acked:#}");
    assert_eq!(e["order"]["id"], json!(first));
    let reason = e["event"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("CARPOS acknowledged ETO (FCN "),
        "{reason}"
    );
    // The same case number again: CARPOS refuses a duplicate record.
    let (second, _, _) = create(&app, dv_tro("25FL300600", 1)).await;
    let msgs = sub.messages().await;
    let got = nexts(&msgs);
    assert_eq!(got.len(), 2, "{msgs:#?}");
    let e = &got[1]["data"]["orderEvents"];
    assert_eq!(e["kind"], "TRANSMISSION_REJECTED", "{msgs:#?}");
    assert_eq!(e["order"]["id"], json!(second));
    let reason = e["event"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("CARPOS rejected ETO:") && reason.contains("DUPLICATE"),
        "{reason}"
    );
    // Both stay in the orders' histories, after their issue.
    let q = "query($o: ID!) { order(id: $o) { events { kind } } }";
    let d = app.data(q, json!({ "o": first })).await;
    assert_eq!(
        d["order"]["events"],
        json!([{ "kind": "ISSUED" }, { "kind": "TRANSMITTED" }])
    );
    let d = app.data(q, json!({ "o": second })).await;
    assert_eq!(
        d["order"]["events"],
        json!([{ "kind": "ISSUED" }, { "kind": "TRANSMISSION_REJECTED" }])
    );
}

/// A DV-110 whose restrained person came with CLETS-001 data.
fn with_clets(case: &str) -> Value {
    let mut input = dv_tro(case, 2);
    let p = &mut input["parties"][0]["person"];
    p["address"] = json!("100 Synthetic Way, Los Angeles CA 90012");
    p["phone"] = json!("213-555-0100");
    p["driverLicenseNumber"] = json!("D1234567");
    p["driverLicenseState"] = json!("CA");
    input
}

const RESTRAINED: &str = "query($o: ID!) { order(id: $o) { transmissions { state } parties { role person { \
    address phone driverLicenseNumber driverLicenseState cletsPurgedAt } } } }";

/// The restrained person as a clerk reads them once the order's messages are all acknowledged.
async fn restrained_after_ack(app: &TestApp, order: &str) -> Value {
    let start = Instant::now();
    loop {
        let d = app.data(RESTRAINED, json!({ "o": order })).await;
        let o = &d["order"];
        let sent = o["transmissions"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "ACKNOWLEDGED"));
        if sent {
            return o["parties"][0]["person"].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not acknowledged: {d}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn clets_001_data_is_purged_once_the_entry_is_acknowledged() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let app = spawn_app_with_carpos(carpos_config(&peer.addr), None).await;
    let (order, restrained, _) = create(&app, with_clets("25FL300700")).await;
    let p = restrained_after_ack(&app, &order).await;
    assert_eq!(p["address"], Value::Null, "{p}");
    assert_eq!(p["phone"], Value::Null);
    assert_eq!(p["driverLicenseNumber"], Value::Null);
    assert_eq!(p["driverLicenseState"], Value::Null);
    assert!(p["cletsPurgedAt"].is_string(), "{p}");
    // DOJ has it: the entry carried the licence.
    let ledger = Ledger::read(peer_dir.path()).unwrap();
    let (_, record) = ledger.records().next().unwrap();
    assert_eq!(record.value(FieldCode::Oln), Some("D1234567"));
    // The audit row names the order, the person and the fields.
    let rows = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("carpos.clets_purge"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert!(rows[0].object_ids.contains(&order), "{:?}", rows[0]);
    assert!(rows[0].object_ids.contains(&restrained), "{:?}", rows[0]);
    assert!(rows[0].fields.contains("Person.address"), "{:?}", rows[0]);
    assert!(rows[0].detail.as_deref().unwrap().contains("CRC 1.51(e)"));
    // A later modify (proof of service) does not take the licence from DOJ's record.
    let serve = "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }";
    app.data(
        serve,
        json!({ "i": { "orderId": order, "servedAt": chrono::Utc::now().to_rfc3339(),
                                   "method": "PERSONAL", "serverName": "Deputy Synthetic" } }),
    )
    .await;
    restrained_after_ack(&app, &order).await;
    let ledger = Ledger::read(peer_dir.path()).unwrap();
    let (_, record) = ledger.records().next().unwrap();
    assert_eq!(record.value(FieldCode::Oln), Some("D1234567"));
    assert!(
        record
            .value(FieldCode::Mis)
            .is_some_and(|m| m.contains("SERVED")),
        "{record:?}"
    );
}

#[tokio::test]
async fn with_the_purge_turned_off_the_data_stays() {
    let peer_dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(peer_dir.path(), &[]);
    let mut cfg = carpos_config(&peer.addr);
    cfg.purge_clets = false;
    let app = spawn_app_with_carpos(cfg, None).await;
    let (order, _, _) = create(&app, with_clets("25FL300701")).await;
    let p = restrained_after_ack(&app, &order).await;
    assert_eq!(p["address"], "100 Synthetic Way, Los Angeles CA 90012");
    assert_eq!(p["driverLicenseNumber"], "D1234567");
    assert_eq!(p["cletsPurgedAt"], Value::Null);
    let n = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("carpos.clets_purge"))
        .all(&app.db)
        .await
        .unwrap()
        .len();
    assert_eq!(n, 0);
}
