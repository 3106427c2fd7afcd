use serde_json::{Value, json};

use ccpor::auth::Role;

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

const ORDER_FIELDS: &str = "id formNumber kind status served expiresAt supersedes { id } supersededBy { id } chain { formNumber } events { kind relatedOrder { id } reason }";

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

#[tokio::test]
async fn service_is_recorded_and_orthogonal_to_status() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("25FL000001", 3)).await;
    let q = "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { status served events { kind } } serviceRecord { method serverName agency { ori } } } }";
    let d = app
        .data(q, json!({ "i": { "orderId": id, "servedAt": days(-1), "method": "PERSONAL", "serverName": "Deputy Synthetic", "agencyOri": "CA0190000" } }))
        .await;
    let r = &d["recordService"];
    assert_eq!(r["order"]["served"], true);
    assert_eq!(r["order"]["status"], "ACTIVE");
    assert_eq!(
        r["order"]["events"],
        json!([{ "kind": "ISSUED" }, { "kind": "SERVED" }])
    );
    assert_eq!(
        r["serviceRecord"],
        json!({ "method": "PERSONAL", "serverName": "Deputy Synthetic", "agency": { "ori": "CA0190000" } })
    );
    // Before the service time it was unserved.
    let d = app
        .data(
            "query($o: ID!, $t: DateTime) { order(id: $o) { served(asOf: $t) } }",
            json!({ "o": id, "t": days(-2) }),
        )
        .await;
    assert_eq!(d["order"]["served"], false);

    let before = app.snapshot().await;
    for (input, code, field) in [
        (
            json!({ "orderId": id, "servedAt": days(2), "method": "MAIL" }),
            "VALIDATION",
            "servedAt",
        ),
        (
            json!({ "orderId": id, "servedAt": days(-10), "method": "MAIL" }),
            "VALIDATION",
            "servedAt",
        ),
        (
            json!({ "orderId": id, "servedAt": days(-1), "method": "MAIL", "agencyOri": "CA9999999" }),
            "VALIDATION",
            "agencyOri",
        ),
        (
            json!({ "orderId": "T3JkZXI6NDA0", "servedAt": days(-1), "method": "MAIL" }),
            "NOT_FOUND",
            "",
        ),
    ] {
        let body = app.gql(q, json!({ "i": input })).await;
        assert_eq!(error_code(&body), code, "{body:#}");
        assert_eq!(error_field(&body), field, "{body:#}");
    }
    assert_eq!(app.snapshot().await, before);
}

/// A write that reads before it writes (recordService loads the order first) must not fail
/// because another request committed in between: on SQLite a deferred transaction then gets
/// `SQLITE_BUSY` at once, whatever the busy timeout (CI saw it: a subscription's audit row landed
/// between recordService's read and its insert).
#[tokio::test]
async fn concurrent_writes_and_audited_reads_all_succeed() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let (id, _, _) = create(&app, dv_tro(&format!("26FL9200{i:02}"), 3)).await;
        ids.push(id);
    }
    let serve =
        "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { served } } }";
    let read = "query($id: ID!) { order(id: $id) { caseNumber } }";
    let writes = ids.iter().map(|id| {
        let app = &app;
        async move {
            let input = json!({ "i": { "orderId": id, "servedAt": days(-1), "method": "PERSONAL",
                                       "serverName": "Deputy Synthetic" } });
            app.gql(serve, input).await
        }
    });
    // Each read commits an audit row while the writes are in flight.
    let reads = ids.iter().cycle().take(48).map(|id| {
        let app = &app;
        async move { app.gql(read, json!({ "id": id })).await }
    });
    let (written, read_back) = futures_util::future::join(
        futures_util::future::join_all(writes),
        futures_util::future::join_all(reads),
    )
    .await;
    for body in written.iter().chain(&read_back) {
        assert!(body.get("errors").is_none(), "{body:#}");
    }
    assert!(
        written
            .iter()
            .all(|b| b["data"]["recordService"]["order"]["served"] == true)
    );
    assert_eq!(app.count("service_record").await, 12);
}

