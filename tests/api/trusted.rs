//! Trusted documents (persisted queries): the manifest `ccpor schema operations` prints, requests
//! by hash only, and tokens narrowed to trusted documents that can run nothing else.
use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use ccpor::contract::persisted::{hash, manifest};
use serde_json::{Value, json};

use crate::cli::ccpor;
use crate::helpers::{TestApp, client_with, create, dv_tro, spawn_app};

fn lookup() -> &'static ccpor::contract::persisted::TrustedDocument {
    manifest()
        .iter()
        .find(|d| d.name == "LeaCaseLookup")
        .expect("LeaCaseLookup is a trusted document")
}

/// POSTs `body` with `token`; returns (HTTP status, response).
async fn post(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    let r = client_with(token)
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn by_hash(sha: &str, case: &str) -> Value {
    json!({
        "variables": { "caseNumber": case },
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha } }
    })
}

#[test]
fn the_cli_prints_the_manifest_with_each_documents_hash() {
    let out = ccpor().args(["schema", "operations"]).output().unwrap();
    assert!(out.status.success());
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["format"], "apollo-persisted-query-manifest");
    let ops = m["operations"].as_array().unwrap();
    assert_eq!(ops.len(), ccpor::contract::operations::OPERATIONS.len());
    for op in ops {
        assert_eq!(op["id"], hash(op["body"].as_str().unwrap()), "{op}");
        assert_eq!(op["type"], "query");
    }
}

#[tokio::test]
async fn lea_clients_run_trusted_documents_by_hash_only() {
    let app = spawn_app().await;
    create(&app, dv_tro("26FL600001", 2)).await;
    let officer = app.mint(Role::Lea, Some("CA0190000"));
    let patrol = attenuate(
        &officer,
        &Narrowing {
            trusted_documents: true,
            ..Default::default()
        },
    )
    .unwrap();

    // By hash alone: the manifest supplies the document.
    let (status, body) = post(&app, &patrol, by_hash(&lookup().id, "26fl-600001")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["ordersByCaseNumber"][0]["status"], "ACTIVE",
        "{body}"
    );
    // With the document too, when its hash agrees.
    let mut both = by_hash(&lookup().id, "26FL600001");
    both["query"] = json!(lookup().body);
    let (status, body) = post(&app, &patrol, both).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["ordersByCaseNumber"][0]["id"].is_string());

    // Anything else is refused, and audited as a failed authorization.
    let (status, body) = post(
        &app,
        &patrol,
        json!({ "query": "{ ordersByCaseNumber(caseNumber: \"26FL600001\") { id notes: conditions { specialConditions } } }" }),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "TRUSTED_DOCUMENTS_ONLY"
    );
    // A document that is not the one its hash names.
    let mut forged = by_hash(&lookup().id, "26FL600001");
    forged["query"] = json!("{ courts { code } }");
    let (status, body) = post(&app, &patrol, forged).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_HASH_MISMATCH"
    );
    // An unknown hash: Apollo clients then send the document, which this token may not.
    let (status, body) = post(&app, &patrol, by_hash(&hash("{ courts { code } }"), "x")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    // The officer's own, unnarrowed token runs both.
    let (status, body) = post(&app, &officer, by_hash(&lookup().id, "26FL600001")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["ordersByCaseNumber"][0]["id"].is_string());
    let d = app
        .gql_as(Some(&officer), "{ courts { code } }", json!({}))
        .await;
    assert!(d["data"]["courts"].is_array(), "{d}");
    let denied: i64 = {
        use sea_orm::{ConnectionTrait, Statement};
        app.db
            .query_one_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM audit_event WHERE event = 'auth.failed' \
                 AND detail LIKE '%trusted documents only%'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap()
    };
    assert_eq!(denied, 1);
}
