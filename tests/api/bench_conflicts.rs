//! Conflicting orders through HTTP: each conflict kind, each precedence rule of Fam. Code 6457 /
//! PC 136.2, `createOrder` informing without blocking, `conflicts(orderId)` and
//! `checkConflicts(input)` over linked identities, on statewide synthetic data.
use ccpor::auth::Role;
use serde_json::{Value, json};

use crate::bench_support::{
    conflict_with, enter, existing, kinds, new_party, no_contact, order, order_id, party_id, person,
};
use crate::helpers::spawn_app;

/// Two persons entered with a first order; returns (payload, restrained id, protected id).
async fn pair(
    app: &crate::helpers::TestApp,
    court: &str,
    case: &str,
    form: &str,
    cond: Value,
    who: (&str, &str, &str),
    whom: (&str, &str, &str),
) -> (Value, String, String) {
    let p = enter(
        app,
        order(
            court,
            case,
            form,
            30,
            Some(if form.ends_with("110") { 21 } else { 700 }),
            cond,
            vec![
                new_party("RESTRAINED", person(who.0, who.1, Some(who.2), "MALE")),
                new_party("PROTECTED", person(whom.0, whom.1, Some(whom.2), "FEMALE")),
            ],
        ),
    )
    .await;
    let (r, pr) = (party_id(&p, "RESTRAINED"), party_id(&p, "PROTECTED"));
    (p, r, pr)
}

fn rule(c: &Value) -> (&str, bool) {
    (
        c["controlling"]["rule"].as_str().unwrap(),
        c["controlling"]["isCheckedOrder"].as_bool().unwrap(),
    )
}

