//! `workList` through HTTP: each kind holds the orders it names and no others, for the caller's
//! court, paged and refused outside the caller's reach.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{create, dv_tro, error_code, error_field, spawn_app};

const LIST: &str = "query($k: WorkListKind!, $c: String, $w: Int, $f: Int, $a: String) { workList(kind: $k, court: $c, withinDays: $w, first: $f, after: $a) { edges { node { caseNumber } } pageInfo { hasNextPage endCursor } } }";

fn days(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n)).to_rfc3339()
}

fn date(n: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(n))
        .date_naive()
        .to_string()
}

/// An order after hearing of `form`, issued 300 days ago, expiring in `left` days.
fn after_hearing(form: &str, case: &str, left: i64) -> Value {
    let mut o = dv_tro(case, 300);
    o["family"] = json!(form.split('-').next().unwrap_or_default());
    o["formNumber"] = json!(form);
    o["hearingDate"] = Value::Null;
    o["expiresAt"] = json!(days(left));
    o
}

fn cases(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = body["data"]["workList"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{body:#}"))
        .iter()
        .filter_map(|e| e["node"]["caseNumber"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn each_work_list_holds_what_it_names() {
    let app = spawn_app().await;
    let serve = |id: String, hours: i64| {
        app.data(
            "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }",
            json!({ "i": { "orderId": id, "servedAt": (chrono::Utc::now() + chrono::Duration::hours(hours)).to_rfc3339(), "method": "PERSONAL" } }),
        )
    };
    // A: DV-130 expiring in 10 days, unserved. B: DV-130 expiring in 200 days, served.
    create(&app, after_hearing("DV-130", "26FL280001", 10)).await;
    let (b, _, _) = create(&app, after_hearing("DV-130", "26FL280002", 200)).await;
    serve(b.clone(), -24 * 200).await;
    let b_id = b;
    // C: a TRO whose hearing was 3 days ago, still standing (expires in 4 days), served.
    let mut c = dv_tro("26FL280003", 20);
    c["expiresAt"] = json!(days(4));
    c["hearingDate"] = json!(date(-3));
    let (c, _, _) = create(&app, c).await;
    serve(c, -24 * 19).await;
    // D: a TRO served 50 hours ago with firearms to relinquish and no receipt.
    let (d, _, _) = create(&app, dv_tro("26FL280004", 3)).await;
    serve(d, -50).await;
    // E: a civil harassment order expiring in 10 days, unserved (no renewal window).
    create(&app, after_hearing("CH-130", "26CH280005", 10)).await;
    // Another court's order expiring in 10 days.
    let mut other = after_hearing("DV-130", "26FL280006", 10);
    other["courtCode"] = json!("SC38");
    create(&app, other).await;

    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let list = |vars: Value| app.gql_as(Some(&clerk), LIST, vars);
    let all = ["26CH280005", "26FL280001", "26FL280003", "26FL280004"];
    assert_eq!(cases(&list(json!({ "k": "EXPIRING_SOON" })).await), all);
    assert_eq!(
        cases(&list(json!({ "k": "EXPIRING_SOON", "w": 5 })).await),
        ["26FL280003"]
    );
    assert_eq!(
        cases(&list(json!({ "k": "RENEWAL_WINDOW" })).await),
        ["26FL280001"]
    );
    assert_eq!(
        cases(&list(json!({ "k": "UNSERVED" })).await),
        ["26CH280005", "26FL280001"]
    );
    assert_eq!(
        cases(&list(json!({ "k": "HEARING_PASSED" })).await),
        ["26FL280003"]
    );
    // Every served order with firearms to relinquish and no receipt, until one is filed.
    assert_eq!(
        cases(&list(json!({ "k": "FIREARMS_OVERDUE" })).await),
        ["26FL280002", "26FL280003", "26FL280004"]
    );
    app.data(
        "mutation($i: RecordFirearmComplianceInput!) { recordFirearmCompliance(input: $i) { order { id } } }",
        json!({ "i": { "orderId": b_id, "receiptForm": "DV-800", "receiptFiledAt": days(-150) } }),
    )
    .await;
    assert_eq!(
        cases(&list(json!({ "k": "FIREARMS_OVERDUE" })).await),
        ["26FL280003", "26FL280004"]
    );

    // Paged: two, then the rest after the cursor.
    let page = list(json!({ "k": "EXPIRING_SOON", "f": 2 })).await;
    assert_eq!(
        page["data"]["workList"]["pageInfo"]["hasNextPage"], true,
        "{page:#}"
    );
    let cursor = page["data"]["workList"]["pageInfo"]["endCursor"].clone();
    let rest = list(json!({ "k": "EXPIRING_SOON", "f": 2, "a": cursor })).await;
    assert_eq!(
        rest["data"]["workList"]["pageInfo"]["hasNextPage"], false,
        "{rest:#}"
    );
    let mut seen = [cases(&page), cases(&rest)].concat();
    seen.sort();
    assert_eq!(seen, all);

    // Refused: a look-ahead over a year, another court's clerk, a de-identified role; law
    // enforcement names the court.
    let body = list(json!({ "k": "EXPIRING_SOON", "w": 400 })).await;
    assert_eq!(error_field(&body), "withinDays", "{body:#}");
    let sc38 = app.mint(Role::Clerk, Some("SC38"));
    let body = app
        .gql_as(Some(&sc38), LIST, json!({ "k": "UNSERVED", "c": "SC19" }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["rule"], "own_court",
        "{body:#}"
    );
    let body = app
        .gql_as(Some(&sc38), LIST, json!({ "k": "EXPIRING_SOON" }))
        .await;
    assert_eq!(cases(&body), ["26FL280006"]);
    let analyst = app.mint(Role::Analyst, None);
    let body = app
        .gql_as(
            Some(&analyst),
            LIST,
            json!({ "k": "UNSERVED", "c": "SC19" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let body = app
        .gql_as(
            Some(&lea),
            LIST,
            json!({ "k": "HEARING_PASSED", "c": "SC19" }),
        )
        .await;
    assert_eq!(cases(&body), ["26FL280003"]);
}

/// Sets columns of the one CARPOS transmission of an order.
async fn set_transmission(app: &crate::helpers::TestApp, order_id: &str, set: &str) {
    use sea_orm::ConnectionTrait;
    let id = ccpor::domain::ids::decode("id", ccpor::domain::ids::Kind::Order, order_id).unwrap();
    let n = app
        .db
        .execute_unprepared(&format!(
            "UPDATE carpos_transmission SET {set} WHERE order_id = {id}"
        ))
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 1, "one transmission for order {order_id}");
}

/// TRANSMISSION_PROBLEMS: an entry held for missing data, one CARPOS rejected, one not
/// acknowledged by its Fam. Code 6380(a) due time; not one queued and on time, nor another
/// court's held entry. (No CARPOS peer here: the rejection and the passing of the due time are
/// written as the transmitter and the clock would leave them.)
#[tokio::test]
async fn transmission_problems_lists_rejected_held_and_late() {
    let app = spawn_app().await;
    let (_on_time, _, _) = create(&app, dv_tro("26FL290001", 1)).await;
    let mut held = dv_tro("26FL290002", 1);
    held["parties"][0]["person"]["heightInches"] = Value::Null;
    held["parties"][0]["person"]["hair"] = Value::Null;
    create(&app, held.clone()).await;
    let (rejected, _, _) = create(&app, dv_tro("26FL290003", 1)).await;
    set_transmission(
        &app,
        &rejected,
        "state = 'rejected', error = 'CARPOS rejected ETO: DUPLICATE'",
    )
    .await;
    let (late, _, _) = create(&app, dv_tro("26FL290004", 3)).await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(2)).format("%Y-%m-%d %H:%M:%S");
    set_transmission(&app, &late, &format!("due_by = '{past}'")).await;
    let mut other = held;
    other["caseNumber"] = json!("26FL290005");
    other["courtCode"] = json!("SC38");
    create(&app, other).await;

    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let body = app
        .gql_as(Some(&clerk), LIST, json!({ "k": "TRANSMISSION_PROBLEMS" }))
        .await;
    assert_eq!(
        cases(&body),
        ["26FL290002", "26FL290003", "26FL290004"],
        "{body:#}"
    );
    // Acknowledged in time: off the list.
    set_transmission(&app, &late, "state = 'acknowledged', fcn = '0000000000001'").await;
    let body = app
        .gql_as(Some(&clerk), LIST, json!({ "k": "TRANSMISSION_PROBLEMS" }))
        .await;
    assert_eq!(cases(&body), ["26FL290002", "26FL290003"], "{body:#}");
}

/// A county instead of a court: the county's courts (a superior court and a tribal court in
/// Humboldt), within what the token may see.
#[tokio::test]
async fn unserved_by_county_within_the_tokens_reach() {
    use ccpor::auth::token::{Narrowing, attenuate};
    let app = spawn_app().await;
    for (court, case) in [
        ("SC12", "26FL300001"),
        ("TC01", "26FL300002"),
        ("SC19", "26FL300003"),
        ("SC38", "26FL300004"),
    ] {
        let mut o = dv_tro(case, 2);
        o["courtCode"] = json!(court);
        create(&app, o).await;
    }
    let q = "query($k: WorkListKind!, $c: String, $n: String) { workList(kind: $k, court: $c, county: $n) { edges { node { caseNumber } } } }";
    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let humboldt = app
        .gql_as(Some(&lea), q, json!({ "k": "UNSERVED", "n": "humboldt" }))
        .await;
    assert_eq!(
        cases(&humboldt),
        ["26FL300001", "26FL300002"],
        "{humboldt:#}"
    );
    // A token narrowed to Los Angeles reads Los Angeles, not Humboldt.
    let narrowed = attenuate(
        &lea,
        &Narrowing {
            county: Some("Los Angeles".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let la = app
        .gql_as(
            Some(&narrowed),
            q,
            json!({ "k": "UNSERVED", "n": "Los Angeles" }),
        )
        .await;
    assert_eq!(cases(&la), ["26FL300003"], "{la:#}");
    let body = app
        .gql_as(
            Some(&narrowed),
            q,
            json!({ "k": "UNSERVED", "n": "Humboldt" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    // A court role: its own court only, and only in its own county.
    let clerk = app.mint(Role::Clerk, Some("SC12"));
    let own = app
        .gql_as(Some(&clerk), q, json!({ "k": "UNSERVED", "n": "Humboldt" }))
        .await;
    assert_eq!(cases(&own), ["26FL300001"], "{own:#}");
    let body = app
        .gql_as(
            Some(&clerk),
            q,
            json!({ "k": "UNSERVED", "n": "San Francisco" }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["rule"], "own_court",
        "{body:#}"
    );
    // One of court and county; a real county.
    let body = app
        .gql_as(
            Some(&lea),
            q,
            json!({ "k": "UNSERVED", "c": "SC12", "n": "Humboldt" }),
        )
        .await;
    assert_eq!(error_field(&body), "county", "{body:#}");
    let body = app
        .gql_as(Some(&lea), q, json!({ "k": "UNSERVED", "n": "Gotham" }))
        .await;
    assert_eq!(error_field(&body), "county", "{body:#}");
}
