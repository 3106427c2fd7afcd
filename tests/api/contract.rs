use ccpor::contract::operations::{OPERATIONS, example_variables};

use crate::helpers::spawn_app;

#[test]
fn committed_sdl_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql");
    let current = ccpor::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is out of date: run `cargo run -- schema > schema/schema.graphql` and review the diff"
    );
}

#[test]
fn cli_schema_prints_the_committed_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccpor"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

#[test]
fn committed_federation_sdl_matches_the_code_and_the_cli() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.federation.graphql"
    ))
    .expect("schema/schema.federation.graphql");
    assert!(
        committed == ccpor::graphql::federation_sdl(),
        "schema/schema.federation.graphql is out of date: run `cargo run -- schema --federation > schema/schema.federation.graphql`"
    );
    for entity in ["Person", "Order", "Court"] {
        let decl = committed
            .lines()
            .find(|l| l.starts_with(&format!("type {entity} ")))
            .unwrap_or_else(|| panic!("type {entity} in the federation SDL"));
        assert!(
            decl.contains("@key(fields: \"id\")"),
            "{entity} is an entity: {decl}"
        );
    }
    assert!(committed.contains("https://specs.apollo.dev/federation/v2"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccpor"))
        .args(["schema", "--federation"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), committed);
}

/// Every named operation clients use runs against demo data and returns real data.
#[tokio::test]
async fn named_operations_return_data_on_demo_data() {
    let app = spawn_app().await;
    ccpor::demo::generate(&app.db, 400, ccpor::demo::DEFAULT_SEED, None)
        .await
        .unwrap();
    assert_eq!(OPERATIONS.len(), 5);
    for op in OPERATIONS {
        let vars = example_variables(&app.db, op).await.unwrap();
        let mut data = app.data(op.document, vars.clone()).await;
        if op.name == "PersonSearch" {
            // The indexer catches up in the background; give it a moment.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while data["searchPersons"]["edges"]
                .as_array()
                .unwrap()
                .is_empty()
                && std::time::Instant::now() < deadline
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                data = app.data(op.document, vars.clone()).await;
            }
        }
        match op.name {
            "PersonSearch" => {
                let edges = data["searchPersons"]["edges"].as_array().unwrap();
                assert!(!edges.is_empty(), "{vars}");
                assert!(
                    !edges[0]["node"]["explanation"]
                        .as_array()
                        .unwrap()
                        .is_empty()
                );
            }
            "PersonHistory" => {
                let p = &data["person"];
                assert!(p["fullName"].as_str().unwrap().contains(", "));
                let orders = p["orders"]["edges"].as_array().unwrap();
                assert!(orders.len() >= 2, "busiest person has several orders");
                assert!(
                    orders
                        .iter()
                        .all(|e| e["node"]["parties"].as_array().unwrap().len() >= 2)
                );
            }
            "BenchDashboard" => {
                let h = &data["personHistory"];
                assert!(h["person"]["fullName"].as_str().unwrap().contains(", "));
                let chains = h["chains"].as_array().unwrap();
                assert!(!chains.is_empty(), "busiest person has chains");
                assert!(chains.iter().all(|c| c["status"].is_string()
                    && !c["orders"].as_array().unwrap().is_empty()
                    && !c["courts"].as_array().unwrap().is_empty()));
                assert!(!h["identity"]["persons"].as_array().unwrap().is_empty());
            }
            "LeaCaseLookup" => {
                let found = data["ordersByCaseNumber"].as_array().unwrap();
                assert!(!found.is_empty());
                assert!(found[0]["parties"][0]["person"]["fullName"].is_string());
            }
            "AnalystExploration" => {
                assert_eq!(data["courts"].as_array().unwrap().len(), 58);
                assert!(!data["formRules"].as_array().unwrap().is_empty());
                let edges = data["orders"]["edges"].as_array().unwrap();
                assert!(!edges.is_empty());
                assert!(edges.iter().all(|e| e["node"]["family"] == "DV"));
            }
            other => panic!("no assertions for operation {other}"),
        }
    }
}

#[tokio::test]
async fn demo_is_deterministic_and_statewide() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    ccpor::demo::generate(&a.db, 500, 11, None).await.unwrap();
    ccpor::demo::generate(&b.db, 500, 11, None).await.unwrap();
    let q = "{ orders(first: 100) { edges { node { caseNumber formNumber court { code } parties { person { fullName dob } } } } } }";
    let (da, db) = (
        a.data(q, serde_json::json!({})).await,
        b.data(q, serde_json::json!({})).await,
    );
    assert_eq!(da, db, "same seed, same data");
    assert_eq!(a.count("protective_order").await, 500);
    let counties = a
        .data(
            "{ courts { code orders(first: 1) { edges { node { id } } } } }",
            serde_json::json!({}),
        )
        .await;
    let with_orders = counties["courts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["orders"]["edges"].as_array().unwrap().is_empty())
        .count();
    assert!(
        with_orders >= 25,
        "orders spread across counties: {with_orders}"
    );
    let chains = a
        .data(
            "{ orders(first: 100) { edges { node { chain { id } } } } }",
            serde_json::json!({}),
        )
        .await;
    assert!(
        chains["orders"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["chain"].as_array().unwrap().len() >= 2)
    );
}
