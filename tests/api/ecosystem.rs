//! The registry checked by the GraphQL ecosystem's own tools, run for real against the server
//! (Node packages in `tests/node/`, installed by `scripts/test.sh` with `npm ci`).
use std::path::PathBuf;

use ccpor::auth::Role;
use serde_json::Value;

use crate::helpers::{create, dv_tro, spawn_app};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// Runs `node <script> <args>` in `tests/node` with `env`; panics (never skips) when Node or the
/// packages are missing.
async fn node(script: &str, args: &[String], env: &[(&str, String)]) -> String {
    let dir = node_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/node/node_modules is missing: run `npm ci` in tests/node (scripts/test.sh does)"
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(script).args(args).current_dir(&dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .await
        .expect("node must be installed for the ecosystem tests");
    assert!(
        out.status.success(),
        "node {script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[tokio::test]
async fn graphql_over_http_audit_passes_every_must_and_should() {
    let app = spawn_app().await;
    let token = app.mint(Role::BenchOfficer, Some("SC19"));
    let out = node(
        "http-audit.mjs",
        &[app.url("/graphql")],
        &[("CCPOR_TOKEN", token)],
    )
    .await;
    let results: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert!(results.len() >= 50, "the audit ran: {out}");
    let failed: Vec<&Value> = results
        .iter()
        .filter(|r| r["status"] == "error" || r["status"] == "warn")
        .collect();
    assert!(failed.is_empty(), "MUST/SHOULD audits failed: {failed:#?}");
    // And the optional ones this server chose to meet: 400 for malformed parameters.
    for id in ["8764", "3E3A"] {
        let r = results.iter().find(|r| r["id"] == id).expect(id);
        assert_eq!(r["status"], "ok", "{r}");
    }
}

/// Our live `_service { sdl }` composed with a second subgraph by `@apollo/composition`, and a
/// real `@apollo/gateway` in front of both: one query needs fields from both subgraphs, the
/// caller's token travels through the gateway, and without a token the registry refuses.
#[tokio::test]
async fn apollo_gateway_joins_the_registry_with_another_subgraph() {
    let app = spawn_app().await;
    let (order_a, person_a, _) = create(&app, dv_tro("26FL660001", 3)).await;
    let (order_b, _, _) = create(&app, dv_tro("26FL660002", 2)).await;
    let expected_name = app
        .data(
            "query($id: ID!) { person(id: $id) { fullName } }",
            serde_json::json!({ "id": person_a }),
        )
        .await["person"]["fullName"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = app.mint(Role::BenchOfficer, Some("SC19"));
    let out = node(
        "gateway.mjs",
        &[app.url("/graphql")],
        &[
            ("CCPOR_TOKEN", token),
            (
                "CCPOR_WATCHED_ORDERS",
                serde_json::json!([order_a, order_b]).to_string(),
            ),
        ],
    )
    .await;
    // The gateway may log to stdout; the result is the last line.
    let last = out.lines().last().unwrap_or_default();
    let r: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert!(
        r["composed"]["supergraphBytes"].as_u64().unwrap() > 1000,
        "{r:#}"
    );

    let ok = &r["withToken"];
    assert_eq!(ok["status"], 200, "{r:#}");
    assert!(ok["body"]["errors"].is_null(), "{r:#}");
    let list = ok["body"]["data"]["watchlist"]
        .as_array()
        .expect("watchlist");
    assert_eq!(list.len(), 2, "{r:#}");
    let first = &list[0]["order"];
    // From the notes subgraph.
    assert_eq!(list[0]["label"], "watch 1");
    assert_eq!(first["caseNote"], format!("note for {order_a}"));
    // From the registry, through `_entities`.
    assert_eq!(first["id"], order_a);
    assert_eq!(first["caseNumber"], "26FL660001");
    assert_eq!(first["status"], "ACTIVE");
    assert_eq!(first["court"]["code"], "SC19");
    let restrained = first["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "RESTRAINED")
        .expect("restrained party");
    assert_eq!(restrained["person"]["id"], person_a);
    assert_eq!(restrained["person"]["fullName"], expected_name);
    // Back to the notes subgraph for a field on the registry's Person.
    assert_eq!(restrained["person"]["noteCount"], person_a.len(), "{r:#}");
    assert_eq!(list[1]["order"]["caseNumber"], "26FL660002");

    // No token: the notes subgraph answers, the registry refuses, no order data comes back.
    let denied = &r["withoutToken"];
    let text = denied.to_string();
    assert!(
        !text.contains("26FL66"),
        "no order data without a token: {r:#}"
    );
    assert!(
        denied["body"]["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{r:#}"
    );
    assert!(
        text.contains("401") || text.contains("UNAUTHENTICATED"),
        "the registry's refusal reaches the client: {r:#}"
    );
}

/// The playground in headless Chromium: enter a token, pick the PersonHistory tab, run it, and
/// see the seeded order in the result pane. The screenshot is kept as a test artifact under
/// `target/test-artifacts/`.
#[tokio::test]
async fn playground_runs_person_history_in_headless_chromium() {
    let app = spawn_app().await;
    let (_, person, _) = create(&app, dv_tro("26FL550001", 3)).await;
    let d = app
        .data(
            "query($id: ID!) { person(id: $id) { fullName } }",
            serde_json::json!({ "id": person }),
        )
        .await;
    let name = d["person"]["fullName"].as_str().unwrap().to_owned();
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("playground-person-history.png");
    let _ = std::fs::remove_file(&shot);
    let token = app.mint(Role::BenchOfficer, Some("SC19"));
    let out = node(
        "playground.mjs",
        &[
            app.url("/playground"),
            shot.display().to_string(),
            name.clone(),
            "26FL550001".to_owned(),
        ],
        &[("CCPOR_TOKEN", token)],
    )
    .await;
    let last = out.lines().last().unwrap_or_default();
    let r: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {out}"));
    let tabs: Vec<&str> = r["tabs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .collect();
    for op in ccpor::contract::operations::OPERATIONS {
        assert!(tabs.contains(&op.name), "a tab for {}: {tabs:?}", op.name);
    }
    let result = r["result"].as_str().unwrap();
    let shown: Value = serde_json::from_str(result).unwrap_or_else(|e| panic!("{e}: {result}"));
    assert!(shown["errors"].is_null(), "{result}");
    assert_eq!(shown["data"]["person"]["id"], person, "{result}");
    assert_eq!(shown["data"]["person"]["fullName"], name, "{result}");
    assert_eq!(
        shown["data"]["person"]["orders"]["edges"][0]["node"]["caseNumber"], "26FL550001",
        "{result}"
    );
    assert_eq!(r["pageErrors"], serde_json::json!([]), "{r:#}");
    let png = std::fs::read(&shot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot"
    );
    println!("playground screenshot: {}", shot.display());
}

/// Apollo Client's persisted-queries link, for real: on the first server the hash alone is
/// unknown, so the client sends the document, which registers it; a fresh client on a second
/// server sharing the Redis gets its answer from the hash alone.
#[tokio::test]
async fn apollo_clients_persisted_queries_link_registers_on_one_server_and_is_served_by_another() {
    assert!(
        std::env::var("REDIS_URL").is_ok_and(|u| !u.is_empty()),
        "REDIS_URL is not set: servers share automatic persisted queries through Redis. Run \
         `bash scripts/test.sh` (it starts Redis and exports REDIS_URL)"
    );
    let a = spawn_app().await;
    let b = crate::helpers::spawn_peer(&a).await;
    crate::helpers::create(&a, crate::helpers::dv_tro("26FL710001", 2)).await;
    let token = a.mint(Role::Clerk, Some("SC19"));
    let out = node(
        "apq.mjs",
        &[a.url("/graphql"), b.url("/graphql")],
        &[
            ("CCPOR_TOKEN", token),
            (
                "QUERY",
                "query ApqLookup($c: String!) { ordersByCaseNumber(caseNumber: $c) { caseNumber status } }"
                    .to_owned(),
            ),
            ("VARIABLES", r#"{"c":"26FL710001"}"#.to_owned()),
        ],
    )
    .await;
    let runs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(runs.len(), 2, "{out}");
    for run in &runs {
        assert_eq!(run["errors"], Value::Null, "{run}");
        assert_eq!(
            run["data"]["ordersByCaseNumber"][0]["caseNumber"], "26FL710001",
            "{run}"
        );
    }
    let sent = |i: usize| -> Vec<bool> {
        runs[i]["sent"]
            .as_array()
            .expect("sent")
            .iter()
            .map(|r| r["withDocument"].as_bool().expect("withDocument"))
            .collect()
    };
    assert_eq!(sent(0), [false, true], "hash, then document: {}", runs[0]);
    assert_eq!(sent(1), [false], "hash alone on the peer: {}", runs[1]);
    assert_eq!(runs[0]["sent"][0]["hash"], runs[1]["sent"][0]["hash"]);
}
