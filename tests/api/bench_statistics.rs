//! Analyst statistics (de-identified, small cells suppressed) and the expiry job, through HTTP.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::bench_support::{
    days, enter, existing, last_month_ago, new_party, no_contact, order, order_id, party_id, person,
};
use crate::helpers::{error_code, spawn_app};

const STATS: &str = "query($f: NaiveDate!, $t: NaiveDate!, $g: StatisticsGroup!) { statistics(from: $f, to: $t, groupBy: $g) {
    group issued { value suppressed display } active { value display } expired { value display }
    served { display } unserved { display } withConflicts { value display } } }";

fn row<'a>(rows: &'a Value, group: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == group)
        .unwrap_or_else(|| panic!("no group {group}: {rows:#}"))
}

/// The first and last day of the calendar month `days_from_now` days from today (statistics
/// periods are whole calendar months).
fn month_of(days_from_now: i64) -> (String, String) {
    use chrono::{Datelike, Months};
    let d = (chrono::Utc::now() + chrono::Duration::days(days_from_now)).date_naive();
    let first = d.with_day(1).unwrap();
    let last = first + Months::new(1) - chrono::Duration::days(1);
    (first.to_string(), last.to_string())
}

const COLUMNS: [&str; 6] = [
    "issued",
    "active",
    "expired",
    "served",
    "unserved",
    "withConflicts",
];

/// Checks, from the answers alone, that `whole` = sum of `parts` (for every column) pins down no
/// suppressed count: never exactly one suppressed cell, and suppressed parts under a shown
/// whole never add up to under 5.
fn assert_no_subtraction_reveals(parts: &[&Value], whole: &Value, what: &str) {
    for col in COLUMNS {
        let hidden = |r: &Value| r[col]["value"].is_null();
        let n = parts.iter().filter(|r| hidden(r)).count() + usize::from(hidden(whole));
        assert_ne!(
            n, 1,
            "{what}: {col}: one suppressed cell is pinned by the others"
        );
        if n > 0 && !hidden(whole) {
            let shown: i64 = parts.iter().filter_map(|r| r[col]["value"].as_i64()).sum();
            let rest = whole[col]["value"].as_i64().unwrap() - shown;
            assert!(
                rest >= 5,
                "{what}: {col}: the suppressed cells add up to {rest}"
            );
        }
    }
}

