//! Outside review (issue 22): narrowed scope, documents and statistics (items 4, 5, 7, 8, 10, 15).
use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use ccpor::domain::ids::{Kind, encode};
use serde_json::json;

use super::{messages, post, production};
use crate::bench_support::{enter, new_party, no_contact, order, order_id, party_id, person};
use crate::helpers::{TestApp, error_code, error_field, spawn_app, spawn_app_with};

/// One man entered in Los Angeles and again in Alameda, the two records linked automatically
/// (same name, DOB and descriptors). Returns (LA order, LA record, Alameda order, Alameda record).
async fn linked_across_counties(app: &TestApp) -> (String, String, String, String) {
    let la = enter(
        app,
        order("SC19", "26STRO05511", "DV-110", 3, Some(21), no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Arbuthnot Sele", "firstName": "Casimir",
                    "dob": "1983-07-19", "sex": "MALE", "heightInches": 70, "weightPounds": 180 } }),
            new_party("PROTECTED", person("Lindqvist", "Oriane", Some("1991-03-08"), "FEMALE")),
        ]),
    )
    .await;
    let ala = enter(
        app,
        order("SC01", "HG26-550231", "CH-110", 2, Some(21), no_contact(), vec![
            json!({ "role": "RESTRAINED", "person": { "lastName": "Arbuthnot-Sele", "firstName": "Casimir",
                    "dob": "1983-07-19", "sex": "MALE", "heightInches": 71, "weightPounds": 178,
                    "driverLicenseNumber": "D7715230" } }),
            new_party("PROTECTED", person("Marchetti", "Ysolde", Some("1980-12-01"), "FEMALE")),
        ]),
    )
    .await;
    (
        order_id(&la),
        party_id(&la, "RESTRAINED"),
        order_id(&ala),
        party_id(&ala, "RESTRAINED"),
    )
}

fn narrowed(token: &str, county: &str) -> String {
    attenuate(
        token,
        &Narrowing {
            county: Some(county.into()),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Item 4: a token narrowed to Los Angeles reads the Alameda record of a person linked across
/// the two counties through `Person.identity.links.persons` and
/// `personHistory.identity.links.persons` (a link was kept when either side was in scope, and
/// its persons loaded without a check), while `node(id:)` refuses the same record. No path may
/// show it: not its id, its name, its protected party or its driver licence.
#[tokio::test]
async fn item_04_identity_links_show_no_person_outside_a_narrowed_tokens_counties() {
    let app = spawn_app().await;
    let (_, la_record, _, ala_record) = linked_across_counties(&app).await;
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    // Statewide, the two records are one identity, linked automatically.
    let q = "query($p: ID!) { person(id: $p) { identity { persons { id }
               links { id linked persons { id fullName driverLicenseNumber } } } } }";
    let d = app.gql_as(Some(&judge), q, json!({ "p": la_record })).await;
    assert!(d.get("errors").is_none(), "{d:#}");
    assert!(
        d.to_string().contains(&ala_record),
        "linked statewide: {d:#}"
    );
    let link_id = d["data"]["person"]["identity"]["links"][0]["id"].clone();
    assert!(link_id.is_string(), "{d:#}");

    let la_only = narrowed(&judge, "Los Angeles");
    let history =
        "query($p: ID!) { personHistory(personId: $p) { identity { persons { id fullName }
                     links { id persons { id fullName driverLicenseNumber } } } } }";
    let node = "query($l: ID!, $p: ID!) { link: node(id: $l) { ... on PersonLink { persons { id fullName } } }
                  person: node(id: $p) { ... on Person { id fullName } } }";
    for (what, query, vars) in [
        ("Person.identity", q, json!({ "p": la_record })),
        ("personHistory.identity", history, json!({ "p": la_record })),
        ("node", node, json!({ "l": link_id, "p": ala_record })),
    ] {
        let d = app.gql_as(Some(&la_only), query, vars).await;
        let text = d.to_string();
        for leak in [
            ala_record.as_str(),
            "Arbuthnot-Sele",
            "D7715230",
            "Marchetti",
        ] {
            assert!(!text.contains(leak), "{what} shows {leak}: {d:#}");
        }
    }
    // The Los Angeles record itself stays visible.
    let d = app
        .gql_as(Some(&la_only), q, json!({ "p": la_record }))
        .await;
    assert_eq!(
        d["data"]["person"]["identity"]["persons"],
        json!([{ "id": la_record }]),
        "{d:#}"
    );
}

