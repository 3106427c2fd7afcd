//! What the law records beyond an order's terms, through HTTP: a criminal order's stage
//! (PC 136.2(a) and (i)(1)), custody and visitation terms that outlive a DV order (DV-130), and the
//! issuer of an out-of-state, tribal or territorial order (18 U.S.C. 2265; Fam. Code 6400 ff.).
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

const Q: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id criminalStage expiresAt custodyTerms foreignIssuer { kind jurisdiction court caseNumber } } } }";

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

/// An order of `form` (family from its prefix, or `family`), issued 30 days ago.
fn order(form: &str, family: Option<&str>, case: &str, expires: Option<String>) -> Value {
    let mut o = dv_tro(case, 30);
    o["family"] = json!(family.unwrap_or(form.split('-').next().unwrap_or_default()));
    o["formNumber"] = json!(form);
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = expires.map_or(Value::Null, |e| json!(e));
    o
}

fn refused(body: &Value, field: &str, cite: &str) {
    assert_eq!(error_code(body), "VALIDATION", "{body:#}");
    assert_eq!(error_field(body), field, "{body:#}");
    let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(msg.contains(cite), "{msg}");
}

#[tokio::test]
async fn criminal_orders_are_told_apart_by_stage() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let enter = |input: Value| app.gql_as(Some(&clerk), Q, json!({ "i": input }));
    // A post-conviction order with no expiry: refused (PC 136.2(i)(1) states an end date).
    let mut o = order("CR-160", None, "26CR250101", None);
    o["criminalStage"] = json!("POST_CONVICTION");
    refused(&enter(o).await, "expiresAt", "136.2(i)(1)");
    // With 10 years: taken and recorded.
    let mut o = order("CR-160", None, "26CR250102", Some(days(10 * 365 - 40)));
    o["criminalStage"] = json!("POST_CONVICTION");
    let body = enter(o).await;
    assert_eq!(
        body["data"]["createOrder"]["order"]["criminalStage"], "POST_CONVICTION",
        "{body:#}"
    );
    // Beyond 10 years: refused by the cap.
    let mut o = order("CR-161", None, "26CR250103", Some(days(10 * 365 + 10)));
    o["criminalStage"] = json!("POST_CONVICTION");
    refused(&enter(o).await, "expiresAt", "136.2(i)");
    // No stage and no expiry: a pre-judgment order, until the case ends.
    let body = enter(order("CR-160", None, "26CR250104", None)).await;
    let pre = &body["data"]["createOrder"]["order"];
    assert_eq!(pre["criminalStage"], "PRE_JUDGMENT", "{body:#}");
    assert_eq!(pre["expiresAt"], Value::Null);
    // A stage on a civil order is refused.
    let mut o = order("DV-130", None, "26FL250105", Some(days(300)));
    o["criminalStage"] = json!("PRE_JUDGMENT");
    refused(&enter(o).await, "criminalStage", "family CR");

    // On conviction the pre-judgment order is replaced by a post-conviction one: an expiry is
    // needed then too.
    let id = pre["id"].as_str().unwrap_or_default().to_owned();
    let m = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { criminalStage expiresAt } } }";
    let change = |expires: Value| {
        app.gql_as(
            Some(&clerk),
            m,
            json!({ "i": { "orderId": id, "issuedAt": days(-1), "criminalStage": "POST_CONVICTION", "expiresAt": expires, "reason": "sentenced" } }),
        )
    };
    refused(&change(Value::Null).await, "expiresAt", "136.2(i)(1)");
    let body = change(json!(days(3 * 365))).await;
    assert_eq!(
        body["data"]["modifyOrder"]["order"]["criminalStage"], "POST_CONVICTION",
        "{body:#}"
    );
}

