//! The rules of law through the API: what `renewOrder` accepts for a domestic violence order
//! (Fam. Code 6345(a); docs/law/durations.md#renewal) and the lengths `createOrder` accepts.
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

/// `createOrder` of `form` (family from its prefix; EPO-002 is a gun violence form, PC 18148),
/// issued 2 days ago, expiring in `left` days.
fn order_of(form: &str, case: &str, left: Option<i64>) -> Value {
    let mut o = dv_oah(case, 2, 0);
    let family = match form {
        "EPO-002" => "GV",
        f => f.split('-').next().unwrap_or_default(),
    };
    o["family"] = json!(family);
    o["formNumber"] = json!(form);
    o["expiresAt"] = left.map_or(Value::Null, |l| json!(days(l)));
    o
}

#[tokio::test]
async fn gv130_runs_at_least_a_year_and_jv255_defaults_to_three() {
    let app = spawn_app().await;
    let clerk = app.mint(ccpor::auth::Role::Clerk, Some("SC19"));
    let q = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id issuedAt expiresAt } } }";
    let short = app
        .gql_as(
            Some(&clerk),
            q,
            json!({ "i": order_of("GV-130", "26CV250004", Some(180)) }),
        )
        .await;
    assert_eq!(error_code(&short), "VALIDATION", "{short:#}");
    assert_eq!(error_field(&short), "expiresAt", "{short:#}");
    assert!(
        short["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("AB 12")
    );
    let year = app
        .gql_as(
            Some(&clerk),
            q,
            json!({ "i": order_of("GV-130", "26CV250005", Some(366)) }),
        )
        .await;
    assert!(year.get("errors").is_none(), "{year:#}");

    let jv = app
        .gql_as(
            Some(&clerk),
            q,
            json!({ "i": order_of("JV-255", "26JV250006", None) }),
        )
        .await;
    assert!(jv.get("errors").is_none(), "{jv:#}");
    let o = &jv["data"]["createOrder"]["order"];
    let issued = chrono::DateTime::parse_from_rfc3339(o["issuedAt"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(o["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires,
        issued.checked_add_months(chrono::Months::new(36)).unwrap(),
        "JV-255 with no expiry ends 3 years after the hearing"
    );
}

/// Each form's cap through `createOrder`: the last allowed expiry is taken, a later one refused
/// with its authority (docs/law/durations.md#caps-in-the-code).
#[tokio::test]
async fn create_order_enforces_each_forms_cap() {
    let app = spawn_app().await;
    let clerk = app.mint(ccpor::auth::Role::Clerk, Some("SC19"));
    let q = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }";
    for (n, (form, ok, over, cite)) in [
        ("EPO-002", 18, 21, "18148"),
        ("GV-110", 18, 21, "18165"),
        ("CH-130", 5 * 365 - 5, 5 * 365 + 3, "527.6"),
        ("EA-130", 5 * 365 - 5, 5 * 365 + 3, "15657.03"),
        ("WV-130", 3 * 365 - 5, 3 * 365 + 3, "527.8"),
        ("RT-130", 2 * 365 - 5, 2 * 365 + 3, "490.8"),
        ("CR-160", 10 * 365 - 5, 10 * 365 + 5, "136.2(i)"),
    ]
    .into_iter()
    .enumerate()
    {
        let refused = app
            .gql_as(
                Some(&clerk),
                q,
                json!({ "i": order_of(form, &format!("26CV2510{n:02}"), Some(over)) }),
            )
            .await;
        assert_eq!(error_field(&refused), "expiresAt", "{form}: {refused:#}");
        let msg = refused["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(cite), "{form}: {msg}");
        let taken = app
            .gql_as(
                Some(&clerk),
                q,
                json!({ "i": order_of(form, &format!("26CV2520{n:02}"), Some(ok)) }),
            )
            .await;
        assert!(taken.get("errors").is_none(), "{form}: {taken:#}");
    }
}

/// Service by an officer's verbal notice (Fam. Code 6383(e), docs/law/lifecycle.md) and at the hearing in court (CR-160,
/// JV-255 form text) count as service, like personal service, from the time given.
#[tokio::test]
async fn verbal_notice_and_in_court_service_count_as_served() {
    let app = spawn_app().await;
    let q = "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { served } serviceRecord { method } } }";
    for (n, method) in ["VERBAL_NOTICE", "IN_COURT"].into_iter().enumerate() {
        let (id, _, _) = create(&app, dv_tro(&format!("26FL25300{n}"), 3)).await;
        let d = app
            .data(
                q,
                json!({ "i": { "orderId": id, "servedAt": days(-1), "method": method, "serverName": "Deputy Synthetic" } }),
            )
            .await;
        assert_eq!(
            d["recordService"],
            json!({ "order": { "served": true }, "serviceRecord": { "method": method } })
        );
        let before = app
            .data(
                "query($o: ID!, $t: DateTime) { order(id: $o) { served(asOf: $t) } }",
                json!({ "o": id, "t": days(-2) }),
            )
            .await;
        assert_eq!(before["order"]["served"], false, "{method}");
    }
}

/// An EPO-001 issued by an officer at `issued` (RFC 3339) that expires at `expires`.
fn epo_at(case: &str, issued: &str, expires: &str) -> Value {
    let mut o = crate::helpers::epo(case, "CA0370000");
    o["issuedAt"] = json!(issued);
    o["expiresAt"] = json!(expires);
    o
}

/// Fam. Code 6256 through `createOrder`: an EPO ends at the earlier of the close of the fifth
/// court day and the seventh calendar day after the day it is issued, weekends and court holidays
/// not counted (docs/law/durations.md#epo, docs/law/durations.md#court-holidays).
#[tokio::test]
async fn epo_ends_at_the_earlier_of_five_court_days_or_seven_days() {
    let app = spawn_app().await;
    let officer = app.mint(ccpor::auth::Role::Lea, Some("CA0370000"));
    let q = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id expiresAt } } }";
    let enter = |input: Value| app.gql_as(Some(&officer), q, json!({ "i": input }));
    let refused = |body: &Value, latest: &str| {
        assert_eq!(error_code(body), "VALIDATION", "{body:#}");
        assert_eq!(error_field(body), "expiresAt", "{body:#}");
        let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("6256"), "{msg}");
        assert!(
            msg.contains(latest),
            "names the latest allowed expiry: {msg}"
        );
    };

    // Issued Saturday 3 October 2026, 10:00 PDT: Monday to Friday are the five court days, so
    // the order ends with Friday 9 October (midnight PDT, 07:00 UTC), before the seventh day.
    let saturday = "2026-10-03T17:00:00Z";
    let body = enter(epo_at("EPO26-610001", saturday, "2026-10-10T17:00:00Z")).await;
    refused(&body, "2026-10-10 07:00 UTC");
    let body = enter(epo_at("EPO26-610002", saturday, "2026-10-10T07:00:00Z")).await;
    assert!(body.get("errors").is_none(), "{body:#}");

    // Issued the Thursday before Labor Day (Monday 7 September 2026): the holiday pushes the
    // fifth court day to Friday the 11th, after the seventh calendar day, so 7 days decide and
    // a 7-day EPO is lawful; a minute more is refused by the 7-day cap.
    let thursday = "2026-09-03T17:00:00Z";
    let body = enter(epo_at("EPO26-610003", thursday, "2026-09-10T17:00:00Z")).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = enter(epo_at("EPO26-610004", thursday, "2026-09-10T17:01:00Z")).await;
    refused(&body, "2026-09-10 17:00 UTC");

    // A Tuesday in a week without holidays behaves as before: 7 days, not a minute more.
    let tuesday = "2026-10-13T17:00:00Z";
    let body = enter(epo_at("EPO26-610005", tuesday, "2026-10-20T17:00:00Z")).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let body = enter(epo_at("EPO26-610006", tuesday, "2026-10-20T17:01:00Z")).await;
    refused(&body, "2026-10-20 17:00 UTC");

    // Before the holiday data's first year the court days cannot be counted: refused, naming
    // the years covered, unless the expiry is lawful whatever the holidays (5 days).
    let old = "2023-06-03T17:00:00Z";
    let body = enter(epo_at("EPO23-610007", old, "2023-06-09T17:00:00Z")).await;
    assert_eq!(error_field(&body), "expiresAt", "{body:#}");
    let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("2024 to 2028") && msg.contains("6256"),
        "{msg}"
    );
    let body = enter(epo_at("EPO23-610008", old, "2023-06-08T17:00:00Z")).await;
    assert!(body.get("errors").is_none(), "{body:#}");
}