#[tokio::test]
async fn bench_statistics_are_deidentified_and_suppress_small_cells() {
    let app = spawn_app().await;
    let ago = last_month_ago();
    // Los Angeles: 7 DV TROs last month (all active at its end) and 1 expired from an earlier
    // month; 5 of last month's served; one pair in conflict.
    let mut la = Vec::new();
    let men = [
        "Kalle", "Anders", "Casimir", "Evander", "Lorcan", "Matthias", "Oswin",
    ];
    let women = [
        "Nell", "Brigid", "Delphine", "Fenna", "Greta", "Ilse", "Juno",
    ];
    for i in 0..7 {
        let (ago, runs) = if i == 0 { (ago + 40, 20) } else { (ago, 21) };
        la.push(
            enter(
                &app,
                order(
                    "SC19",
                    &format!("26STRO8{i:04}"),
                    "DV-110",
                    ago,
                    Some(runs),
                    no_contact(),
                    vec![
                        new_party(
                            "RESTRAINED",
                            person(
                                "Sorensen-Adeyemi",
                                men[i as usize],
                                Some(&format!("1980-01-{:02}", i + 1)),
                                "MALE",
                            ),
                        ),
                        new_party(
                            "PROTECTED",
                            person(
                                "Fairweather",
                                women[i as usize],
                                Some(&format!("1982-03-{:02}", i + 1)),
                                "FEMALE",
                            ),
                        ),
                    ],
                ),
            )
            .await,
        );
    }
    let clerk_la = app.mint(Role::Clerk, Some("SC19"));
    for p in la.iter().skip(1).take(5) {
        let b = app.gql_as(Some(&clerk_la), "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }",
            json!({ "i": { "orderId": order_id(p), "servedAt": days(2 - ago), "method": "PERSONAL" } })).await;
        assert!(b.get("errors").is_none(), "{b:#}");
    }
    // A second order between the first active pair: a conflict (duplicate terms).
    enter(
        &app,
        order(
            "SC19",
            "26STRO89999",
            "DV-110",
            ago,
            Some(21),
            no_contact(),
            vec![
                existing("RESTRAINED", &party_id(&la[1], "RESTRAINED")),
                existing("PROTECTED", &party_id(&la[1], "PROTECTED")),
            ],
        ),
    )
    .await;
    // Mono County: 2 civil harassment orders; Alpine County: 3.
    for (i, (court, odo, ada)) in [
        ("SC26", "Odo", "Ada"),
        ("SC26", "Thaddeus", "Wilhelmina"),
        ("SC02", "Barnaby", "Cordelia"),
        ("SC02", "Ignatius", "Rosamund"),
        ("SC02", "Leopold", "Henrietta"),
    ]
    .into_iter()
    .enumerate()
    {
        enter(
            &app,
            order(
                court,
                &format!("26MNCH{i:03}"),
                "CH-110",
                ago,
                Some(21),
                json!({ "pcoCodes": ["01"], "contactLevel": "NONE" }),
                vec![
                    new_party(
                        "RESTRAINED",
                        person("Trevelyan", odo, Some("1966-06-06"), "MALE"),
                    ),
                    new_party(
                        "PROTECTED",
                        person("Pemberton", ada, Some("1970-07-07"), "FEMALE"),
                    ),
                ],
            ),
        )
        .await;
    }

    let analyst = app.mint(Role::Analyst, None);
    let (first, last) = month_of(-ago);
    let vars = |g: &str| json!({ "f": first, "t": last, "g": g });
    let d = app.gql_as(Some(&analyst), STATS, vars("COUNTY")).await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let rows = &d["data"]["statistics"];
    let la_row = row(rows, "Los Angeles");
    assert_eq!(
        la_row["issued"],
        json!({ "value": 7, "suppressed": false, "display": "7" })
    );
    assert_eq!(la_row["active"]["value"], 7);
    assert_eq!(la_row["expired"], json!({ "value": null, "display": "<5" }));
    assert_eq!(la_row["unserved"]["display"], "<5", "2 unserved");
    assert_eq!(
        la_row["served"],
        json!({ "display": "*" }),
        "5 served is withheld: 7 issued minus it would give the 2 unserved"
    );
    assert_eq!(
        la_row["withConflicts"]["display"], "<5",
        "2 orders in conflict"
    );
    let mono = row(rows, "Mono");
    assert_eq!(mono["issued"]["display"], "<5");
    assert_eq!(mono["issued"]["suppressed"], true);
    assert_eq!(row(rows, "Alpine")["issued"]["display"], "<5");
    // No names, DOBs or case numbers anywhere in the answer.
    let text = d.to_string();
    for secret in [
        "Sorensen",
        "Fairweather",
        "Trevelyan",
        "1980-01",
        "26STRO",
        "26MNCH",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let families = app.gql_as(Some(&analyst), STATS, vars("FAMILY")).await;
    let families = &families["data"]["statistics"];
    assert_eq!(row(families, "DV")["issued"]["value"], 7);
    assert_eq!(
        row(families, "CH")["issued"]["value"],
        5,
        "Mono's 2 and Alpine's 3 together are not small"
    );
    // The month's total (MONTH) minus the counties, or minus the families, reveals nothing;
    // nor does Los Angeles's total minus its families as a token narrowed to it sees them.
    let month = app.gql_as(Some(&analyst), STATS, vars("MONTH")).await;
    let total = &month["data"]["statistics"][0];
    assert_eq!(total["issued"]["value"], 12);
    let counties: Vec<&Value> = rows.as_array().unwrap().iter().collect();
    assert_no_subtraction_reveals(&counties, total, "month - counties");
    let fams: Vec<&Value> = families.as_array().unwrap().iter().collect();
    assert_no_subtraction_reveals(&fams, total, "month - families");
    let la_only = ccpor::auth::token::attenuate(
        &analyst,
        &ccpor::auth::token::Narrowing {
            county: Some("Los Angeles".to_owned()),
            ..Default::default()
        },
    )
    .unwrap();
    let la_families = app.gql_as(Some(&la_only), STATS, vars("FAMILY")).await;
    let la_fams: Vec<&Value> = la_families["data"]["statistics"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(la_fams.len(), 1, "{la_families:#}");
    assert_no_subtraction_reveals(&la_fams, la_row, "Los Angeles - its families");
    let la_month = app.gql_as(Some(&la_only), STATS, vars("MONTH")).await;
    assert_eq!(
        la_month["data"]["statistics"][0]["served"], la_row["served"],
        "a narrowed token is shown the same protected cell"
    );
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": month_of(-ago - 60).0, "t": last, "g": "MONTH" }),
        )
        .await;
    let months = d["data"]["statistics"].as_array().unwrap();
    let total_visible: i64 = months
        .iter()
        .filter_map(|r| r["issued"]["value"].as_i64())
        .sum();
    assert!(!months.is_empty() && total_visible <= 12, "{months:?}");
    // The expired order, issued 40 days earlier, counts in its own month (alone: suppressed).
    let (f, t) = month_of(-ago - 40);
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": f, "t": t, "g": "COUNTY" }),
        )
        .await;
    assert_eq!(
        row(&d["data"]["statistics"], "Los Angeles")["issued"]["display"],
        "<5"
    );
    // Bad periods (backwards; the current month, still filling up) and roles without data
    // access.
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": first, "t": month_of(-ago - 40).1, "g": "MONTH" }),
        )
        .await;
    assert_eq!(error_code(&d), "VALIDATION");
    let (this_first, this_last) = month_of(0);
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": this_first, "t": this_last, "g": "COUNTY" }),
        )
        .await;
    assert_eq!(error_code(&d), "VALIDATION", "{d:#}");
    assert_eq!(d["errors"][0]["extensions"]["field"], "to");
    let admin = app.mint(Role::Admin, None);
    let d = app.gql_as(Some(&admin), STATS, vars("COUNTY")).await;
    assert_eq!(error_code(&d), "FORBIDDEN");
}

