//! The rules of law through the API: what `renewOrder` accepts for a domestic violence order
//! (Fam. Code 6345(a); docs/law/durations.md#renewal).
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

fn date(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n))
        .date_naive()
        .to_string()
}

/// A DV-130 issued `ago` days ago that expires in `left` days.
fn dv_oah(case: &str, ago: i64, left: i64) -> Value {
    let mut o = dv_tro(case, ago);
    o["formNumber"] = json!("DV-130");
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = json!(days(left));
    o
}

const RENEW: &str = "mutation($i: RenewOrderInput!) { renewOrder(input: $i) { order { id expiresAt } previousOrder { status } } }";

#[tokio::test]
async fn dv_renewal_follows_family_code_6345() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_oah("26FL250001", 300, 30)).await;
    let before = app.snapshot().await;
    for (input, field, cite) in [
        // No request date: refused, naming the field.
        (
            json!({ "orderId": id, "issuedAt": days(0), "expiresAt": days(6 * 365) }),
            "requestFiledOn",
            "6345",
        ),
        // Filed more than 3 months before expiry.
        (
            json!({ "orderId": id, "issuedAt": days(0), "expiresAt": days(6 * 365), "requestFiledOn": date(-70) }),
            "requestFiledOn",
            "6345",
        ),
        // Filed after the renewal order.
        (
            json!({ "orderId": id, "issuedAt": days(-1), "expiresAt": days(6 * 365), "requestFiledOn": date(0) }),
            "requestFiledOn",
            "",
        ),
        // Shorter than 5 years.
        (
            json!({ "orderId": id, "issuedAt": days(0), "expiresAt": days(4 * 365), "requestFiledOn": date(-5) }),
            "expiresAt",
            "6345",
        ),
    ] {
        let body = app.gql(RENEW, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "VALIDATION", "{body:#}");
        assert_eq!(error_field(&body), field, "{body:#}");
        let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(cite), "{msg}");
    }
    assert_eq!(
        app.snapshot().await,
        before,
        "refused renewals leave nothing"
    );

    let d = app
        .data(
            RENEW,
            json!({ "i": { "orderId": id, "issuedAt": days(0), "expiresAt": days(5 * 365 + 2), "requestFiledOn": date(-5) } }),
        )
        .await;
    assert_eq!(d["renewOrder"]["previousOrder"]["status"], "SUPERSEDED");
    assert!(d["renewOrder"]["order"]["expiresAt"].is_string());
}

#[tokio::test]
async fn expired_dv_order_cannot_be_renewed_but_permanent_renewal_can() {
    let app = spawn_app().await;
    let (expired, _, _) = create(&app, dv_oah("26FL250002", 400, -2)).await;
    let body = app
        .gql(
            RENEW,
            json!({ "i": { "orderId": expired, "issuedAt": days(0), "expiresAt": null, "requestFiledOn": date(-20) } }),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION", "{body:#}");
    assert_eq!(error_field(&body), "issuedAt", "{body:#}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("expired"),
        "{body:#}"
    );

    let (open, _, _) = create(&app, dv_oah("26FL250003", 300, 10)).await;
    let d = app
        .data(
            RENEW,
            json!({ "i": { "orderId": open, "issuedAt": days(0), "expiresAt": null, "requestFiledOn": date(-1) } }),
        )
        .await;
    assert_eq!(d["renewOrder"]["order"]["expiresAt"], Value::Null);
}
