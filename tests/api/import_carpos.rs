//! The import's batch path writes each new chain's CARPOS entry from the rows the batch itself
//! wrote (the order, its new persons; only persons that existed before are read). The rows must
//! be those the stored facts give, for every kind of party, on the batch path and on the
//! one-order-at-a-time path a failing batch falls back to; and a bad line among good ones costs
//! only itself.
use std::collections::BTreeMap;

use ccpor::carpos::{facts, mapping};
use entities::carpos_transmission as tx;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::helpers::{TestApp, create, dv_tro, spawn_app};

/// Imports `lines` in batches of 10 (so each file is one batch).
async fn import(app: &TestApp, lines: &[Value]) -> ccpor::import::ImportReport {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    ccpor::import::import_ndjson(
        &app.db,
        std::io::Cursor::new(text),
        ccpor::import::BatchSize::Fixed(10),
        None,
    )
    .await
    .unwrap()
}

/// Each stored transmission row, by order: (seq, message key, person, missing fields).
type Rows = BTreeMap<i32, Vec<(i32, String, Option<i32>, Option<String>)>>;

async fn transmissions(app: &TestApp) -> Rows {
    let mut out = Rows::new();
    for r in tx::Entity::find()
        .order_by_asc(tx::Column::OrderId)
        .order_by_asc(tx::Column::Seq)
        .all(&app.db)
        .await
        .unwrap()
    {
        out.entry(r.order_id).or_default().push((
            r.seq,
            r.message_key,
            r.person_id,
            r.missing_fields,
        ));
    }
    out
}

/// What the stored facts of `order_id` say its entry rows must be: the entry's missing
/// mandatory fields, and one supplemental per protected person after the first.
async fn expected(app: &TestApp, order_id: i32) -> (Option<String>, Vec<Option<i32>>) {
    let tables = mapping::tables().unwrap();
    let all = facts::load(&app.db, &[order_id]).await.unwrap();
    let f = &all[&order_id];
    let (_, missing) = facts::record_fields(f, tables);
    let supplementals = f.protected.iter().skip(1).map(|p| Some(p.id)).collect();
    (
        (!missing.is_empty()).then(|| missing.join(",")),
        supplementals,
    )
}

async fn check_against_stored_facts(app: &TestApp, rows: &Rows) {
    for (&order_id, list) in rows {
        let (missing, supplementals) = expected(app, order_id).await;
        let (first, rest) = list.split_first().unwrap();
        assert_eq!(first.0, 1, "order {order_id}: {list:?}");
        assert_eq!(first.3, missing, "order {order_id}: {list:?}");
        let persons: Vec<Option<i32>> = rest.iter().map(|r| r.2).collect();
        assert_eq!(persons, supplementals, "order {order_id}: {list:?}");
    }
}

#[tokio::test]
async fn imported_entries_are_those_the_stored_facts_give() {
    let app = spawn_app().await;
    // A person entered before: a line may name them by id.
    let (_, restrained, _) = create(&app, dv_tro("26FL600000", 3)).await;
    let before = transmissions(&app).await;

    let complete = dv_tro("26FL600001", 2);
    let mut no_race = dv_tro("26FL600002", 2);
    no_race["parties"][0]["person"]
        .as_object_mut()
        .unwrap()
        .remove("race");
    let mut two_protected = dv_tro("26FL600003", 2);
    two_protected["parties"].as_array_mut().unwrap().push(json!({
        "role": "ADDITIONAL_PROTECTED", "relationship": "child",
        "person": { "lastName": "Okonkwo-Lind", "firstName": "Ada", "estimatedAge": 9, "sex": "FEMALE" }
    }));
    let mut known_restrained = dv_tro("26FL600004", 2);
    known_restrained["parties"][0] = json!({ "role": "RESTRAINED", "personId": restrained });
    let mut bad_dob = dv_tro("26FL600005", 2);
    bad_dob["parties"][0]["person"]["dob"] = json!("2999-01-01");
    let report = import(
        &app,
        &[complete, no_race, bad_dob, two_protected, known_restrained],
    )
    .await;
    assert_eq!(report.imported, 4, "{report:?}");
    assert_eq!(
        report.rejected.iter().map(|e| e.line).collect::<Vec<_>>(),
        [3]
    );
    assert_eq!(app.count("protective_order").await, 5);
    let mut rows = transmissions(&app).await;
    rows.retain(|id, _| !before.contains_key(id));
    assert_eq!(rows.len(), 4, "one entry per imported chain: {rows:?}");
    assert!(
        rows.values().any(|l| l[0].3.as_deref() == Some("RAC")),
        "the order without the race is held for it: {rows:?}"
    );
    assert!(
        rows.values().any(|l| l.len() == 2),
        "the second protected person has a supplemental: {rows:?}"
    );
    check_against_stored_facts(&app, &rows).await;

    // A line naming a person that does not exist fails the batch's insert: the others are then
    // stored one at a time, with the same rows.
    let mut unknown = dv_tro("26FL600006", 2);
    unknown["parties"][1] = json!({ "role": "PROTECTED", "personId": "UGVyc29uOjk5OTk5OQ" });
    let mut again_no_race = dv_tro("26FL600007", 2);
    again_no_race["parties"][0]["person"]
        .as_object_mut()
        .unwrap()
        .remove("race");
    let mut again_known = dv_tro("26FL600008", 2);
    again_known["parties"][1] = json!({ "role": "PROTECTED", "personId": restrained });
    let report = import(&app, &[again_no_race, unknown, again_known]).await;
    assert_eq!(report.imported, 2, "{report:?}");
    assert_eq!(
        report.rejected.iter().map(|e| e.line).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(app.count("protective_order").await, 7);
    let mut later = transmissions(&app).await;
    later.retain(|id, _| !before.contains_key(id) && !rows.contains_key(id));
    assert_eq!(later.len(), 2, "{later:?}");
    check_against_stored_facts(&app, &later).await;
}
