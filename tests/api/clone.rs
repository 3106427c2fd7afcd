//! `cloneOrder` through HTTP: a new order from an existing one's parties (the same person
//! records) and terms, validated like `createOrder` under its own form.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

const CLONE: &str = "mutation($i: CloneOrderInput!) { cloneOrder(input: $i) { order { id caseNumber formNumber court { code } supersedes { id } custodyTerms expiresAt \
    conditions { pcoCodes { code } contactLevel stayAwayYards firearmRelinquishment } parties { role relationship person { id } } } } }";

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

fn date(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n))
        .date_naive()
        .to_string()
}

fn persons(order: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = order["parties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["role"].as_str().unwrap_or_default().to_owned(),
                        p["person"]["id"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[tokio::test]
async fn a_clone_has_the_sources_parties_and_terms_and_its_own_form_rules() {
    let app = spawn_app().await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let mut src = dv_tro("26FL270001", 400);
    src["formNumber"] = json!("DV-130");
    src["hearingDate"] = Value::Null;
    src["expiresAt"] = json!(days(300));
    src["custodyTerms"] = json!("Protected parent: sole physical custody (synthetic).");
    let (id, restrained, protected) = create(&app, src).await;
    let clone = |input: Value| app.gql_as(Some(&clerk), CLONE, json!({ "i": input }));

    // Its own form's cap: a DV-130 of more than 5 years is refused (Fam. Code 6345(a)).
    let body = clone(json!({ "orderId": id, "caseNumber": "26FL270002", "issuedAt": days(0), "expiresAt": days(6 * 365) })).await;
    assert_eq!(error_code(&body), "VALIDATION", "{body:#}");
    assert_eq!(error_field(&body), "expiresAt", "{body:#}");
    // Another family without its form is refused.
    let body = clone(
        json!({ "orderId": id, "family": "CH", "issuedAt": days(0), "expiresAt": days(300) }),
    )
    .await;
    assert_eq!(error_field(&body), "formNumber", "{body:#}");

    let body = clone(json!({ "orderId": id, "caseNumber": "26FL270002", "issuedAt": days(0), "expiresAt": days(3 * 365) })).await;
    let o = &body["data"]["cloneOrder"]["order"];
    assert!(o["id"].is_string() && o["id"] != json!(id), "{body:#}");
    assert_eq!(o["caseNumber"], "26FL270002");
    assert_eq!(o["formNumber"], "DV-130");
    assert_eq!(o["court"]["code"], "SC19");
    assert_eq!(o["supersedes"], Value::Null, "a clone is not a successor");
    assert_eq!(
        o["custodyTerms"],
        "Protected parent: sole physical custody (synthetic)."
    );
    assert_eq!(
        o["conditions"],
        json!({ "pcoCodes": [{ "code": "01" }, { "code": "04" }, { "code": "05" }, { "code": "07" }],
                "contactLevel": "NO_CONTACT", "stayAwayYards": 100, "firearmRelinquishment": true })
    );
    assert_eq!(
        persons(o),
        vec![
            ("PROTECTED".to_owned(), protected.clone()),
            ("RESTRAINED".to_owned(), restrained.clone())
        ]
    );
    let rel = o["parties"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["role"] == "RESTRAINED"))
        .map(|p| p["relationship"].clone());
    assert_eq!(rel, Some(json!("former spouse")));

    // Into a civil harassment TRO: the custody terms stay with the DV order.
    let body = clone(
        json!({ "orderId": id, "family": "CH", "formNumber": "CH-110", "caseNumber": "26CH270003",
        "issuedAt": days(0), "expiresAt": days(20), "hearingDate": date(20) }),
    )
    .await;
    let o = &body["data"]["cloneOrder"]["order"];
    assert_eq!(o["formNumber"], "CH-110", "{body:#}");
    assert_eq!(o["custodyTerms"], Value::Null);
    assert_eq!(persons(o).len(), 2);

    // Another court's clerk may read the source but enters orders of their own court only.
    let other = app.mint(Role::Clerk, Some("SC38"));
    let body = app
        .gql_as(Some(&other), CLONE, json!({ "i": { "orderId": id, "caseNumber": "26FL270004", "issuedAt": days(0), "expiresAt": days(300) } }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["rule"], "own_court",
        "{body:#}"
    );
    let analyst = app.mint(Role::Analyst, None);
    let body = app
        .gql_as(
            Some(&analyst),
            CLONE,
            json!({ "i": { "orderId": id, "issuedAt": days(0), "expiresAt": days(300) } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
}