#[tokio::test]
async fn bench_conflicts_each_kind_and_precedence_rule() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 300, 9, None).await.unwrap();

    // 1. Contact level, no-contact rule: a Los Angeles DV order after hearing forbids contact;
    // an Orange County order allows peaceful contact for exchanges.
    let (base, r, p) = pair(
        &app,
        "SC19",
        "26STRO20001",
        "DV-130",
        no_contact(),
        ("Abernathy Solis", "Dorian", "1981-05-14"),
        ("Abernathy Solis", "Marisol", "1983-08-22"),
    )
    .await;
    let o = enter(&app, order("SC30", "26FL000123", "DV-130", 1, Some(700),
        json!({ "pcoCodes": ["01", "04", "07"], "contactLevel": "PEACEFUL_CONTACT", "stayAwayYards": 100, "firearmRelinquishment": true }),
        vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)])).await;
    assert_eq!(o["order"]["status"], "ACTIVE", "never blocks");
    let c = conflict_with(&o["conflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["CONTACT_LEVEL"]);
    assert_eq!(c["direction"], "SAME");
    assert_eq!(rule(c), ("NO_CONTACT", false));
    assert_eq!(c["controlling"]["order"]["id"], order_id(&base));
    assert!(
        c["controlling"]["citation"]
            .as_str()
            .unwrap()
            .contains("Fam. Code 6457")
    );
    assert!(
        c["findings"][0]["citation"]
            .as_str()
            .unwrap()
            .contains("6320")
    );

    // 2. Stay-away distance, last-issued civil rule (Alameda vs Sacramento).
    let quiet = json!({ "pcoCodes": ["01", "04"], "contactLevel": "NONE", "stayAwayYards": 100 });
    let (base, r, p) = pair(
        &app,
        "SC01",
        "26CH004500",
        "CH-130",
        quiet.clone(),
        ("Nakamura-Reyes", "Tobias", "1975-02-03"),
        ("Halvorsen", "Ingrid", "1977-12-30"),
    )
    .await;
    let o = enter(
        &app,
        order(
            "SC34",
            "26CH-88120",
            "CH-130",
            2,
            Some(700),
            json!({ "pcoCodes": ["01", "04"], "contactLevel": "NONE", "stayAwayYards": 50 }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let c = conflict_with(&o["conflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["STAY_AWAY"]);
    assert!(
        c["findings"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("50 yards")
    );
    assert_eq!(rule(c), ("LAST_ISSUED_CIVIL", true));
    assert!(c["controlling"]["order"].is_null());

    // 3. Mutual orders with the residence given to each (Fresno vs Kern): reverse direction.
    let home = json!({ "pcoCodes": ["01", "03"], "contactLevel": "NONE", "moveOut": true });
    let (base, a, b) = pair(
        &app,
        "SC10",
        "26CEFL0331",
        "DV-130",
        home.clone(),
        ("Oyelaran", "Kwame", "1988-07-07"),
        ("Oyelaran", "Simone", "1989-03-19"),
    )
    .await;
    let o = enter(
        &app,
        order(
            "SC15",
            "BFL-26-1002",
            "DV-130",
            1,
            Some(700),
            home,
            vec![existing("RESTRAINED", &b), existing("PROTECTED", &a)],
        ),
    )
    .await;
    let c = conflict_with(&o["conflicts"], &order_id(&base));
    assert_eq!(c["direction"], "REVERSE");
    assert_eq!(kinds(c), vec!["MUTUAL", "RESIDENCE"]);
    assert!(
        c["findings"][0]["citation"]
            .as_str()
            .unwrap()
            .contains("2265(c)")
    );

    // 4. Children protected by a criminal order vs visitation in a family order; criminal order
    // issued last controls over a later civil one (San Diego vs Riverside).
    let cpo = enter(&app, order("SC37", "SCD-26-31337", "CR-160", 10, None,
        json!({ "pcoCodes": ["01", "04"], "contactLevel": "NONE", "stayAwayYards": 100 }),
        vec![
            new_party("RESTRAINED", person("Vasquez Ortega", "Emilio", Some("1986-10-01"), "MALE")),
            new_party("PROTECTED", person("Lindqvist", "Hanna", Some("1987-04-11"), "FEMALE")),
            json!({ "role": "ADDITIONAL_PROTECTED", "relationship": "child",
                    "person": { "lastName": "Vasquez Lindqvist", "firstName": "Mateo", "dob": "2018-06-01", "sex": "MALE", "confidential": true } }),
        ])).await;
    let (r, p) = (party_id(&cpo, "RESTRAINED"), party_id(&cpo, "PROTECTED"));
    let o = enter(
        &app,
        order(
            "SC33",
            "RIF-26-7781",
            "DV-130",
            2,
            Some(700),
            json!({ "pcoCodes": ["01", "04", "06"], "contactLevel": "NONE", "stayAwayYards": 100 }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let c = conflict_with(&o["conflicts"], &order_id(&cpo));
    assert_eq!(kinds(c), vec!["CHILDREN"]);
    assert!(
        c["findings"][0]["citation"]
            .as_str()
            .unwrap()
            .contains("5.445")
    );
    assert_eq!(rule(c), ("CRIMINAL_LAST_ISSUED", false));
    assert_eq!(c["controlling"]["order"]["id"], order_id(&cpo));

    // 5. Firearms prohibited in one order only (Contra Costa vs Marin).
    let (base, r, p) = pair(&app, "SC07", "MSC26-00412", "CH-130",
        json!({ "pcoCodes": ["01"], "contactLevel": "NONE", "stayAwayYards": 100, "firearmRelinquishment": true }),
        ("Delacroix", "Bastien", "1969-09-09"), ("Mwangi", "Achieng", "1971-01-21")).await;
    let o = enter(
        &app,
        order(
            "SC21",
            "CV-26-01990",
            "CH-130",
            3,
            Some(700),
            json!({ "pcoCodes": ["01"], "contactLevel": "NONE", "stayAwayYards": 100 }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let c = conflict_with(&o["conflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["FIREARMS"]);
    assert!(
        c["findings"][0]["citation"]
            .as_str()
            .unwrap()
            .contains("6389")
    );

    // 6. Duplicate: the same DV order entered in San Francisco as in Los Angeles; both forbid
    // contact, so the last issued controls.
    let (base, r, p) = pair(
        &app,
        "SC19",
        "26STRO30303",
        "DV-130",
        no_contact(),
        ("Papadopoulos", "Stavros", "1990-12-12"),
        ("Ionescu", "Ilinca", "1991-02-14"),
    )
    .await;
    let dup = enter(
        &app,
        order(
            "SC38",
            "FDV-26-000909",
            "DV-130",
            1,
            Some(700),
            no_contact(),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let c = conflict_with(&dup["conflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["DUPLICATE"]);
    assert_eq!(rule(c), ("LAST_ISSUED_CIVIL", true));

    // 7. An EPO controls over the no-contact DV orders (first rule), though it allows contact:
    // its 300-yard stay-away is more restrictive than each of them (PC 136.2(c)(1)).
    let epo = enter(
        &app,
        order(
            "SC19",
            "EPO-26-5550",
            "EPO-001",
            0,
            Some(5),
            json!({ "pcoCodes": ["01"], "contactLevel": "PEACEFUL_CONTACT", "stayAwayYards": 300 }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let c = conflict_with(&epo["conflicts"], &order_id(&base));
    assert_eq!(rule(c), ("EPO", true));
    assert!(kinds(c).contains(&"CONTACT_LEVEL".to_owned()));
    assert!(
        c["controlling"]["citation"]
            .as_str()
            .unwrap()
            .contains("136.2(c)(1)")
    );

    // conflicts(orderId) on the stored base order sees all three, each with its controller.
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    let q = "query($o: ID!) { conflicts(orderId: $o) { order { id } kinds controlling { order { id } isCheckedOrder rule } } }";
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&base) }))
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let all = &d["data"]["conflicts"];
    assert_eq!(all.as_array().unwrap().len(), 2, "{all:#}");
    let c = conflict_with(all, &order_id(&epo));
    assert_eq!(
        (
            c["controlling"]["order"]["id"].clone(),
            c["controlling"]["rule"].clone()
        ),
        (json!(order_id(&epo)), json!("EPO"))
    );
    // One controlling order among the three orders between these parties: the EPO, on the
    // duplicate's row too (not the duplicate, which a pair decided alone would name).
    let c = conflict_with(all, &order_id(&dup));
    assert_eq!(c["controlling"]["order"]["id"], order_id(&epo));

    // A terminated order no longer conflicts.
    let clerk_sf = app.mint(Role::Clerk, Some("SC38"));
    let t = app.gql_as(Some(&clerk_sf), "mutation($i: TerminateOrderInput!) { terminateOrder(input: $i) { order { status } } }",
        json!({ "i": { "orderId": order_id(&dup), "terminatedAt": crate::bench_support::days(0), "reason": "duplicate entry" } })).await;
    assert!(t.get("errors").is_none(), "{t:#}");
    let d = app
        .gql_as(Some(&bench), q, json!({ "o": order_id(&base) }))
        .await;
    assert_eq!(d["data"]["conflicts"].as_array().unwrap().len(), 1);

    // An analyst gets no conflicts (identified data).
    let analyst = app.mint(Role::Analyst, None);
    let d = app
        .gql_as(Some(&analyst), q, json!({ "o": order_id(&base) }))
        .await;
    assert_eq!(crate::helpers::error_code(&d), "FORBIDDEN");
}

#[tokio::test]
async fn bench_check_conflicts_on_a_draft_over_linked_records() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 200, 13, None).await.unwrap();
    let (base, _, _) = pair(
        &app,
        "SC19",
        "26STRO40404",
        "DV-130",
        no_contact(),
        ("Quintero Vale", "Ramiro", "1984-02-29"),
        ("Okonkwo-Lind", "Teodora", "1990-06-12"),
    )
    .await;
    // Drafted in Alameda with both persons typed anew, spelled a little differently.
    let draft = order(
        "SC01",
        "HG26-555000",
        "DV-110",
        0,
        Some(21),
        json!({ "pcoCodes": ["01", "06"], "contactLevel": "PEACEFUL_CONTACT", "stayAwayYards": 50 }),
        vec![
            new_party(
                "RESTRAINED",
                person("Quintero-Vale", "Ramiro", Some("1984-02-29"), "MALE"),
            ),
            new_party(
                "PROTECTED",
                person("Okonkwo Lind", "Teodora", Some("1990-06-12"), "FEMALE"),
            ),
        ],
    );
    let before = app.count("protective_order").await;
    let bench = app.mint(Role::BenchOfficer, Some("SC01"));
    let q = "query($i: CreateOrderInput!) { checkConflicts(input: $i) { order { id caseNumber } direction kinds controlling { isCheckedOrder rule } } }";
    let d = app.gql_as(Some(&bench), q, json!({ "i": draft })).await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let c = conflict_with(&d["data"]["checkConflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["CONTACT_LEVEL", "STAY_AWAY", "FIREARMS"]);
    assert_eq!(c["controlling"]["rule"], "NO_CONTACT");
    assert_eq!(c["controlling"]["isCheckedOrder"], false);
    assert_eq!(
        app.count("protective_order").await,
        before,
        "nothing stored"
    );
    assert_eq!(
        app.count("order_conflict").await,
        0,
        "a check records nothing"
    );
    // A bad draft is a validation error with its field.
    let mut bad = draft.clone();
    bad["formNumber"] = json!("CH-110");
    let d = app.gql_as(Some(&bench), q, json!({ "i": bad })).await;
    assert_eq!(crate::helpers::error_code(&d), "VALIDATION");
}

/// A modification or renewal is a new order and is checked like one: its payload carries the
/// conflicts with other chains, never with the order it supersedes.
#[tokio::test]
async fn bench_modified_and_renewed_orders_report_their_conflicts() {
    let app = spawn_app().await;
    let (base, r, p) = pair(
        &app,
        "SC19",
        "26STRO20901",
        "DV-130",
        no_contact(),
        ("Valdivieso Auclair", "Bruno", "1979-03-09"),
        ("Valdivieso Auclair", "Noemi", "1982-10-17"),
    )
    .await;
    // Another court's order between the same persons, allowing peaceful contact.
    let other = enter(
        &app,
        order(
            "SC30",
            "26FL020902",
            "DV-130",
            5,
            Some(60),
            json!({ "pcoCodes": ["01", "07"], "contactLevel": "PEACEFUL_CONTACT", "stayAwayYards": 100 }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    let clerk = app.mint(Role::Clerk, Some("SC30"));
    const FIELDS: &str = "order { id } previousOrder { id status }
        conflicts { order { id } kinds controlling { order { id } rule } }";
    let now = chrono::Utc::now();
    let d = app
        .gql_as(
            Some(&clerk),
            &format!("mutation($i: ModifyOrderInput!) {{ modifyOrder(input: $i) {{ {FIELDS} }} }}"),
            json!({ "i": { "orderId": order_id(&other), "issuedAt": (now - chrono::Duration::days(1)).to_rfc3339() } }),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let modified = &d["data"]["modifyOrder"];
    assert_eq!(modified["previousOrder"]["status"], "SUPERSEDED");
    let conflicts = modified["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "only the other chain: {conflicts:#?}");
    assert_eq!(conflicts[0]["order"]["id"], order_id(&base));
    assert_eq!(kinds(&conflicts[0]), vec!["CONTACT_LEVEL"]);
    assert_eq!(conflicts[0]["controlling"]["rule"], "NO_CONTACT");

    let d = app
        .gql_as(
            Some(&clerk),
            &format!("mutation($i: RenewOrderInput!) {{ renewOrder(input: $i) {{ {FIELDS} }} }}"),
            json!({ "i": { "orderId": modified["order"]["id"], "issuedAt": now.to_rfc3339(),
                           "expiresAt": (now + chrono::Duration::days(6 * 365)).to_rfc3339(),
                           "requestFiledOn": now.date_naive().to_string() } }),
        )
        .await;
    assert!(d.get("errors").is_none(), "{d:#}");
    let renewed = &d["data"]["renewOrder"];
    let conflicts = renewed["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:#?}");
    assert_eq!(conflicts[0]["order"]["id"], order_id(&base));
    // Recorded like createOrder's, so `conflicts(orderId)` of the renewal agrees.
    let q = app
        .gql_as(
            Some(&clerk),
            "query($o: ID!) { conflicts(orderId: $o) { order { id } } }",
            json!({ "o": renewed["order"]["id"] }),
        )
        .await;
    assert_eq!(
        q["data"]["conflicts"][0]["order"]["id"],
        order_id(&base),
        "{q:#}"
    );
}

/// The conflicts of a new order are recorded after the order commits; when that write fails (the
/// disk-full test saw it: the order took the disk's last room), the clerk is still told the order
/// was entered, with its conflicts, never that a stored order was refused (a resend would enter
/// it twice).
#[tokio::test]
async fn an_order_whose_conflicts_cannot_be_recorded_is_still_entered() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    let (base, r, p) = pair(
        &app,
        "SC19",
        "26STRO20901",
        "DV-130",
        no_contact(),
        ("Okonkwo Reyes", "Teodoro", "1979-02-11"),
        ("Okonkwo Reyes", "Luz", "1982-07-30"),
    )
    .await;
    let refuse = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => vec![
            "CREATE TRIGGER refuse_conflicts BEFORE INSERT ON order_conflict \
             BEGIN SELECT RAISE(ABORT, 'no room for the conflicts'); END",
        ],
        _ => vec![
            "CREATE FUNCTION refuse_conflicts() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'no room for the conflicts'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_conflicts BEFORE INSERT ON order_conflict \
             FOR EACH ROW EXECUTE FUNCTION refuse_conflicts()",
        ],
    };
    for sql in refuse {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    let o = enter(
        &app,
        order(
            "SC30",
            "26FL000924",
            "DV-130",
            1,
            Some(700),
            json!({ "pcoCodes": ["01", "04", "07"], "contactLevel": "PEACEFUL_CONTACT" }),
            vec![existing("RESTRAINED", &r), existing("PROTECTED", &p)],
        ),
    )
    .await;
    assert_eq!(o["order"]["status"], "ACTIVE");
    let c = conflict_with(&o["conflicts"], &order_id(&base));
    assert_eq!(kinds(c), vec!["CONTACT_LEVEL"]);
    let stored = app.count("order_conflict").await;
    assert_eq!(stored, 0, "the trigger refused the conflicts' rows");
}
