//! Image-only courts: an order registered by image and a minimal index record is searchable
//! like any other and marked image-only; data entry later completes the same order.
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::files::{pdf, tiff};
use super::{IMAGE_FIELDS, images_of, multipart_gql, post_image};
use ccpor::auth::Role;

use crate::helpers::{
    Store, TestApp, client_with, dv_tro, error_code, error_field, spawn_app_with_images,
};
use crate::on_both_stores;

const ORDER_FIELDS: &str = "id caseNumber imageOnly kind formNumber court { code }
    parties { role person { id fullName dob } } events { kind }";

async fn make_image_only(app: &TestApp, court: &str) {
    app.db
        .execute_unprepared(&format!(
            "UPDATE court SET participation_mode = 'image_only' WHERE code = '{court}'"
        ))
        .await
        .unwrap();
    // Written behind the server's back: drop what it may have cached.
    app.cache.invalidate().await;
}

fn record(court: &str, case: &str) -> Value {
    json!({
        "courtCode": court,
        "caseNumber": case,
        "family": "DV",
        "parties": [
            { "role": "RESTRAINED", "lastName": "Villaseñor Ortega", "firstName": "Casimiro", "dob": "1979-06-15" },
            { "role": "PROTECTED", "lastName": "Brandvold", "firstName": "Ingrid" }
        ]
    })
}

