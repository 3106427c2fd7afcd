use serde_json::{Value, json};

use crate::helpers::{CREATE, create, dv_tro, error_code, error_field, spawn_app};

#[tokio::test]
async fn create_order_stores_everything_in_one_go() {
    let app = spawn_app().await;
    let d = app
        .data(
            "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order {
                id caseNumber family formNumber kind status served judicialOfficer hearingDate
                court { code } source enteredByCourt { code }
                conditions { contactLevel stayAwayYards firearmRelinquishment bradyIndicator pcoCodes { code meaning } }
                parties { role relationship person { fullName dob estimatedAge age sex race heightInches hair eye aliases { lastName firstName } } }
                events { kind }
            } } }",
            json!({ "i": dv_tro("26STRO-01234", 2) }),
        )
        .await;
    let o = &d["createOrder"]["order"];
    assert_eq!(o["caseNumber"], "26STRO-01234");
    assert_eq!(o["kind"], "TEMPORARY");
    assert_eq!(o["status"], "ACTIVE");
    assert_eq!(o["served"], false);
    assert_eq!(o["source"], "COURT");
    assert_eq!(o["enteredByCourt"]["code"], "SC19");
    assert_eq!(o["conditions"]["contactLevel"], "NO_CONTACT");
    assert_eq!(o["conditions"]["pcoCodes"].as_array().unwrap().len(), 4);
    assert_eq!(o["conditions"]["bradyIndicator"], "UNKNOWN");
    assert_eq!(
        o["parties"][0]["person"]["fullName"],
        "Quintero Vale, Ramiro"
    );
    assert_eq!(
        o["parties"][0]["person"]["aliases"][0]["lastName"],
        "Quintero"
    );
    assert_eq!(o["parties"][0]["person"]["hair"], "BLACK");
    assert_eq!(o["parties"][1]["person"]["dob"], Value::Null);
    assert_eq!(o["parties"][1]["person"]["age"], 35);
    assert_eq!(o["events"], json!([{ "kind": "ISSUED" }]));
    assert_eq!(app.count("protective_order").await, 1);
    assert_eq!(app.count("person").await, 2);
}

#[tokio::test]
async fn order_person_and_node_lookups() {
    let app = spawn_app().await;
    let (order_id, restrained, _) = create(&app, dv_tro("22FL-01234", 1)).await;
    let d = app
        .data(
            "query($o: ID!, $p: ID!) {
                order(id: $o) { caseNumber }
                node(id: $o) { __typename id ... on Order { formNumber } }
                person(id: $p) { fullName orders { edges { node { id } } } }
                courtNode: node(id: \"Q291cnQ6MTk\") { ... on Court { code } }
            }",
            json!({ "o": order_id, "p": restrained }),
        )
        .await;
    assert_eq!(d["order"]["caseNumber"], "22FL-01234");
    assert_eq!(d["node"]["__typename"], "Order");
    assert_eq!(d["node"]["formNumber"], "DV-110");
    assert_eq!(
        d["person"]["orders"]["edges"][0]["node"]["id"],
        json!(order_id)
    );
    assert_eq!(d["courtNode"]["code"], "SC19");

    let missing = app
        .gql("{ order(id: \"T3JkZXI6OTk5OQ\") { id } }", json!({}))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
    let wrong_type = app
        .gql(
            "query($p: ID!) { order(id: $p) { id } }",
            json!({ "p": restrained }),
        )
        .await;
    assert_eq!(error_code(&wrong_type), "VALIDATION");
    let garbage = app.gql("{ node(id: \"%%%\") { id } }", json!({})).await;
    assert_eq!(error_code(&garbage), "VALIDATION");
}

#[tokio::test]
async fn case_number_search_ignores_punctuation_and_case() {
    let app = spawn_app().await;
    create(&app, dv_tro("22FL-01234", 3)).await;
    let mut other = dv_tro("22FL01234", 1);
    other["courtCode"] = json!("SC38");
    create(&app, other).await;
    create(&app, dv_tro("22FL-09999", 1)).await;

    let q = "query($c: String!, $court: String) { ordersByCaseNumber(caseNumber: $c, court: $court) { caseNumber court { code } } }";
    let all = app.data(q, json!({ "c": "22fl 01234" })).await;
    assert_eq!(all["ordersByCaseNumber"].as_array().unwrap().len(), 2);
    let la = app
        .data(q, json!({ "c": "22FL01234", "court": "SC19" }))
        .await;
    assert_eq!(
        la["ordersByCaseNumber"],
        json!([{ "caseNumber": "22FL-01234", "court": { "code": "SC19" } }])
    );
    let bad = app.gql(q, json!({ "c": "---" })).await;
    assert_eq!(error_code(&bad), "VALIDATION");
    assert_eq!(error_field(&bad), "caseNumber");
}