/// Custody and visitation terms made in a DV-130 stay in effect after it ends, so the person's
/// history shows them on an expired chain.
#[tokio::test]
async fn custody_terms_outlive_the_dv_order_in_the_history() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let terms = "Protected parent: sole legal and physical custody of the child. Restrained parent: supervised visitation Saturdays 10:00-12:00.";
    let mut o = order("DV-130", None, "26FL250201", None);
    o["issuedAt"] = json!(days(-400));
    o["expiresAt"] = json!(days(-10));
    o["custodyTerms"] = json!(terms);
    let body = app.gql_as(Some(&clerk), Q, json!({ "i": o })).await;
    assert_eq!(
        body["data"]["createOrder"]["order"]["custodyTerms"], terms,
        "{body:#}"
    );
    let mut ch = order("CH-130", None, "26CH250202", Some(days(300)));
    ch["custodyTerms"] = json!(terms);
    let body = app.gql_as(Some(&clerk), Q, json!({ "i": ch })).await;
    refused(&body, "custodyTerms", "family DV");

    let (_, restrained, _) = create(&app, dv_tro("26FL250203", 1)).await;
    // The first order's restrained person: find them through the case number.
    let q = "{ ordersByCaseNumber(caseNumber: \"26FL250201\") { parties { role person { id } } } }";
    let d = app.data(q, json!({})).await;
    let person = d["ordersByCaseNumber"][0]["parties"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["role"] == "RESTRAINED"))
        .and_then(|p| p["person"]["id"].as_str())
        .unwrap_or_else(|| panic!("{d:#}"))
        .to_owned();
    assert!(!restrained.is_empty());
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let h = app
        .gql_as(
            Some(&bench),
            "query($p: ID!) { personHistory(personId: $p) { chains { status custodyTerms current { formNumber custodyTerms } } } }",
            json!({ "p": person }),
        )
        .await;
    let chains = h["data"]["personHistory"]["chains"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expired = chains
        .iter()
        .find(|c| c["current"]["formNumber"] == "DV-130")
        .unwrap_or_else(|| panic!("{h:#}"));
    assert_eq!(expired["status"], "EXPIRED", "{h:#}");
    assert_eq!(expired["custodyTerms"], terms);
    assert_eq!(expired["current"]["custodyTerms"], terms);
}

#[tokio::test]
async fn out_of_state_orders_are_registered_with_their_issuer() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let enter = |input: Value| app.gql_as(Some(&clerk), Q, json!({ "i": input }));
    let oos = |case: &str| order("DV-600", Some("OUT_OF_STATE"), case, Some(days(700)));
    refused(&enter(oos("26FL250301")).await, "foreignIssuer", "2265");
    let mut o = oos("26FL250302");
    o["foreignIssuer"] =
        json!({ "kind": "STATE", "jurisdiction": "CA", "court": "x", "caseNumber": "y" });
    refused(&enter(o).await, "foreignIssuer.jurisdiction", "California");
    let mut o = order("DV-130", None, "26FL250303", Some(days(300)));
    o["foreignIssuer"] =
        json!({ "kind": "STATE", "jurisdiction": "NV", "court": "x", "caseNumber": "y" });
    refused(&enter(o).await, "foreignIssuer", "OUT_OF_STATE");

    // A Nevada order as written (issued 30 days ago, two years), registered in Los Angeles.
    let mut o = oos("26FL250304");
    o["foreignIssuer"] = json!({ "kind": "STATE", "jurisdiction": "nv",
        "court": "Eighth Judicial District Court, Clark County", "caseNumber": "D-26-000123-P" });
    let body = enter(o).await;
    assert_eq!(
        body["data"]["createOrder"]["order"]["foreignIssuer"],
        json!({ "kind": "STATE", "jurisdiction": "NV",
                "court": "Eighth Judicial District Court, Clark County", "caseNumber": "D-26-000123-P" }),
        "{body:#}"
    );
    // A tribal order.
    let mut o = oos("26FL250305");
    o["foreignIssuer"] = json!({ "kind": "TRIBE", "jurisdiction": "Hoopa Valley Tribe",
        "court": "Hoopa Valley Tribal Court", "caseNumber": "HVTC-26-0042" });
    let body = enter(o).await;
    assert_eq!(
        body["data"]["createOrder"]["order"]["foreignIssuer"]["kind"], "TRIBE",
        "{body:#}"
    );
    // An analyst sees who issued it (through the de-identified list) but not the foreign case
    // number.
    let analyst = app.mint(Role::Analyst, None);
    let d = app
        .gql_as(
            Some(&analyst),
            "{ orders(first: 50) { edges { node { foreignIssuer { kind jurisdiction caseNumber } } } } }",
            json!({}),
        )
        .await;
    let tribal: Vec<&Value> = d["data"]["orders"]["edges"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| &e["node"]["foreignIssuer"])
                .filter(|f| f["kind"] == "TRIBE")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        tribal,
        vec![&json!({ "kind": "TRIBE", "jurisdiction": "Hoopa Valley Tribe", "caseNumber": null })],
        "{d:#}"
    );
    assert_eq!(error_code(&d), "FORBIDDEN", "{d:#}");
}