/// Polls person search until exactly `n` persons whose full name starts with `last` are found.
async fn wait_for_matches(app: &TestApp, last: &str, n: usize) -> Vec<Value> {
    let q = "query($l: String) { searchPersons(lastName: $l) { edges { node { person { id fullName } } } } }";
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = app.data(q, json!({ "l": last })).await;
        let exact: Vec<Value> = d["searchPersons"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| {
                h["node"]["person"]["fullName"]
                    .as_str()
                    .unwrap()
                    .starts_with(last)
            })
            .cloned()
            .collect();
        if exact.len() == n {
            return exact;
        }
        assert!(
            Instant::now() < deadline,
            "search for {last}: expected {n} matches, got {exact:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn image_only_registration_and_completion(store: Store) {
    let mut app = spawn_app_with_images(store, ccpor::images::DEFAULT_MAX_BYTES).await;
    make_image_only(&app, "SC02").await;
    // The image-only court's own clerk registers its orders.
    app.client = client_with(&app.mint(Role::Clerk, Some("SC02")));

    // A full court cannot register by image alone.
    let (status, body) = post_image(
        &app,
        &[("record", record("SC19", "26FL-00001").to_string())],
        "order.pdf",
        pdf(2, "full court"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "courtCode");
    assert_eq!(app.count("protective_order").await, 0);
    assert_eq!(app.images.store.list().await.unwrap().len(), 0);

    // A bad index record stores nothing either.
    let mut bad = record("SC02", "26FL-00002");
    bad["parties"][0]["dob"] = json!("2999-01-01");
    let (status, body) = post_image(
        &app,
        &[("record", bad.to_string())],
        "order.pdf",
        pdf(2, "bad record"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "parties[0].person.dob"
    );
    assert_eq!(app.count("protective_order").await, 0);
    assert_eq!(app.images.store.list().await.unwrap().len(), 0);

    // Registration by scanner: POST /images with the index record.
    let scan = pdf(2, "image only");
    let (status, body) = post_image(
        &app,
        &[("record", record("SC02", "26FL-00003").to_string())],
        "order.pdf",
        scan.clone(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let order_id = body["order"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["image"]["pages"], 2);

    // Registration through GraphQL too.
    let ops = json!({
        "query": format!("mutation($i: ImageOnlyOrderInput!, $f: Upload!) {{ registerImageOnlyOrder(input: $i, file: $f) {{
            order {{ {ORDER_FIELDS} }} image {{ {IMAGE_FIELDS} }} }} }}"),
        "variables": { "i": record("SC02", "26FL-00004"), "f": null }
    });
    let (status, body) = multipart_gql(&app, ops, "fax.tif", tiff(2, 100, 80, 5), true).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    let reg = &body["data"]["registerImageOnlyOrder"];
    assert_eq!(reg["order"]["imageOnly"], true);
    assert_eq!(reg["image"]["contentType"], "image/tiff");
    assert_eq!(reg["image"]["pages"], 2);

    // Marked image-only, searchable by case number and by name.
    let q = format!(
        "query($c: String!) {{ ordersByCaseNumber(caseNumber: $c) {{ {ORDER_FIELDS} images {{ pages }} }} }}"
    );
    let d = app.data(&q, json!({ "c": "26fl00003" })).await;
    let found = &d["ordersByCaseNumber"][0];
    assert_eq!(found["id"], json!(order_id));
    assert_eq!(found["imageOnly"], true);
    assert_eq!(found["kind"], "NOT_KEYED");
    assert_eq!(found["formNumber"], "");
    assert_eq!(found["court"]["code"], "SC02");
    assert_eq!(found["events"], json!([]), "no keyed issue time yet");
    assert_eq!(found["images"], json!([{ "pages": 2 }]));
    assert_eq!(found["parties"][0]["person"]["dob"], "1979-06-15");
    // Both registrations name him (a person row each, as typed).
    wait_for_matches(&app, "Villaseñor Ortega", 2).await;
    wait_for_matches(&app, "Brandvold", 2).await;

    // Lifecycle changes wait for the data.
    let term = app
        .gql(
            "mutation($o: ID!) { terminateOrder(input: { orderId: $o, terminatedAt: \"2026-01-01T00:00:00Z\" }) { order { id } } }",
            json!({ "o": order_id }),
        )
        .await;
    assert_eq!(error_code(&term), "CONFLICT", "{term}");

    // Data entry completes the same order: court and case number must match.
    const COMPLETE: &str = "mutation($o: ID!, $i: CreateOrderInput!) { completeImageOnlyOrder(orderId: $o, input: $i) {
        order { id caseNumber imageOnly kind formNumber status events { kind }
                parties { role person { id fullName } } images { sha256 } } } }";
    let mut keyed = dv_tro("26FL-00003", 1);
    keyed["courtCode"] = json!("SC02");
    let mut wrong_case = keyed.clone();
    wrong_case["caseNumber"] = json!("26FL-09999");
    let e = app
        .gql(COMPLETE, json!({ "o": order_id, "i": wrong_case }))
        .await;
    assert_eq!(error_code(&e), "VALIDATION");
    assert_eq!(error_field(&e), "caseNumber");
    let mut wrong_court = keyed.clone();
    wrong_court["courtCode"] = json!("SC19");
    let e = app
        .gql(COMPLETE, json!({ "o": order_id, "i": wrong_court }))
        .await;
    assert_eq!(error_field(&e), "courtCode");

    // Keep the scan-time protected person; key a new restrained person (the typed name was
    // wrong). The scan-time restrained person of this order leaves the registry only if no
    // other order names him: here he is a different person row per registration.
    let protected = found["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "PROTECTED")
        .unwrap()["person"]["id"]
        .clone();
    keyed["parties"][1] = json!({ "role": "PROTECTED", "personId": protected });
    let d = app
        .data(COMPLETE, json!({ "o": order_id, "i": keyed }))
        .await;
    let done = &d["completeImageOnlyOrder"]["order"];
    assert_eq!(
        done["id"],
        json!(order_id),
        "the same order, not a second one"
    );
    assert_eq!(done["imageOnly"], false);
    assert_eq!(done["kind"], "TEMPORARY");
    assert_eq!(done["formNumber"], "DV-110");
    assert_eq!(done["status"], "ACTIVE");
    assert_eq!(done["events"], json!([{ "kind": "ISSUED" }]));
    assert_eq!(
        done["images"].as_array().unwrap().len(),
        1,
        "the image stays"
    );
    assert_eq!(done["parties"][1]["person"]["id"], protected);
    assert_eq!(
        done["parties"][0]["person"]["fullName"],
        "Quintero Vale, Ramiro"
    );
    assert_eq!(app.count("protective_order").await, 2);
    let d = app
        .data(
            "query($c: String!) { ordersByCaseNumber(caseNumber: $c) { id } }",
            json!({ "c": "26FL-00003" }),
        )
        .await;
    assert_eq!(d["ordersByCaseNumber"].as_array().unwrap().len(), 1);

    // Search follows: the keyed name is found; the dropped scan-time person of this order is
    // gone, the other registration's still there.
    wait_for_matches(&app, "Quintero Vale", 1).await;
    wait_for_matches(&app, "Villaseñor Ortega", 1).await;
    wait_for_matches(&app, "Brandvold", 2).await;

    // Completing twice is a conflict; keyed orders are not image-only.
    let again = app
        .gql(COMPLETE, json!({ "o": order_id, "i": keyed }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    assert_eq!(images_of(&app, &order_id).await.len(), 1);
}
on_both_stores!(image_only_registration_and_completion);