#[tokio::test]
async fn existing_persons_and_organizations_as_parties() {
    let app = spawn_app().await;
    let (_, restrained, _) = create(&app, dv_tro("23FL000001", 5)).await;
    let issued = chrono::Utc::now() - chrono::Duration::days(1);
    let rt = json!({
        "courtCode": "SC30", "caseNumber": "30-2026-00000001-CU-HR-CJC", "family": "RT", "formNumber": "RT-130",
        "issuedAt": issued.to_rfc3339(),
        "expiresAt": (issued + chrono::Duration::days(700)).to_rfc3339(),
        "conditions": { "pcoCodes": ["04"], "stayAwayYards": 100 },
        "parties": [
            { "role": "RESTRAINED", "personId": restrained },
            { "role": "PROTECTED", "person": { "partyType": "ORGANIZATION", "organizationName": "Synthetic Foods Inc." } }
        ]
    });
    let (_, again, org) = create(&app, rt).await;
    assert_eq!(again, restrained, "the same person, not a copy");
    let d = app
        .data("query($p: ID!, $o: ID!) { person(id: $p) { orders { edges { node { family } } } } org: person(id: $o) { partyType fullName } }", json!({ "p": restrained, "o": org }))
        .await;
    assert_eq!(d["person"]["orders"]["edges"].as_array().unwrap().len(), 2);
    assert_eq!(
        d["org"],
        json!({ "partyType": "ORGANIZATION", "fullName": "Synthetic Foods Inc." })
    );
    assert_eq!(app.count("person").await, 3);
}

/// Each bad input gets `VALIDATION` naming its field, and nothing is written.
#[tokio::test]
async fn bad_inputs_are_rejected_with_their_field_and_change_nothing() {
    let app = spawn_app().await;
    create(&app, dv_tro("24FL000100", 3)).await;
    let before = app.snapshot().await;
    let now = chrono::Utc::now();
    let set = |path: &[&str], v: Value| {
        let mut input = dv_tro("24FL000200", 1);
        let mut cur = &mut input;
        for (i, k) in path.iter().enumerate() {
            if i + 1 == path.len() {
                match k.parse::<usize>() {
                    Ok(n) => cur[n] = v.clone(),
                    Err(_) => cur[*k] = v.clone(),
                }
            } else {
                cur = match k.parse::<usize>() {
                    Ok(n) => &mut cur[n],
                    Err(_) => &mut cur[*k],
                };
            }
        }
        input
    };
    let mut epo = dv_tro("24EPO-000300", 0);
    epo["family"] = json!("EPO");
    epo["formNumber"] = json!("EPO-001");
    epo["hearingDate"] = Value::Null;
    epo["issuedAt"] = json!((now - chrono::Duration::hours(1)).to_rfc3339());
    epo["expiresAt"] = json!((now + chrono::Duration::days(8)).to_rfc3339());
    let mut no_protected = dv_tro("24FL000400", 1);
    no_protected["parties"].as_array_mut().unwrap().pop();
    let mut unknown_person = dv_tro("24FL000500", 1);
    unknown_person["parties"][1] = json!({ "role": "PROTECTED", "personId": "UGVyc29uOjk5OTk5" });
    let mut org_restrained = dv_tro("24FL000600", 1);
    org_restrained["parties"][0]["person"] =
        json!({ "partyType": "ORGANIZATION", "organizationName": "Acme" });

    let cases: Vec<(&str, Value, &str, &str)> = vec![
        ("EPO past 7 days", epo, "expiresAt", "6256"),
        (
            "form of another family",
            set(&["formNumber"], json!("CH-110")),
            "formNumber",
            "family",
        ),
        (
            "unknown form",
            set(&["formNumber"], json!("DV-999")),
            "formNumber",
            "unknown form",
        ),
        (
            "kind does not match form",
            set(&["kind"], json!("AFTER_HEARING")),
            "kind",
            "DV-110",
        ),
        ("no protected party", no_protected, "parties", "PROTECTED"),
        (
            "bad case number",
            set(&["caseNumber"], json!("22FL;01")),
            "caseNumber",
            "';'",
        ),
        (
            "unknown court",
            set(&["courtCode"], json!("SC77")),
            "courtCode",
            "SC77",
        ),
        (
            "not a court code",
            set(&["courtCode"], json!("Los Angeles")),
            "courtCode",
            "court code",
        ),
        (
            "DOB in the future",
            set(&["parties", "0", "person", "dob"], json!("2999-01-01")),
            "parties[0].person.dob",
            "future",
        ),
        (
            "name with digits",
            set(&["parties", "1", "person", "lastName"], json!("X3")),
            "parties[1].person.lastName",
            "'3'",
        ),
        (
            "alias without letters",
            set(
                &["parties", "0", "person", "aliases", "0", "lastName"],
                json!("--"),
            ),
            "parties[0].person.aliases[0].lastName",
            "letters",
        ),
        (
            "unknown existing person",
            unknown_person,
            "parties[1].personId",
            "no person",
        ),
        (
            "organization restrained",
            org_restrained,
            "parties[0].person.partyType",
            "protected",
        ),
        (
            "expiry before issue",
            set(
                &["expiresAt"],
                json!((now - chrono::Duration::days(5)).to_rfc3339()),
            ),
            "expiresAt",
            "after",
        ),
        (
            "TRO longer than the hearing window",
            set(
                &["expiresAt"],
                json!((now + chrono::Duration::days(40)).to_rfc3339()),
            ),
            "expiresAt",
            "25 days",
        ),
        (
            "issued in the future",
            set(
                &["issuedAt"],
                json!((now + chrono::Duration::days(2)).to_rfc3339()),
            ),
            "issuedAt",
            "future",
        ),
        (
            "bad PCO code",
            set(&["conditions", "pcoCodes", "1"], json!("10")),
            "conditions.pcoCodes[1]",
            "01 to 09",
        ),
        (
            "stay-away out of range",
            set(&["conditions", "stayAwayYards"], json!(0)),
            "conditions.stayAwayYards",
            "yards",
        ),
        (
            "LEA without ORI",
            set(&["source"], json!("LEA")),
            "enteredByAgencyOri",
            "ORI",
        ),
        (
            "party with neither id nor person",
            set(&["parties", "1"], json!({ "role": "PROTECTED" })),
            "parties[1]",
            "exactly one",
        ),
    ];
    for (what, input, field, needle) in cases {
        let body = app.gql(CREATE, json!({ "i": input })).await;
        assert_eq!(error_code(&body), "VALIDATION", "{what}: {body:#}");
        assert_eq!(error_field(&body), field, "{what}: {body:#}");
        let msg = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains(needle),
            "{what}: message {msg:?} lacks {needle:?}"
        );
        assert_eq!(body["data"], Value::Null, "{what}");
    }
    // A value the schema itself rejects (unknown enum) is refused before any resolver runs.
    let body = app
        .gql(CREATE, json!({ "i": set(&["family"], json!("XX")) }))
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("XX")
    );
    assert_eq!(
        app.snapshot().await,
        before,
        "nothing written by rejected inputs"
    );
}