/// Fam. Code 6256 holds for a modified EPO too: `modifyOrder` checks the new expiry against the
/// earlier of 5 court days or 7 days from the modification's issuance, whatever the weekday the
/// test runs on (docs/law/durations.md#epo).
#[tokio::test]
async fn modify_order_on_an_epo_keeps_family_code_6256() {
    use chrono::Timelike;
    let app = spawn_app().await;
    let officer = app.mint(ccpor::auth::Role::Lea, Some("CA0370000"));
    let input = crate::helpers::epo("EPO26-620001", "CA0370000");
    // The court's clerk changes an order; an officer only enters the EPO.
    let clerk = app.mint(ccpor::auth::Role::Clerk, input["courtCode"].as_str());
    let created = app
        .gql_as(
            Some(&officer),
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }",
            json!({ "i": input }),
        )
        .await;
    let id = created["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{created:#}"))
        .to_owned();
    let issued = chrono::Utc::now() - chrono::Duration::hours(1);
    let latest = ccpor::domain::epo::latest_expiry(issued).unwrap();
    let q = "mutation($i: ModifyOrderInput!) { modifyOrder(input: $i) { order { id expiresAt } } }";
    let modify = |expires: chrono::DateTime<chrono::Utc>| {
        app.gql_as(
            Some(&clerk),
            q,
            json!({ "i": { "orderId": id, "issuedAt": issued.to_rfc3339(), "expiresAt": expires.to_rfc3339(), "reason": "stay-away distance added" } }),
        )
    };
    for over in [
        latest + chrono::Duration::minutes(1),
        issued + chrono::Duration::days(7) + chrono::Duration::minutes(1),
    ] {
        let body = modify(over).await;
        assert_eq!(error_code(&body), "VALIDATION", "{body:#}");
        assert_eq!(error_field(&body), "expiresAt", "{body:#}");
        let msg = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("6256"), "{msg}");
    }
    let body = modify(latest).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    let got = body["data"]["modifyOrder"]["order"]["expiresAt"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(got).unwrap(),
        latest.with_nanosecond(0).unwrap()
    );
}

