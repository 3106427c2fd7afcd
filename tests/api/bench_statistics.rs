//! Analyst statistics (de-identified, small cells suppressed) and the expiry job, through HTTP.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::bench_support::{
    days, enter, existing, new_party, no_contact, order, order_id, party_id, person,
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

#[tokio::test]
async fn bench_statistics_are_deidentified_and_suppress_small_cells() {
    let app = spawn_app().await;
    // Los Angeles: 7 DV TROs (6 active this month, 1 expired from an earlier month), 5 of them
    // served; one pair in conflict. (Issued today so that they fall in this calendar month.)
    let mut la = Vec::new();
    let men = [
        "Kalle", "Anders", "Casimir", "Evander", "Lorcan", "Matthias", "Oswin",
    ];
    let women = [
        "Nell", "Brigid", "Delphine", "Fenna", "Greta", "Ilse", "Juno",
    ];
    for i in 0..7 {
        let (ago, runs) = if i == 0 { (40, 20) } else { (0, 21) };
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
            json!({ "i": { "orderId": order_id(p), "servedAt": days(0), "method": "PERSONAL" } })).await;
        assert!(b.get("errors").is_none(), "{b:#}");
    }
    // A second order between the first active pair: a conflict (duplicate terms).
    enter(
        &app,
        order(
            "SC19",
            "26STRO89999",
            "DV-110",
            0,
            Some(21),
            no_contact(),
            vec![
                existing("RESTRAINED", &party_id(&la[1], "RESTRAINED")),
                existing("PROTECTED", &party_id(&la[1], "PROTECTED")),
            ],
        ),
    )
    .await;
    // Mono County: 2 orders only.
    for (i, (odo, ada)) in [("Odo", "Ada"), ("Thaddeus", "Wilhelmina")]
        .into_iter()
        .enumerate()
    {
        enter(
            &app,
            order(
                "SC26",
                &format!("26MNCH{i:03}"),
                "CH-110",
                0,
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
    let (first, last) = month_of(0);
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
    assert_eq!(
        la_row["served"]["display"], "<5",
        "3 unserved would be revealed by subtraction"
    );
    assert_eq!(la_row["unserved"]["display"], "<5");
    assert_eq!(
        la_row["withConflicts"]["display"], "<5",
        "2 orders in conflict"
    );
    let mono = row(rows, "Mono");
    assert_eq!(mono["issued"]["display"], "<5");
    assert_eq!(mono["issued"]["suppressed"], true);
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
    let d = app.gql_as(Some(&analyst), STATS, vars("FAMILY")).await;
    assert_eq!(row(&d["data"]["statistics"], "DV")["issued"]["value"], 7);
    assert_eq!(
        row(&d["data"]["statistics"], "CH")["issued"]["display"],
        "<5"
    );
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": month_of(-60).0, "t": last, "g": "MONTH" }),
        )
        .await;
    let months = d["data"]["statistics"].as_array().unwrap();
    let total_visible: i64 = months
        .iter()
        .filter_map(|r| r["issued"]["value"].as_i64())
        .sum();
    assert!(!months.is_empty() && total_visible <= 10, "{months:?}");
    // The expired order, issued 40 days ago, counts in its own month (alone: suppressed).
    let (f, t) = month_of(-40);
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
    // Bad periods and roles without data access.
    let d = app
        .gql_as(
            Some(&analyst),
            STATS,
            json!({ "f": first, "t": month_of(-40).1, "g": "MONTH" }),
        )
        .await;
    assert_eq!(error_code(&d), "VALIDATION");
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
    let n = ccpor::ids::decode("id", ccpor::ids::Kind::Order, &id).unwrap();
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