#[tokio::test]
async fn lea_enters_an_epo() {
    let app = spawn_app().await;
    let epo = crate::helpers::epo("EPO26-000001", "CA0370000");
    let d = app
        .data("mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { kind source enteredByAgency { name } enteredByCourt { code } } } }", json!({ "i": epo }))
        .await;
    assert_eq!(
        d["createOrder"]["order"],
        json!({ "kind": "EMERGENCY", "source": "LEA", "enteredByAgency": { "name": "San Diego County Sheriff's Office" }, "enteredByCourt": null })
    );
}

/// An officer's lookup by case number reads the orders with their courts, parties, persons and
/// service records in one statement, answers for each order as `order(id)` does through the
/// loaders, and its audit row still names every person it showed.
#[tokio::test]
async fn lea_case_lookup_reads_once_and_answers_as_the_loaders_do() {
    use ccpor::auth::Role;
    let app = spawn_app().await;
    let (older, restrained, _) = create(&app, dv_tro("26FL800001", 2)).await;
    let mut other = dv_tro("26FL800001", 1);
    other["courtCode"] = json!("SC38");
    let (newer, _, _) = create(&app, other).await;
    let served = app
        .gql(
            "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id } } }",
            json!({ "i": { "orderId": older, "servedAt": chrono::Utc::now().to_rfc3339(),
                           "method": "PERSONAL", "agencyOri": "CA0190000" } }),
        )
        .await;
    assert!(served.get("errors").is_none(), "{served:#}");

    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let lookup = include_str!("../../schema/operations/LeaCaseLookup.graphql");
    let before = app.sql_stats.statements();
    let body = app
        .gql_as(Some(&lea), lookup, json!({ "caseNumber": "26FL800001" }))
        .await;
    let cost = app.sql_stats.statements() - before;
    assert!(body.get("errors").is_none(), "{body:#}");
    let found = body["data"]["ordersByCaseNumber"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{body:#}");
    assert_eq!(found[0]["id"], newer.as_str(), "newest first");
    assert_eq!(found[1]["id"], older.as_str());
    assert_eq!(found[1]["served"], true);
    assert_eq!(found[0]["served"], false);
    assert_eq!(found[0]["parties"].as_array().unwrap().len(), 2);
    // One read, and the audit row (three statements on a writer that does not know the chain's
    // head yet, one on PostgreSQL after). Through the loaders it took five reads.
    assert!(cost <= 4, "statements for an uncached lookup: {cost}");

    let fields = "id formNumber status served expiresAt court { name } \
        conditions { contactLevel stayAwayYards firearmRelinquishment specialConditions } \
        parties { role person { fullName dob sex heightInches weightPounds hair eye } }";
    for f in found {
        let one = app
            .gql_as(
                Some(&lea),
                &format!("query($id: ID!) {{ order(id: $id) {{ {fields} }} }}"),
                json!({ "id": f["id"] }),
            )
            .await;
        assert_eq!(&one["data"]["order"], f, "{one:#}");
    }

    let admin = app.mint(Role::Admin, None);
    let audit = app
        .gql_as(
            Some(&admin),
            "query($id: String) { auditEvents(filter: { objectId: $id }) { edges { node { role operation } } } }",
            json!({ "id": restrained }),
        )
        .await;
    let lookups = audit["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["role"] == "lea")
        .count();
    assert!(
        lookups >= 1,
        "the lookup's audit row names the person: {audit:#}"
    );
}