/// `formRules` reports each form's whole duration rule, not only its cap: EPO-001's 5 court
/// days beside its 7 days, the GV-130 minimum and the JV-255 default.
#[tokio::test]
async fn form_rules_report_the_whole_duration_rule() {
    let app = spawn_app().await;
    let d = app
        .data(
            "{ formRules { formNumber maxDays maxCourtDays maxYears minYears defaultYears duration citation } }",
            json!({}),
        )
        .await;
    let rules = d["formRules"].as_array().cloned().unwrap_or_default();
    let rule = |form: &str| {
        rules
            .iter()
            .find(|r| r["formNumber"] == form)
            .cloned()
            .unwrap_or_else(|| panic!("{form} missing: {d:#}"))
    };
    let epo = rule("EPO-001");
    assert_eq!(epo["maxDays"], 7);
    assert_eq!(epo["maxCourtDays"], 5);
    let words = epo["duration"].as_str().unwrap_or_default();
    assert!(words.contains("5th court day or 7 days"), "{words}");
    assert!(
        epo["citation"]
            .as_str()
            .unwrap_or_default()
            .contains("6256")
    );
    let gv = rule("GV-130");
    assert_eq!(
        (gv["minYears"].clone(), gv["maxYears"].clone()),
        (json!(1), json!(5))
    );
    assert_eq!(rule("JV-255")["defaultYears"], 3);
    assert_eq!(rule("EPO-002")["maxCourtDays"], Value::Null);
    assert_eq!(rule("EPO-002")["maxDays"], 21);
}