#[tokio::test]
async fn hearing_modification_renewal_and_termination_form_a_chain() {
    let app = spawn_app().await;
    let (tro, _, _) = create(&app, dv_tro("25FL000002", 20)).await;

    // Order after hearing: a modification of the TRO on form DV-130.
    let modify = format!(
        "mutation($i: ModifyOrderInput!) {{ modifyOrder(input: $i) {{ order {{ {ORDER_FIELDS} }} previousOrder {{ {ORDER_FIELDS} }} }} }}"
    );
    let d = app
        .data(&modify, json!({ "i": { "orderId": tro, "issuedAt": days(-2), "formNumber": "DV-130", "expiresAt": days(60), "reason": "Order after hearing" } }))
        .await;
    let oah = d["modifyOrder"]["order"].clone();
    let prev = &d["modifyOrder"]["previousOrder"];
    assert_eq!(oah["kind"], "AFTER_HEARING");
    assert_eq!(oah["status"], "ACTIVE");
    assert_eq!(oah["supersedes"]["id"], json!(tro));
    assert_eq!(prev["status"], "SUPERSEDED");
    assert_eq!(prev["supersededBy"]["id"], oah["id"]);
    assert_eq!(
        prev["events"][1],
        json!({ "kind": "MODIFIED", "relatedOrder": { "id": oah["id"] }, "reason": "Order after hearing" })
    );
    assert_eq!(
        oah["chain"],
        json!([{ "formNumber": "DV-110" }, { "formNumber": "DV-130" }])
    );

    // The superseded TRO cannot be modified again.
    let again = app
        .gql(
            &modify,
            json!({ "i": { "orderId": tro, "issuedAt": days(-1) } }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    // An order after hearing is capped at 5 years (Fam. Code 6345(a)).
    let too_long = app
        .gql(&modify, json!({ "i": { "orderId": oah["id"], "issuedAt": days(-1), "expiresAt": days(6 * 365) } }))
        .await;
    assert_eq!(error_field(&too_long), "expiresAt");
    assert!(
        too_long["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("6345")
    );

    // Renewal, permanent: allowed for DV (Fam. Code 6345(a)).
    let renew = format!(
        "mutation($i: RenewOrderInput!) {{ renewOrder(input: $i) {{ order {{ {ORDER_FIELDS} }} previousOrder {{ status }} }} }}"
    );
    let d = app
        .data(
            &renew,
            json!({ "i": { "orderId": oah["id"], "issuedAt": days(-1), "expiresAt": null,
                           "requestFiledOn": &days(-3)[..10] } }),
        )
        .await;
    let renewed = d["renewOrder"]["order"].clone();
    assert_eq!(renewed["expiresAt"], Value::Null);
    assert_eq!(renewed["status"], "ACTIVE");
    assert_eq!(d["renewOrder"]["previousOrder"]["status"], "SUPERSEDED");
    assert_eq!(renewed["chain"].as_array().unwrap().len(), 3);

    // Terminate, then status as of before and after.
    let term = "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { status terminatedAt events { kind } } } }";
    let d = app.data(term, json!({ "i": { "orderId": renewed["id"], "terminatedAt": days(0), "reason": "Request of protected party" } })).await;
    assert_eq!(d["terminateOrder"]["order"]["status"], "TERMINATED");
    let twice = app
        .gql(
            term,
            json!({ "i": { "orderId": renewed["id"], "terminatedAt": days(0) } }),
        )
        .await;
    assert_eq!(error_code(&twice), "CONFLICT");
    let d = app
        .data(
            "query($o: ID!, $t: DateTime) { order(id: $o) { then: status(asOf: $t) now: status } }",
            json!({ "o": renewed["id"], "t": days(-1) }),
        )
        .await;
    assert_eq!(d["order"], json!({ "then": "ACTIVE", "now": "TERMINATED" }));
}

#[tokio::test]
async fn renewal_rules() {
    let app = spawn_app().await;
    let (tro, _, _) = create(&app, dv_tro("25FL000003", 2)).await;
    let renew = "mutation($i: RenewOrderInput!) { renewOrder(input: $i) { order { id } } }";
    let body = app
        .gql(
            renew,
            json!({ "i": { "orderId": tro, "issuedAt": days(0), "expiresAt": days(300) } }),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "CONFLICT",
        "a TRO is not renewed: {body:#}"
    );

    let issued = chrono::Utc::now() - chrono::Duration::days(300);
    let wv = json!({
        "courtCode": "SC43", "caseNumber": "23CV000777", "family": "WV", "formNumber": "WV-130",
        "issuedAt": issued.to_rfc3339(), "expiresAt": (issued + chrono::Duration::days(365)).to_rfc3339(),
        "parties": [
            { "role": "RESTRAINED", "person": { "lastName": "Ferreira", "firstName": "Ilse" } },
            { "role": "PROTECTED", "person": { "lastName": "Nakamura", "firstName": "Odo" } },
            { "role": "ADDITIONAL_PROTECTED", "relationship": "employer", "person": { "partyType": "ORGANIZATION", "organizationName": "Synthetic Logistics LLC" } }
        ]
    });
    let (wv_id, _, _) = create(&app, wv).await;
    let sc43 = app.mint(Role::Clerk, Some("SC43"));
    let permanent = app
        .gql_as(
            Some(&sc43),
            renew,
            json!({ "i": { "orderId": wv_id, "issuedAt": days(0), "expiresAt": null } }),
        )
        .await;
    assert_eq!(
        error_field(&permanent),
        "expiresAt",
        "WV renewals are capped: {permanent:#}"
    );
    let four_years = app
        .gql_as(
            Some(&sc43),
            renew,
            json!({ "i": { "orderId": wv_id, "issuedAt": days(0), "expiresAt": days(4 * 365) } }),
        )
        .await;
    assert!(
        four_years["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("527.8"),
        "{four_years:#}"
    );
    let ok = app
        .gql_as(
            Some(&sc43),
            renew,
            json!({ "i": { "orderId": wv_id, "issuedAt": days(0), "expiresAt": days(3 * 365 - 2) } }),
        )
        .await;
    assert!(ok.get("errors").is_none(), "{ok:#}");
    // The clerk of another court may not renew it.
    let other = app
        .gql(
            renew,
            json!({ "i": { "orderId": wv_id, "issuedAt": days(0), "expiresAt": days(365) } }),
        )
        .await;
    assert_eq!(error_code(&other), "FORBIDDEN");
    assert_eq!(other["errors"][0]["extensions"]["rule"], "own_court");
}

#[tokio::test]
async fn cancel_keeps_history() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("25FL000004", 1)).await;
    let cancel = "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { order { status cancelledAt events { kind reason } } } }";
    let blank = app
        .gql(cancel, json!({ "i": { "orderId": id, "reason": "  " } }))
        .await;
    assert_eq!(error_field(&blank), "reason");
    let d = app
        .data(
            cancel,
            json!({ "i": { "orderId": id, "reason": "Duplicate entry" } }),
        )
        .await;
    let o = &d["cancelOrder"]["order"];
    assert_eq!(o["status"], "CANCELLED");
    assert_eq!(
        o["events"][1],
        json!({ "kind": "CANCELLED", "reason": "Duplicate entry" })
    );
    let again = app
        .gql(cancel, json!({ "i": { "orderId": id, "reason": "again" } }))
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    assert_eq!(
        app.count("protective_order").await,
        1,
        "cancelled orders are kept"
    );
    let term = app
        .gql(
            "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { id } } }",
            json!({ "i": { "orderId": id, "terminatedAt": days(0) } }),
        )
        .await;
    assert_eq!(error_code(&term), "CONFLICT");
}

#[tokio::test]
async fn expired_orders_show_expired_at_query_time() {
    let app = spawn_app().await;
    let (id, person, _) = create(&app, dv_tro("25FL000005", 30)).await;
    let (active, _, _) = create(&app, dv_tro("25FL000006", 1)).await;
    let d = app
        .data(
            "query($o: ID!) { order(id: $o) { status } }",
            json!({ "o": id }),
        )
        .await;
    assert_eq!(d["order"]["status"], "EXPIRED");
    // Status filters evaluated in SQL agree with the derived status.
    let q = "query($p: ID!, $s: OrderStatus, $t: DateTime) { person(id: $p) { orders(status: $s, asOf: $t) { edges { node { id } } } } }";
    let expired = app.data(q, json!({ "p": person, "s": "EXPIRED" })).await;
    assert_eq!(
        expired["person"]["orders"]["edges"],
        json!([{ "node": { "id": id } }])
    );
    let was_active = app
        .data(q, json!({ "p": person, "s": "ACTIVE", "t": days(-25) }))
        .await;
    assert_eq!(
        was_active["person"]["orders"]["edges"],
        json!([{ "node": { "id": id } }])
    );
    let pending = app
        .data(q, json!({ "p": person, "s": "PENDING", "t": days(-40) }))
        .await;
    assert_eq!(
        pending["person"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let all_active = app
        .data(
            "{ orders(status: ACTIVE) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        all_active["orders"]["edges"],
        json!([{ "node": { "id": active } }])
    );
}
