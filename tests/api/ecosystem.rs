//! The registry checked by the GraphQL ecosystem's own tools, run for real against the server
//! (Node packages in `tests/node/`, installed by `scripts/test.sh` with `npm ci`).
use std::path::PathBuf;

use ccpor::auth::Role;
use serde_json::Value;

use crate::helpers::spawn_app;

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
