use serde_json::json;

use crate::helpers::{TestApp, create, dv_tro, error_code, error_field, spawn_app};

#[tokio::test]
async fn cursor_pages_walk_a_persons_orders_newest_first() {
    let app = spawn_app().await;
    let (_, person, _) = create(&app, dv_tro("26FL100000", 40)).await;
    for i in 1..25 {
        let mut input = dv_tro(&format!("26FL1{i:05}"), 40 - i);
        input["parties"][0] = json!({ "role": "RESTRAINED", "personId": person });
        create(&app, input).await;
    }
    let q = "query($p: ID!, $first: Int, $after: String) { person(id: $p) { orders(first: $first, after: $after) {
        edges { cursor node { caseNumber issuedAt } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    let mut pages = 0;
    loop {
        let d = app
            .data(q, json!({ "p": person, "first": 10, "after": after }))
            .await;
        let conn = &d["person"]["orders"];
        for e in conn["edges"].as_array().unwrap() {
            seen.push(e["node"]["caseNumber"].as_str().unwrap().to_owned());
        }
        pages += 1;
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 1);
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25);
    assert_eq!(seen[0], "26FL100024", "newest first");
    assert_eq!(seen[24], "26FL100000");
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 25, "no order twice");

    let capped = app.data(q, json!({ "p": person, "first": 100000 })).await;
    assert_eq!(
        capped["person"]["orders"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
    let negative = app.gql(q, json!({ "p": person, "first": -1 })).await;
    assert_eq!(error_code(&negative), "VALIDATION");
    assert_eq!(error_field(&negative), "first");
    let bad_cursor = app.gql(q, json!({ "p": person, "after": "bm9wZQ" })).await;
    assert_eq!(error_field(&bad_cursor), "after");
}

/// Statements `q` (an `orders(first: $n)` page) costs with 10 and with 50 orders, the cheapest of
/// five runs each: a loader batch split by a busy scheduler (CI runs tests in parallel) only ever
/// adds statements, so the cheapest run is the loaders' real cost. `check` sees each page's edges.
async fn statements_for_10_and_50(
    app: &TestApp,
    q: &str,
    check: impl Fn(&[serde_json::Value]),
) -> Vec<u64> {
    let mut costs = Vec::new();
    for n in [10, 50] {
        let mut best = u64::MAX;
        for _ in 0..5 {
            let before = app.sql_stats.statements();
            let d = app.data(q, json!({ "n": n })).await;
            let after = app.sql_stats.statements();
            let edges = d["orders"]["edges"].as_array().unwrap();
            assert_eq!(edges.len(), n as usize);
            check(edges);
            best = best.min(after - before);
        }
        costs.push(best);
    }
    costs
}

/// DataLoaders keep a page to a constant number of SQL statements, whatever its size.
#[tokio::test]
async fn a_page_costs_the_same_statements_for_10_or_50_orders() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 300, 7, None).await.unwrap();
    let q = "query($n: Int) { orders(first: $n) { edges { node {
        id caseNumber status served court { name } enteredByCourt { code }
        parties { role person { fullName aliases { lastName } } }
        events { kind } serviceRecords { method } chain { id } supersedes { id }
    } } } }";
    let costs = statements_for_10_and_50(&app, q, |_| {}).await;
    // One statement per relation (page, courts, parties, persons, aliases, events, service,
    // chains, predecessors), never one per row: a per-row loader would add at least 40
    // statements for the 40 extra orders; a batch split under load adds a few.
    assert!(
        costs[1] <= costs[0] + 6,
        "statements for 10 vs 50 orders: {costs:?}"
    );
    assert!(
        // Plus a constant per request: the revocation check and the audit row (transaction
        // statements included).
        costs.iter().all(|&c| c <= 26),
        "statements for 10 vs 50 orders: {costs:?}"
    );
}

/// Every person's first page of orders, shown for each person of a page (as search results show
/// `orders(first: 5, status: ACTIVE)` per hit), is loaded in one batch, not one statement per
/// person; and it is the same page the direct path (`after`) continues.
#[tokio::test]
async fn persons_first_orders_cost_the_same_statements_for_10_or_50_orders() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 300, 7, None).await.unwrap();
    let q = "query($n: Int) { orders(first: $n) { edges { node { parties { person {
        orders(first: 2, status: ACTIVE) { edges { node { id status } } pageInfo { hasNextPage } }
    } } } } } }";
    let costs = statements_for_10_and_50(&app, q, |edges| {
        for e in edges {
            for p in e["node"]["parties"].as_array().unwrap() {
                for o in p["person"]["orders"]["edges"].as_array().unwrap() {
                    assert_eq!(o["node"]["status"], "ACTIVE");
                }
            }
        }
    })
    .await;
    // 40 more orders bring about 80 more persons: one statement each would add 80
    assert!(
        costs[1] <= costs[0] + 6,
        "statements for 10 vs 50 orders: {costs:?}"
    );

    // The batched first page agrees with the direct path that pages on from it.
    let d = app
        .data(
            "{ orders(first: 50) { edges { node { parties { person { id } } } } } }",
            json!({}),
        )
        .await;
    let ids: Vec<String> = d["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["node"]["parties"].as_array().unwrap().clone())
        .map(|p| p["person"]["id"].as_str().unwrap().to_owned())
        .collect();
    let page = |id: &str, after: Option<&str>| json!({ "id": id, "after": after });
    let mut compared = 0;
    for id in ids {
        let q = "query($id: ID!, $after: String) { node(id: $id) { ... on Person {
            orders(first: 1, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage } }
        } } }";
        let two = app
            .data(
                "query($id: ID!) { node(id: $id) { ... on Person { orders(first: 2) { edges { node { id } } } } } }",
                json!({ "id": id }),
            )
            .await;
        let two = two["node"]["orders"]["edges"].as_array().unwrap().clone();
        if two.len() < 2 {
            continue;
        }
        let first = app.data(q, page(&id, None)).await;
        let cursor = first["node"]["orders"]["edges"][0]["cursor"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(first["node"]["orders"]["pageInfo"]["hasNextPage"], true);
        let second = app.data(q, page(&id, Some(&cursor))).await;
        assert_eq!(
            second["node"]["orders"]["edges"][0]["node"]["id"], two[1]["node"]["id"],
            "person {id}"
        );
        compared += 1;
    }
    assert!(compared > 0, "no person with two orders in the demo data");
}
