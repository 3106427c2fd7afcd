//! CARPOS's answers in the order's history and on `orderEvents`: an acknowledged message is a
//! `TRANSMITTED` event naming its FCN, a refused one a `TRANSMISSION_REJECTED` event with the
//! reason, heard by a clerk's subscription (graphql-ws, `tests/node/subscribe.mjs`) as they happen.
use ccpor::auth::Role;
use serde_json::json;

use crate::carpos_sim::Peer;
use crate::helpers::{carpos_config, create, dv_tro, spawn_app_with_carpos};
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