#[tokio::test]
async fn bench_expiry_job_records_events_once_and_notifies() {
    let app = spawn_app().await;
    let o = enter(
        &app,
        order(
            "SC19",
            "26STRO90001",
            "DV-110",
            20,
            Some(21),
            no_contact(),
            vec![
                new_party(
                    "RESTRAINED",
                    person("Marchetti", "Livio", Some("1977-04-04"), "MALE"),
                ),
                new_party(
                    "PROTECTED",
                    person("Marchetti", "Giada", Some("1979-09-09"), "FEMALE"),
                ),
            ],
        ),
    )
    .await;
    let id = order_id(&o);
    // Expires tomorrow; sweep as of two days from now (the server's own job sweeps at the real
    // time and so leaves it alone).
    // (Subscribers hear of it through the event relay: subscriptions.rs.)
    let later = chrono::Utc::now() + chrono::Duration::days(2);
    let sent = ccpor::service::expiry::sweep(&app.db, later).await.unwrap();
    let n = ccpor::domain::ids::decode("id", ccpor::domain::ids::Kind::Order, &id).unwrap();
    assert!(sent.iter().any(|(o, _)| *o == n), "{sent:?}");
    assert!(
        ccpor::service::expiry::sweep(&app.db, later)
            .await
            .unwrap()
            .is_empty(),
        "once per order"
    );
    let q = "query($o: ID!, $t: DateTime) { order(id: $o) { status(asOf: $t) expiresAt events { kind occurredAt } } }";
    let d = app
        .data(q, json!({ "o": id, "t": later.to_rfc3339() }))
        .await;
    let ev = d["order"]["events"].as_array().unwrap();
    assert_eq!(
        ev.iter().filter(|e| e["kind"] == "EXPIRED").count(),
        1,
        "{ev:?}"
    );
    let expired = ev.iter().find(|e| e["kind"] == "EXPIRED").unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(expired["occurredAt"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(d["order"]["expiresAt"].as_str().unwrap()).unwrap()
    );
    assert_eq!(d["order"]["status"], "EXPIRED");
}