/// A query whose `inner` selection sits under `levels` fragment spreads (each fragment also
/// selects `__typename`, so every one is valid on its own).
fn nested_fragments(levels: usize, inner: &str) -> String {
    let mut q = String::from("query Deep { ...F0 }");
    for i in 0..levels {
        q.push_str(&format!(
            " fragment F{i} on QueryRoot {{ __typename ...F{} }}",
            i + 1
        ));
    }
    q.push_str(&format!(" fragment F{levels} on QueryRoot {{ {inner} }}"));
    q
}

/// Item 5 (anonymous access): fragments nested more than 8 deep hid `__schema` from the checks
/// before execution, so an anonymous caller got the whole schema from a `--production` server.
/// The walk now sees every root field however deep the fragments nest.
#[tokio::test]
async fn item_05_deep_fragments_hide_no_introspection_from_the_anonymous_check() {
    let probe = nested_fragments(12, "__schema { types { name fields { name } } }");
    // Production refuses introspection from anyone, before looking at the token.
    let prod = spawn_app_with(production()).await;
    let (status, body) = post(&prod, None, &probe).await;
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    assert!(
        !body.to_string().contains("driverLicenseNumber"),
        "{body:#}"
    );
    // A development server introspects for signed-in callers only.
    let dev = spawn_app().await;
    let (status, body) = post(&dev, None, &probe).await;
    assert_eq!(status, 401, "{body:#}");
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body:#}");
    assert!(
        !body.to_string().contains("driverLicenseNumber"),
        "{body:#}"
    );
    // Anonymous `__typename`, however deep, is still answered.
    let (status, body) = post(&prod, None, &nested_fragments(12, "__typename")).await;
    assert_eq!(
        (status, body["data"]["__typename"].clone()),
        (200, json!("QueryRoot"))
    );
}

/// Item 5 (audit): a `statistics` read under fragments nested more than 8 deep looked like a
/// reference-data read (`__typename` only) and wrote no audit row. It now writes its row, naming
/// the field, as the same read written flat does.
#[tokio::test]
async fn item_05_deep_fragments_hide_no_statistics_read_from_the_audit() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let app = spawn_app().await;
    let analyst = app.mint(Role::Analyst, None);
    let query = nested_fragments(
        12,
        "statistics(from: \"2026-01-01\", to: \"2026-01-31\", groupBy: COUNTY) { group }",
    );
    let rows = || {
        entities::audit_event::Entity::find()
            .filter(entities::audit_event::Column::Operation.contains("statistics"))
            .count(&app.db)
    };
    let before = rows().await.unwrap();
    let (status, body) = post(&app, Some(&analyst), &query).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    assert!(body["data"]["statistics"].is_array(), "{body:#}");
    assert_eq!(rows().await.unwrap(), before + 1, "the read is audited");
}

/// Item 7: page sizes did not count toward complexity, so an analyst's three nested
/// `orders(first: 100)` cost 13 units and returned 100,000 orders. Each page now multiplies the
/// cost of what it selects: the document is refused before anything runs, and the named
/// operations clients send every day still pass.
#[tokio::test]
async fn item_07_nested_pages_count_toward_complexity() {
    let app = spawn_app().await;
    let analyst = app.mint(Role::Analyst, None);
    let nested = "{ orders(first: 100) { edges { node { court {
        orders(first: 100) { edges { node { court {
          orders(first: 100) { edges { node { id issuedAt } } } } } } } } } } } }";
    let before = app.snapshot().await;
    let (_, body) = post(&app, Some(&analyst), nested).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION", "{body:#}");
    assert!(body["data"].is_null(), "{body:#}");
    assert!(messages(&body).contains("complex"), "{body:#}");
    assert_eq!(app.snapshot().await, before);
    // One page of 100 with a nested page of 10 is within bounds.
    let (status, body) = post(
        &app,
        Some(&analyst),
        "{ orders(first: 100) { edges { node { court { orders(first: 10) { edges { node { id } } } } } } } }",
    )
    .await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "{body:#}");
    // The named operations clients use are not refused for their cost.
    let judge = app.mint(Role::BenchOfficer, Some("SC19"));
    for op in ccpor::contract::operations::OPERATIONS {
        let token = if op.name == "AnalystExploration" {
            &analyst
        } else {
            &judge
        };
        let vars: serde_json::Value = serde_json::from_str(op.variables).unwrap();
        let d = app.gql_as(Some(token), op.document, vars).await;
        assert!(!messages(&d).contains("complex"), "{}: {d:#}", op.name);
        assert_ne!(error_code(&d), "GRAPHQL_VALIDATION", "{}: {d:#}", op.name);
    }
}

