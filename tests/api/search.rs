//! Person search through the API: one test per kind of variant a clerk or deputy types.
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, create, dv_tro, error_code, error_field, spawn_app};

const SEARCH: &str = "query($name: String, $first: String, $last: String, $dob: NaiveDate, $case: String,
    $role: PartyRole, $court: String, $county: String, $active: Boolean, $n: Int) {
  searchPersons(name: $name, firstName: $first, lastName: $last, dob: $dob, caseNumber: $case, role: $role,
                court: $court, county: $county, activeOnly: $active, first: $n) {
    edges { node { score explanation person { id fullName } } }
  }
}";

/// A DV TRO in `court` whose restrained person is `person` (JSON), issued `days_ago` days ago.
fn order_with(case: &str, court: &str, person: Value, days_ago: i64) -> Value {
    let mut o = dv_tro(case, days_ago);
    o["courtCode"] = json!(court);
    o["parties"][0]["person"] = person;
    o
}

/// Persons typed as on real petitions (synthetic names).
async fn seed(app: &TestApp) -> Vec<String> {
    let people = [
        (
            "SC19",
            json!({ "lastName": "García López", "firstName": "Roberto", "dob": "1985-03-14", "sex": "MALE" }),
            2,
        ),
        (
            "SC37",
            json!({ "lastName": "Nguyen", "firstName": "Minh", "dob": "1990-07-02", "sex": "MALE" }),
            2,
        ),
        (
            "SC10",
            json!({ "lastName": "de la Cruz", "firstName": "Guadalupe", "dob": "1979-11-30", "sex": "FEMALE" }),
            2,
        ),
        (
            "SC01",
            json!({ "lastName": "Smith", "firstName": "Katherine", "dob": "1982-05-06", "sex": "FEMALE" }),
            2,
        ),
        (
            "SC34",
            json!({ "lastName": "Okafor-Reyes", "firstName": "Jonathan", "estimatedAge": 40, "sex": "MALE" }),
            60,
        ),
        (
            "SC19",
            json!({ "lastName": "Garza", "firstName": "Ramona", "dob": "1985-03-14", "sex": "FEMALE" }),
            2,
        ),
    ];
    let mut ids = Vec::new();
    for (i, (court, person, days)) in people.into_iter().enumerate() {
        let (_, id, _) = create(
            app,
            order_with(&format!("26FL-5{i:04}"), court, person, days),
        )
        .await;
        ids.push(id);
    }
    ids
}

async fn search(app: &TestApp, vars: Value) -> Vec<Value> {
    let d = app.data(SEARCH, vars).await;
    d["searchPersons"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Polls until `vars` finds `person` (the indexer runs in the background).
async fn find(app: &TestApp, vars: Value, person: &str) -> (usize, Value) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let hits = search(app, vars.clone()).await;
        if let Some(pos) = hits.iter().position(|h| h["person"]["id"] == person) {
            return (pos, hits[pos].clone());
        }
        assert!(
            Instant::now() < deadline,
            "{vars} did not find {person}: {hits:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn explains(hit: &Value, needle: &str) -> bool {
    hit["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e.as_str().unwrap().to_lowercase().contains(needle))
}

#[tokio::test]
async fn a_saved_person_becomes_searchable() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, hit) = find(
        &app,
        json!({ "last": "Smith", "first": "Katherine" }),
        &ids[3],
    )
    .await;
    assert_eq!(pos, 0);
    assert_eq!(hit["person"]["fullName"], "Smith, Katherine");
    assert!(explains(&hit, "exact"), "{hit}");
}

#[tokio::test]
async fn typos_one_and_two_edits() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, hit) = find(
        &app,
        json!({ "last": "Snith", "first": "Katherine" }),
        &ids[3],
    )
    .await;
    assert_eq!(pos, 0, "{hit}");
    assert!(explains(&hit, "1 edit"), "{hit}");
    let (pos, hit) = find(
        &app,
        json!({ "last": "Smiht", "first": "Katherine" }),
        &ids[3],
    )
    .await;
    assert_eq!(pos, 0, "transposition: {hit}");
    let (pos, _) = find(&app, json!({ "name": "Katherinne Smoth" }), &ids[3]).await;
    assert_eq!(pos, 0);
}

#[tokio::test]
async fn phonetic_spellings() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, hit) = find(
        &app,
        json!({ "last": "Smyth", "first": "Katherine" }),
        &ids[3],
    )
    .await;
    assert_eq!(pos, 0, "{hit}");
    assert!(
        explains(&hit, "phonetic") || explains(&hit, "edit"),
        "{hit}"
    );
    let (pos, hit) = find(
        &app,
        json!({ "last": "Garsia Lopes", "first": "Roberto" }),
        &ids[0],
    )
    .await;
    assert_eq!(pos, 0, "{hit}");
}

