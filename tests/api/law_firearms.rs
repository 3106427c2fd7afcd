//! Firearm relinquishment through HTTP (docs/law/firearms.md): due times counted from service
//! (24 hours to surrender, 48 to file the receipt; Fam. Code 6389(c), CCP 527.9(b), PC 18120(b)),
//! the receipt and the court's finding (`recordFirearmCompliance`), and a court's overdue list
//! (`firearmsOverdue`).
use ccpor::auth::Role;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

const FIREARMS: &str = "query($o: ID!) { order(id: $o) { firearms { authority expectedReceiptForm surrenderDueAt receiptDueAt receiptForm receiptFiledAt receiptAgency { ori } finding findingAt overdue } } }";
const RECORD: &str = "mutation($i: RecordFirearmComplianceInput!) { recordFirearmCompliance(input: $i) { order { firearms { receiptForm finding overdue } } } }";
const OVERDUE: &str = "query($c: String) { firearmsOverdue(court: $c) { id caseNumber } }";

fn hours(n: i64) -> DateTime<Utc> {
    Utc::now() + Duration::hours(n)
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

fn cases(body: &Value) -> Vec<String> {
    body["data"]["firearmsOverdue"]
        .as_array()
        .map(|os| {
            os.iter()
                .filter_map(|o| o["caseNumber"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn relinquishment_is_due_from_service_and_overdue_without_receipt() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let serve = |id: String, h: i64| {
        app.data(
            "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }",
            json!({ "i": { "orderId": id, "servedAt": hours(h).to_rfc3339(), "method": "VERBAL_NOTICE" } }),
        )
    };
    let (late, _, _) = create(&app, dv_tro("26FL260001", 3)).await;
    let d = app.data(FIREARMS, json!({ "o": late })).await;
    let f = &d["order"]["firearms"];
    assert_eq!(f["authority"], "Fam. Code 6389(c)", "{d:#}");
    assert_eq!(f["expectedReceiptForm"], "DV-800");
    assert_eq!(f["receiptDueAt"], Value::Null, "unserved: nothing due yet");
    assert_eq!(f["overdue"], false);

    serve(late.clone(), -50).await;
    let d = app.data(FIREARMS, json!({ "o": late })).await;
    let f = &d["order"]["firearms"];
    let served = hours(-50);
    let near = |t: DateTime<Utc>, want: DateTime<Utc>| (t - want).num_seconds().abs() < 120;
    assert!(
        near(at(&f["surrenderDueAt"]), served + Duration::hours(24)),
        "{f:#}"
    );
    assert!(
        near(at(&f["receiptDueAt"]), served + Duration::hours(48)),
        "{f:#}"
    );
    assert_eq!(f["overdue"], true, "{f:#}");

    // Served 10 hours ago: due, not overdue. No relinquishment ordered: nothing tracked.
    let (recent, _, _) = create(&app, dv_tro("26FL260002", 2)).await;
    serve(recent.clone(), -10).await;
    let mut o = dv_tro("26FL260003", 3);
    o["conditions"] = json!({ "pcoCodes": ["01"], "contactLevel": "NO_CONTACT" });
    let (unarmed, _, _) = create(&app, o).await;
    serve(unarmed.clone(), -60).await;
    let d = app.data(FIREARMS, json!({ "o": unarmed })).await;
    assert_eq!(d["order"]["firearms"], Value::Null, "{d:#}");

    let list = app.gql_as(Some(&clerk), OVERDUE, json!({})).await;
    assert_eq!(cases(&list), vec!["26FL260001"], "{list:#}");
    // Law enforcement names the court; another court's clerk may not read it; analysts no list.
    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let list = app
        .gql_as(Some(&lea), OVERDUE, json!({ "c": "SC19" }))
        .await;
    assert_eq!(cases(&list), vec!["26FL260001"], "{list:#}");
    let list = app.gql_as(Some(&lea), OVERDUE, json!({})).await;
    assert_eq!(error_field(&list), "court", "{list:#}");
    let other = app.mint(Role::Clerk, Some("SC38"));
    let list = app
        .gql_as(Some(&other), OVERDUE, json!({ "c": "SC19" }))
        .await;
    assert_eq!(
        list["errors"][0]["extensions"]["rule"], "own_court",
        "{list:#}"
    );
    let analyst = app.mint(Role::Analyst, None);
    let list = app
        .gql_as(Some(&analyst), OVERDUE, json!({ "c": "SC19" }))
        .await;
    assert_eq!(error_code(&list), "FORBIDDEN", "{list:#}");

    // Refused receipts: the wrong family's form, no filing time, an order without the term,
    // another court's clerk.
    let a = &app;
    let record = |token: String, input: Value| async move {
        a.gql_as(Some(&token), RECORD, json!({ "i": input })).await
    };
    let filed = hours(-1).to_rfc3339();
    for (input, field) in [
        (
            json!({ "orderId": late, "receiptForm": "GV-800", "receiptFiledAt": filed }),
            "receiptForm",
        ),
        (
            json!({ "orderId": late, "receiptForm": "DV-800" }),
            "receiptFiledAt",
        ),
        (json!({ "orderId": late }), "finding"),
        (
            json!({ "orderId": unarmed, "finding": "COMPLIED" }),
            "orderId",
        ),
    ] {
        let body = record(clerk.clone(), input).await;
        assert_eq!(error_code(&body), "VALIDATION", "{body:#}");
        assert_eq!(error_field(&body), field, "{body:#}");
    }
    let body = record(
        other.clone(),
        json!({ "orderId": late, "finding": "COMPLIED" }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["rule"], "own_court",
        "{body:#}"
    );

    // The receipt, naming the sheriff that took the firearms: no longer overdue.
    let body = record(
        clerk.clone(),
        json!({ "orderId": late, "receiptForm": "dv-800", "receiptFiledAt": filed, "agencyOri": "CA0190000" }),
    )
    .await;
    assert_eq!(
        body["data"]["recordFirearmCompliance"]["order"]["firearms"],
        json!({ "receiptForm": "DV-800", "finding": null, "overdue": false }),
        "{body:#}"
    );
    let d = app.data(FIREARMS, json!({ "o": late })).await;
    assert_eq!(
        d["order"]["firearms"]["receiptAgency"]["ori"], "CA0190000",
        "{d:#}"
    );
    let list = app.gql_as(Some(&clerk), OVERDUE, json!({})).await;
    assert_eq!(cases(&list), Vec::<String>::new(), "{list:#}");

    // A finding of non-compliance on the recent order, recorded now.
    let body = record(
        clerk.clone(),
        json!({ "orderId": recent, "finding": "NOT_COMPLIED" }),
    )
    .await;
    assert_eq!(
        body["data"]["recordFirearmCompliance"]["order"]["firearms"]["finding"], "NOT_COMPLIED",
        "{body:#}"
    );
    let d = app.data(FIREARMS, json!({ "o": recent })).await;
    assert!(
        (at(&d["order"]["firearms"]["findingAt"]) - Utc::now())
            .num_seconds()
            .abs()
            < 120
    );
}

/// A gun violence restraining order is relinquished under PC 18120 and its receipt is a GV-800.
#[tokio::test]
async fn a_gvro_receipt_is_a_gv800() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let mut o = dv_tro("26CV260004", 3);
    o["family"] = json!("GV");
    o["formNumber"] = json!("GV-110");
    o["expiresAt"] = json!(hours(24 * 15).to_rfc3339());
    let (id, _, _) = create(&app, o).await;
    let d = app.data(FIREARMS, json!({ "o": id })).await;
    assert_eq!(d["order"]["firearms"]["authority"], "PC 18120(b)", "{d:#}");
    let body = app
        .gql_as(
            Some(&clerk),
            RECORD,
            json!({ "i": { "orderId": id, "receiptForm": "DV-800", "receiptFiledAt": hours(-1).to_rfc3339() } }),
        )
        .await;
    assert_eq!(error_field(&body), "receiptForm", "{body:#}");
    let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains("GV-800") && msg.contains("18120"), "{msg}");
}