/// Item 8: small-cell suppression was undone by subtraction: two overlapping date ranges gave
/// 21 and 20, revealing one order on one day. Periods are now whole calendar months and a COUNTY
/// or FAMILY grouping covers exactly one month, so overlapping ranges are refused, and a month's
/// cell is the same whichever range of months asks for it; only finished months are counted.
/// (Differencing across groupings — a month's total minus its counties — is covered by
/// `bench_statistics` and the `statistics::suppression` unit tests.)
#[tokio::test]
async fn item_08_overlapping_statistics_periods_cannot_reveal_one_order() {
    use chrono::{Datelike, Months};
    let app = spawn_app().await;
    let analyst = app.mint(Role::Analyst, None);
    let stats = "query($f: NaiveDate!, $t: NaiveDate!, $g: StatisticsGroup!) {
        statistics(from: $f, to: $t, groupBy: $g) { group issued { value display } } }";
    // The ranges of the attack (a day apart) and a multi-month range to subtract from are refused.
    for (f, t, g, field) in [
        ("2026-01-01", "2026-01-20", "COUNTY", "to"),
        ("2026-01-01", "2026-01-21", "COUNTY", "to"),
        ("2026-01-02", "2026-01-31", "FAMILY", "from"),
        ("2026-01-01", "2026-02-28", "COUNTY", "to"),
        ("2026-01-01", "2026-03-31", "FAMILY", "to"),
        ("2026-01-01", "2026-01-30", "MONTH", "to"),
    ] {
        let d = app
            .gql_as(Some(&analyst), stats, json!({ "f": f, "t": t, "g": g }))
            .await;
        assert_eq!(error_code(&d), "VALIDATION", "{f}..{t} {g}: {d:#}");
        assert_eq!(error_field(&d), field, "{f}..{t} {g}: {d:#}");
        assert!(
            d["data"].is_null() || d["data"]["statistics"].is_null(),
            "{d:#}"
        );
    }
    // One order last month (only finished months are counted): its cell reads `<5` whichever
    // allowed period contains it.
    let today = chrono::Utc::now().date_naive();
    let ago = crate::bench_support::last_month_ago();
    enter(
        &app,
        order(
            "SC19",
            "26STRO80801",
            "DV-110",
            ago,
            Some(21),
            no_contact(),
            vec![
                new_party("RESTRAINED", person("Quillfeather", "Ansgar", None, "MALE")),
                new_party("PROTECTED", person("Quillfeather", "Marit", None, "FEMALE")),
            ],
        ),
    )
    .await;
    let this_month = today.with_day(1).unwrap();
    let first = this_month - Months::new(1);
    let last = this_month.pred_opt().unwrap();
    let earlier = first - Months::new(2);
    let mut seen = Vec::new();
    for (f, g) in [(first, "COUNTY"), (first, "MONTH"), (earlier, "MONTH")] {
        let d = app
            .gql_as(
                Some(&analyst),
                stats,
                json!({ "f": f.to_string(), "t": last.to_string(), "g": g }),
            )
            .await;
        assert!(d.get("errors").is_none(), "{d:#}");
        let rows = d["data"]["statistics"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0]["issued"], json!({ "value": null, "display": "<5" }));
        if g == "MONTH" {
            seen.push(rows[0].clone());
        }
    }
    assert_eq!(
        seen[0], seen[1],
        "a month's cell does not depend on the range asked"
    );
    // This month is still filling up: asked twice, it would show the orders entered between.
    let d = app
        .gql_as(
            Some(&analyst),
            stats,
            json!({ "f": this_month.to_string(),
                    "t": ((this_month + Months::new(1)).pred_opt().unwrap()).to_string(),
                    "g": "MONTH" }),
        )
        .await;
    assert_eq!(error_code(&d), "VALIDATION", "{d:#}");
    assert_eq!(error_field(&d), "to", "{d:#}");
}

