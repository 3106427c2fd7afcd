//! Builders for the bench officer's tests: orders of any family in any county, synthetic
//! persons, and `createOrder` returning the conflicts it found.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

/// Days ago that fall in the previous calendar month, five days before its end (statistics
/// count finished months only).
pub fn last_month_ago() -> i64 {
    use chrono::Datelike;
    i64::from(chrono::Utc::now().date_naive().day()) + 5
}

/// A synthetic person (names drawn by hand, no real person).
pub fn person(last: &str, first: &str, dob: Option<&str>, sex: &str) -> Value {
    let mut p = json!({ "lastName": last, "firstName": first, "sex": sex });
    match dob {
        Some(d) => p["dob"] = json!(d),
        None => p["estimatedAge"] = json!(34),
    }
    p
}

pub fn new_party(role: &str, p: Value) -> Value {
    json!({ "role": role, "person": p })
}

pub fn existing(role: &str, id: &str) -> Value {
    json!({ "role": role, "personId": id })
}

/// An order input: `form` decides the family; issued `ago` days ago, expiring after
/// `runs` days (None: until further order, where the form allows it).
pub fn order(
    court: &str,
    case: &str,
    form: &str,
    ago: i64,
    runs: Option<i64>,
    conditions: Value,
    parties: Vec<Value>,
) -> Value {
    // The family is the form's prefix (`DV-130` → DV, `EPO-001` → EPO, `CR-160` → CR).
    let family = form.split('-').next().unwrap_or("");
    let mut i = json!({
        "courtCode": court,
        "caseNumber": case,
        "family": family,
        "formNumber": form,
        "issuedAt": days(-ago),
        "judicialOfficer": "Hon. B. Synthetic",
        "conditions": conditions,
        "parties": parties,
    });
    if let Some(r) = runs {
        i["expiresAt"] = json!(days(r - ago));
    }
    i
}

pub const CREATE_CHECKED: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) {
    order { id status parties { role person { id } } }
    conflicts { order { id formNumber } direction kinds findings { kind detail citation }
                controlling { order { id } isCheckedOrder rule citation } } } }";

/// Enters an order as a clerk of its court; returns the payload (order and conflicts).
pub async fn enter(app: &TestApp, input: Value) -> Value {
    let token = app.mint(
        Role::Clerk,
        Some(input["courtCode"].as_str().unwrap_or("SC19")),
    );
    let body = app
        .gql_as(Some(&token), CREATE_CHECKED, json!({ "i": input }))
        .await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"]["createOrder"].clone()
}

/// The person id of the party in `role` of an entered order.
pub fn party_id(payload: &Value, role: &str) -> String {
    payload["order"]["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == role)
        .map(|p| p["person"]["id"].as_str().unwrap().to_owned())
        .unwrap()
}

pub fn order_id(payload: &Value) -> String {
    payload["order"]["id"].as_str().unwrap().to_owned()
}

/// The conflict with `other` in a payload's (or query's) conflict list.
pub fn conflict_with<'a>(conflicts: &'a Value, other: &str) -> &'a Value {
    conflicts
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["order"]["id"] == other)
        .unwrap_or_else(|| panic!("no conflict with {other} in {conflicts:#}"))
}

pub fn kinds(c: &Value) -> Vec<String> {
    c["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect()
}

pub fn no_contact() -> Value {
    json!({ "pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT", "stayAwayYards": 100,
            "firearmRelinquishment": true })
}