#[tokio::test]
async fn nicknames_english_and_spanish() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, hit) = find(&app, json!({ "name": "Kathy Smith" }), &ids[3]).await;
    assert_eq!(pos, 0, "{hit}");
    assert!(explains(&hit, "nickname"), "{hit}");
    let (_, hit) = find(
        &app,
        json!({ "first": "Lupe", "last": "de la Cruz" }),
        &ids[2],
    )
    .await;
    assert!(explains(&hit, "nickname"), "{hit}");
    let (_, hit) = find(&app, json!({ "first": "Beto", "last": "Garcia" }), &ids[0]).await;
    assert!(explains(&hit, "nickname"), "{hit}");
}

#[tokio::test]
async fn compound_surnames_particles_and_accents() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    for vars in [
        json!({ "last": "Garcia Lopez", "first": "Roberto" }),
        json!({ "last": "Garcia", "first": "Roberto" }),
        json!({ "last": "Lopez", "first": "Roberto" }),
        json!({ "last": "Lopez Garcia", "first": "Roberto" }),
        json!({ "last": "Garcia-Lopez", "first": "Roberto" }),
        json!({ "name": "ROBERTO GARCIA LOPEZ" }),
    ] {
        let (pos, hit) = find(&app, vars.clone(), &ids[0]).await;
        assert_eq!(pos, 0, "{vars}: {hit}");
    }
    for vars in [
        json!({ "last": "Delacruz", "first": "Guadalupe" }),
        json!({ "last": "DeLaCruz", "first": "Guadalupe" }),
        json!({ "last": "Cruz", "first": "Guadalupe" }),
    ] {
        let (pos, hit) = find(&app, vars.clone(), &ids[2]).await;
        assert_eq!(pos, 0, "{vars}: {hit}");
    }
    let (pos, _) = find(
        &app,
        json!({ "last": "Okafor Reyes", "first": "Jonathan" }),
        &ids[4],
    )
    .await;
    assert_eq!(pos, 0);
}

#[tokio::test]
async fn given_and_family_name_swapped() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, _) = find(&app, json!({ "name": "Minh Nguyen" }), &ids[1]).await;
    assert_eq!(pos, 0);
    let (pos, hit) = find(&app, json!({ "first": "Nguyen", "last": "Minh" }), &ids[1]).await;
    assert_eq!(pos, 0, "{hit}");
    assert!(explains(&hit, "swap"), "{hit}");
}

#[tokio::test]
async fn dob_agreement_is_graded() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (_, exact) = find(
        &app,
        json!({ "last": "Nguyen", "dob": "1990-07-02" }),
        &ids[1],
    )
    .await;
    assert!(explains(&exact, "dob exact"), "{exact}");
    let (_, swapped) = find(
        &app,
        json!({ "last": "Nguyen", "dob": "1990-02-07" }),
        &ids[1],
    )
    .await;
    assert!(explains(&swapped, "swap"), "{swapped}");
    let (_, digit) = find(
        &app,
        json!({ "last": "Nguyen", "dob": "1990-07-03" }),
        &ids[1],
    )
    .await;
    assert!(explains(&digit, "digit"), "{digit}");
    let (_, year) = find(
        &app,
        json!({ "last": "Nguyen", "dob": "1989-07-02" }),
        &ids[1],
    )
    .await;
    assert!(explains(&year, "year"), "{year}");
    let score = |h: &Value| h["score"].as_f64().unwrap();
    assert!(
        score(&exact) > score(&swapped) && score(&exact) > score(&year),
        "exact DOB ranks highest"
    );
    // The same surname-ish name with the right DOB wins over the wrong DOB.
    let hits = search(&app, json!({ "last": "Garcia", "dob": "1985-03-14" })).await;
    assert_eq!(hits[0]["person"]["id"], json!(ids[0]));
    // An estimated age is matched by range.
    let (_, age) = find(&app, json!({ "last": "Okafor-Reyes", "dob": (chrono::Utc::now().date_naive() - chrono::Duration::days(41 * 365)).to_string() }), &ids[4]).await;
    assert!(explains(&age, "age"), "{age}");
}

#[tokio::test]
async fn case_number_only_and_dob_with_partial_name() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let (pos, hit) = find(&app, json!({ "case": "26fl 50002" }), &ids[2]).await;
    assert_eq!(pos, 0);
    assert!(explains(&hit, "case"), "{hit}");
    let (pos, _) = find(
        &app,
        json!({ "last": "Cruz", "dob": "1979-11-30" }),
        &ids[2],
    )
    .await;
    assert_eq!(pos, 0);
}