/// Item 10: a clerk's token narrowed to Los Angeles widened its own scope by naming an Alameda
/// person in `createOrder` (the new order made that person "in scope", so the token could then
/// read them) or in `checkConflicts`. Both now refuse the id exactly as they refuse an id that
/// names no one.
#[tokio::test]
async fn item_10_a_narrowed_writer_cannot_name_a_person_outside_its_counties() {
    let app = spawn_app().await;
    let (_, _, _, ala_record) = linked_across_counties(&app).await;
    let clerk = narrowed(&app.mint(Role::Clerk, Some("SC19")), "Los Angeles");
    let missing = encode(Kind::Person, 987_654);
    let input = |restrained: &str| {
        order(
            "SC19",
            "26STRO05599",
            "DV-110",
            1,
            Some(21),
            no_contact(),
            vec![
                json!({ "role": "RESTRAINED", "personId": restrained }),
                new_party(
                    "PROTECTED",
                    person("Vasquez-Orme", "Delphine", Some("1993-05-05"), "FEMALE"),
                ),
            ],
        )
    };
    let create = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }";
    let check = "query($i: CreateOrderInput!) { checkConflicts(input: $i) { order { id } } }";
    let before = app.snapshot().await;
    for (what, query) in [("createOrder", create), ("checkConflicts", check)] {
        let refused = app
            .gql_as(Some(&clerk), query, json!({ "i": input(&ala_record) }))
            .await;
        let absent = app
            .gql_as(Some(&clerk), query, json!({ "i": input(&missing) }))
            .await;
        assert_eq!(error_code(&refused), "VALIDATION", "{what}: {refused:#}");
        assert!(refused["data"].is_null(), "{what}: {refused:#}");
        // The same answer as for an id that names no one, but for the id itself.
        assert_eq!(
            refused.to_string().replace(&ala_record, "ID"),
            absent.to_string().replace(&missing, "ID"),
            "{what}"
        );
    }
    assert_eq!(app.snapshot().await, before, "nothing was entered");
    // The Alameda person stays out of the token's reach.
    let d = app
        .gql_as(
            Some(&clerk),
            "query($p: ID!) { person(id: $p) { id } }",
            json!({ "p": ala_record }),
        )
        .await;
    assert_eq!(error_code(&d), "NOT_FOUND", "{d:#}");
    // Statewide, the same clerk may name the person.
    let statewide = app.mint(Role::Clerk, Some("SC19"));
    let d = app
        .gql_as(Some(&statewide), create, json!({ "i": input(&ala_record) }))
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
}

/// Item 15: a narrowed token told an existing id outside its counties (`FORBIDDEN`,
/// `token_county_scope`) from an id naming nothing (`NOT_FOUND`, or null from `node`). Every
/// lookup by id now answers both alike.
#[tokio::test]
async fn item_15_outside_a_narrowed_tokens_counties_an_id_answers_as_missing() {
    let app = spawn_app().await;
    let (_, _, ala_order, ala_record) = linked_across_counties(&app).await;
    let judge = narrowed(&app.mint(Role::BenchOfficer, Some("SC19")), "Los Angeles");
    let clerk = narrowed(&app.mint(Role::Clerk, Some("SC01")), "Los Angeles");
    let (no_order, no_person) = (encode(Kind::Order, 987_654), encode(Kind::Person, 987_654));
    let lookups: [(&str, &str, &str, &str); 7] = [
        (
            "node",
            "query($x: ID!) { node(id: $x) { id } }",
            &ala_order,
            &no_order,
        ),
        (
            "node",
            "query($x: ID!) { node(id: $x) { id } }",
            &ala_record,
            &no_person,
        ),
        (
            "order",
            "query($x: ID!) { order(id: $x) { id } }",
            &ala_order,
            &no_order,
        ),
        (
            "person",
            "query($x: ID!) { person(id: $x) { id } }",
            &ala_record,
            &no_person,
        ),
        (
            "personHistory",
            "query($x: ID!) { personHistory(personId: $x) { asOf } }",
            &ala_record,
            &no_person,
        ),
        (
            "conflicts",
            "query($x: ID!) { conflicts(orderId: $x) { kinds } }",
            &ala_order,
            &no_order,
        ),
        (
            "terminateOrder",
            "mutation($x: ID!) { terminateOrder(input: { orderId: $x,
               terminatedAt: \"2026-01-01T00:00:00Z\" }) { order { id } } }",
            &ala_order,
            &no_order,
        ),
    ];
    for (what, query, existing, missing) in lookups {
        let token = if what == "terminateOrder" {
            &clerk
        } else {
            &judge
        };
        let a = app
            .gql_as(Some(token), query, json!({ "x": existing }))
            .await;
        let b = app
            .gql_as(Some(token), query, json!({ "x": missing }))
            .await;
        assert!(!a.to_string().contains("FORBIDDEN"), "{what}: {a:#}");
        assert_eq!(
            a.to_string().replace(existing, "ID"),
            b.to_string().replace(missing, "ID"),
            "{what}"
        );
        if what == "node" {
            assert_eq!(a, json!({ "data": { "node": null } }), "{what}");
        } else {
            assert_eq!(error_code(&a), "NOT_FOUND", "{what}: {a:#}");
        }
    }
}