#[tokio::test]
async fn filters_role_court_county_and_active() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    find(&app, json!({ "last": "Smith" }), &ids[3]).await;
    assert!(
        search(&app, json!({ "last": "Smith", "role": "PROTECTED" }))
            .await
            .iter()
            .all(|h| h["person"]["id"] != json!(ids[3]))
    );
    assert!(
        search(&app, json!({ "last": "Smith", "county": "Fresno" }))
            .await
            .is_empty()
    );
    let (pos, _) = find(
        &app,
        json!({ "last": "Smith", "county": "alameda", "court": "SC01" }),
        &ids[3],
    )
    .await;
    assert_eq!(pos, 0);
    // Okafor-Reyes's only order expired (issued 60 days ago, 21-day TRO).
    find(&app, json!({ "last": "Okafor-Reyes" }), &ids[4]).await;
    assert!(
        search(&app, json!({ "last": "Okafor-Reyes", "active": true }))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn bad_search_input_gets_clear_errors() {
    let app = spawn_app().await;
    for (vars, field) in [
        (json!({ "dob": "1990-01-01" }), "name"),
        (json!({}), "name"),
        (json!({ "last": "x".repeat(101) }), "lastName"),
        (json!({ "last": "Smith", "county": "Gotham" }), "county"),
        (json!({ "last": "Smith", "court": "LA" }), "court"),
        (json!({ "case": "--" }), "caseNumber"),
        (json!({ "last": "Smith", "n": -1 }), "first"),
    ] {
        let body = app.gql(SEARCH, vars.clone()).await;
        assert_eq!(error_code(&body), "VALIDATION", "{vars}: {body}");
        assert_eq!(error_field(&body), field, "{vars}: {body}");
    }
}

/// A new instance (or one that crashed after commit, before indexing) catches up from the outbox.
#[tokio::test]
async fn a_fresh_index_catches_up_from_the_outbox() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let other = ccpor::search::Search::open(dir.path()).unwrap();
    let applied = other.catch_up(&app.db).await.unwrap();
    assert!(applied >= 6, "{applied}");
    let hits = other
        .index()
        .unwrap()
        .search(
            &ccpor_index::SearchQuery {
                last_name: Some("Smith".into()),
                ..Default::default()
            },
            5,
        )
        .unwrap();
    let (_, smith) = ccpor::domain::ids::decode_any("id", &ids[3]).unwrap();
    assert_eq!(hits[0].person_id, i64::from(smith));
    // Reopening resumes from the recorded position: nothing left to apply.
    drop(other);
    let reopened = ccpor::search::Search::open(dir.path()).unwrap();
    assert_eq!(reopened.catch_up(&app.db).await.unwrap(), 0);
}

/// `ccpor reindex` rebuilds beside the live index; the server switches when it is ready.
#[tokio::test]
async fn reindex_switches_the_live_index() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    find(&app, json!({ "last": "Nguyen" }), &ids[1]).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccpor"))
        .arg("reindex")
        .env("DATABASE_URL", &app.database_url)
        .env("CCPOR_DATA_DIR", app.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("indexed 12 persons"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let current = std::fs::read_to_string(app.data_dir().join("search/CURRENT")).unwrap();
    assert_ne!(current.trim(), "index-0");
    // Still searchable after the switch, and new writes reach the new index.
    let (_, id, _) = create(
        &app,
        order_with(
            "26FL-59999",
            "SC19",
            json!({ "lastName": "Vasquez-Ito", "firstName": "Renata" }),
            1,
        ),
    )
    .await;
    find(
        &app,
        json!({ "last": "Vasquez Ito", "first": "Renata" }),
        &id,
    )
    .await;
    find(&app, json!({ "last": "Nguyen" }), &ids[1]).await;
}

#[tokio::test]
async fn generational_suffix_is_ignored() {
    let app = spawn_app().await;
    let (_, id, _) = create(
        &app,
        order_with("26FL-58000", "SC07", json!({ "lastName": "Whitcombe", "firstName": "Marcus", "suffix": "Jr", "dob": "1971-09-09" }), 1),
    )
    .await;
    for vars in [
        json!({ "name": "Marcus Whitcombe" }),
        json!({ "name": "WHITCOMBE JR, MARCUS" }),
        json!({ "last": "Whitcombe Sr", "first": "Marcus" }),
    ] {
        let (pos, _) = find(&app, vars.clone(), &id).await;
        assert_eq!(pos, 0, "{vars}");
    }
}

const SEARCH_TYPED: &str =
    "query($first: String, $last: String, $dob: NaiveDate, $dobText: String) {
  searchPersons(firstName: $first, lastName: $last, dob: $dob, dobText: $dobText) {
    edges { node { score explanation person { id fullName } } }
  }
}";

/// `dobText` takes the DOB as a clerk types it; every match says how it was read.
#[tokio::test]
async fn dob_as_typed_is_read_and_explained() {
    let app = spawn_app().await;
    let ids = seed(&app).await;
    // wait for the indexer first
    find(&app, json!({ "last": "de la Cruz" }), &ids[2]).await;
    let typed = |last: &str, first: &str, text: &str| json!({ "last": last, "first": first, "dobText": text });
    for (text, dob_says, read_as) in [
        ("1979-11-30", "dob exact", None),
        (
            "11/30/1979",
            "dob exact",
            Some("dob 11/30/1979 read as 1979-11-30"),
        ),
        (
            "19791130",
            "dob exact",
            Some("dob 19791130 read as 1979-11-30"),
        ),
        (
            "1979-30-11",
            "dob exact",
            Some("dob 1979-30-11 read as 1979-11-30 (day and month swapped)"),
        ),
        (
            "2079-11-30",
            "dob month and day match",
            Some("read as ????-11-30 (year 2079 set aside)"),
        ),
        ("1979", "dob year matches", Some("read as 1979 (year only)")),
        (
            "11/1979",
            "dob year and month match",
            Some("read as 1979-11"),
        ),
        (
            "11/3O/1979",
            "dob exact",
            Some("read as 1979-11-30 (letters read as digits)"),
        ),
        (
            "11/31/1979",
            "dob year and month match",
            Some("read as 1979-11 (day 31 set aside)"),
        ),
        (
            "11/30/19799",
            "dob month and day match",
            Some("read as ????-11-30 (year 19799 set aside)"),
        ),
    ] {
        let body = app
            .gql(SEARCH_TYPED, typed("de la Cruz", "Guadalupe", text))
            .await;
        let hits = body["data"]["searchPersons"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{text}: {body}"));
        let hit = &hits[0]["node"];
        assert_eq!(hit["person"]["id"], json!(ids[2]), "{text}: {body}");
        assert!(explains(hit, dob_says), "{text}: {hit}");
        match read_as {
            Some(note) => assert!(explains(hit, note), "{text}: {hit}"),
            None => assert!(!explains(hit, "read as"), "{text}: {hit}"),
        }
    }
    // a placeholder name counts as no name: surname and DOB decide
    let body = app
        .gql(SEARCH_TYPED, typed("de la Cruz", "Unknown", "11/30/1979"))
        .await;
    assert_eq!(
        body["data"]["searchPersons"]["edges"][0]["node"]["person"]["id"],
        json!(ids[2]),
        "{body}"
    );
    // nothing but placeholders and no DOB: nothing to search by, said on the field (it was
    // an internal error)
    for vars in [
        json!({ "last": "Of The House", "first": "Mr" }),
        json!({ "last": "Unknown" }),
    ] {
        let body = app.gql(SEARCH_TYPED, vars.clone()).await;
        assert_eq!(error_code(&body), "VALIDATION", "{vars}: {body}");
        assert_eq!(error_field(&body), "name", "{vars}: {body}");
    }
    // what cannot be read is a clear error on the field
    for vars in [
        typed("Nguyen", "Minh", "yesterday"),
        typed("Nguyen", "Minh", "14/54/4984"),
        typed("Nguyen", "Minh", "2090"),
        json!({ "last": "Nguyen", "dob": "1990-07-02", "dobText": "1990-07-02" }),
    ] {
        let body = app.gql(SEARCH_TYPED, vars.clone()).await;
        assert_eq!(error_code(&body), "VALIDATION", "{vars}: {body}");
        assert_eq!(error_field(&body), "dobText", "{vars}: {body}");
    }
}

/// A party whose name is only placeholders and who has no DOB ("Unknown", as a clerk types it
/// for a protected person not named on the petition) is matched to no one, and the order's
/// other parties are still linked (the index's empty query failed the whole order's linking).
#[tokio::test]
async fn a_party_named_only_by_placeholders_leaves_the_others_linked() {
    let app = spawn_app().await;
    create(&app, dv_tro("26FL000776", 3)).await;
    assert_eq!(app.count("person_link").await, 0);
    let mut input = dv_tro("26FL000777", 1);
    input["parties"][1]["person"] = json!({ "lastName": "Unknown", "firstName": "Mr" });
    let (order, _, protected) = create(&app, input).await;
    assert!(!order.is_empty() && !protected.is_empty());
    // the restrained person, the same in both orders, is linked across them
    assert_eq!(app.count("person_link").await, 1);
}
