//! Access control and audit through HTTP: anonymous callers, role masking, token failures,
//! attenuation, revocation and the tamper-evident audit chain.
use ccpor::auth::Role;
use ccpor::auth::token::{Narrowing, attenuate};
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::helpers::{CREATE, create, dv_tro, error_code, mint_with, spawn_app};

const ORDER: &str = "query($id: ID!) { order(id: $id) { caseNumber family \
    parties { person { fullName sex } } } }";

#[tokio::test]
async fn anonymous_callers_get_typename_only() {
    let app = spawn_app().await;
    let ok = app.gql_as(None, "{ __typename }", json!({})).await;
    assert_eq!(ok["data"]["__typename"], "QueryRoot");
    let denied = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ courts { code } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
    let body: serde_json::Value = denied.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn analysts_see_deidentified_data_and_admins_no_orders() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("26FL900001", 3)).await;
    let analyst = app.mint(Role::Analyst, None);
    let body = app.gql_as(Some(&analyst), ORDER, json!({ "id": id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let q = "{ orders(first: 5) { edges { node { caseNumber family parties { person { fullName sex } } } } } }";
    let body = app.gql_as(Some(&analyst), q, json!({})).await;
    let node = &body["data"]["orders"]["edges"][0]["node"];
    assert_eq!(node["family"], "DV");
    assert!(node["caseNumber"].is_null());
    assert!(node["parties"][0]["person"]["fullName"].is_null());
    assert!(!node["parties"][0]["person"]["sex"].is_null());
    let rules: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["rule"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(rules.iter().all(|r| r == "deidentified_only"), "{rules:?}");
    let admin = app.mint(Role::Admin, None);
    let body = app.gql_as(Some(&admin), q, json!({})).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let lea = app.mint(Role::Lea, Some("CA0190000"));
    let body = app.gql_as(Some(&lea), ORDER, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["order"]["caseNumber"], "26FL900001",
        "{body:#}"
    );
}

#[tokio::test]
async fn bad_tokens_are_refused_with_their_reason() {
    let app = spawn_app().await;
    let good = app.mint(Role::BenchOfficer, Some("SC19"));
    let mut tampered = good.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let mut other_keys = ccpor::auth::keys::KeyFile::default();
    other_keys.rotate(chrono::Utc::now(), chrono::Utc::now());
    let wrong_key = mint_with(&other_keys, Role::Admin, None, None, "intruder");
    for (what, token, code) in [
        ("tampered", tampered.as_str(), "UNAUTHENTICATED"),
        ("wrong key", wrong_key.as_str(), "UNAUTHENTICATED"),
        ("garbage", "not-a-token", "UNAUTHENTICATED"),
    ] {
        let body = app
            .gql_as(Some(token), "{ courts { code } }", json!({}))
            .await;
        assert_eq!(error_code(&body), code, "{what}: {body:#}");
    }
    // Expired: narrowed to a lifetime that has already passed.
    let expired = attenuate(
        &good,
        &Narrowing {
            expires: Some(std::time::SystemTime::now() - std::time::Duration::from_secs(5)),
            ..Default::default()
        },
    )
    .unwrap();
    let body = app
        .gql_as(Some(&expired), "{ courts { code } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "TOKEN_EXPIRED", "{body:#}");
    // Revoked.
    let ids = ccpor::auth::token::revocation_ids(&good).unwrap();
    ccpor::auth::revocation::revoke(&app.db, &ids[..1], Some("test"))
        .await
        .unwrap();
    let body = app
        .gql_once_revoked(&good, "{ courts { code } }", json!({}))
        .await;
    assert_eq!(error_code(&body), "TOKEN_REVOKED", "{body:#}");
}

#[tokio::test]
async fn attenuation_narrows_and_never_widens() {
    let app = spawn_app().await;
    let (la, _, _) = create(&app, dv_tro("26FL900002", 3)).await;
    let mut sf = dv_tro("26FL900003", 3);
    sf["courtCode"] = json!("SC38");
    let (sf, _, _) = create(&app, sf).await;
    let clerk = app.mint(Role::Clerk, Some("SC19"));
    let read_only = attenuate(
        &clerk,
        &Narrowing {
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let body = app
        .gql_as(
            Some(&read_only),
            CREATE,
            json!({ "i": dv_tro("26FL900004", 1) }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let la_only = attenuate(
        &clerk,
        &Narrowing {
            county: Some("Los Angeles".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let ok = app.gql_as(Some(&la_only), ORDER, json!({ "id": la })).await;
    assert_eq!(ok["data"]["order"]["caseNumber"], "26FL900002", "{ok:#}");
    // Outside its counties the order answers as missing (issue 22, item 15).
    let denied = app.gql_as(Some(&la_only), ORDER, json!({ "id": sf })).await;
    assert_eq!(error_code(&denied), "NOT_FOUND", "{denied:#}");
    // A narrowed token that claims another role in its own block gains nothing.
    let forged = biscuit_auth::UnverifiedBiscuit::from_base64(&la_only)
        .unwrap()
        .append(biscuit_auth::macros::block!(r#"role("admin");"#))
        .unwrap()
        .to_base64()
        .unwrap();
    let body = app
        .gql_as(
            Some(&forged),
            "{ auditEvents { edges { node { seq } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
}

#[tokio::test]
async fn every_data_access_is_audited_and_tampering_is_found() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("26FL900005", 3)).await;
    let bench = app.mint(Role::BenchOfficer, Some("SC19"));
    app.gql_as(Some(&bench), ORDER, json!({ "id": id })).await;
    let admin = app.mint(Role::Admin, None);
    let q = "query($id: String) { auditEvents(filter: { objectId: $id }) { edges { node { role outcome objectIds operation } } } }";
    let body = app.gql_as(Some(&admin), q, json!({ "id": id })).await;
    let roles: Vec<_> = body["data"]["auditEvents"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["role"].as_str().unwrap().to_owned())
        .collect();
    assert!(roles.contains(&"bench_officer".to_owned()), "{body:#}");
    assert!(
        roles.contains(&"clerk".to_owned()),
        "the create is audited: {body:#}"
    );
    let report = ccpor::audit::verify(&app.db).await.unwrap();
    assert!(report.first_bad.is_none(), "{report:?}");
    assert!(report.rows >= 3);
    // The table refuses edits; an attacker who gets past that is still found.
    let edit = "UPDATE audit_event SET role = 'admin' WHERE seq = 2";
    assert!(
        app.db.execute_unprepared(edit).await.is_err(),
        "append-only"
    );
    let disable = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"
        }
        _ => "DROP TRIGGER audit_event_no_update",
    };
    app.db.execute_unprepared(disable).await.unwrap();
    app.db.execute_unprepared(edit).await.unwrap();
    let report = ccpor::audit::verify(&app.db).await.unwrap();
    assert_eq!(report.first_bad.map(|b| b.0), Some(2));
}

/// Two instances' audit appenders on one database: each remembers where it left the chain, and
/// appends in one call on its own connection (one statement on PostgreSQL) while nobody else
/// has appended since. A stale head writes nothing and the batch goes in under the head row's lock instead.
/// Interleaved, through two writers, they still make one gapless chain.
#[tokio::test]
async fn two_instances_audit_appenders_keep_one_gapless_chain() {
    use ccpor::audit::{Appender, AuditRecord, AuditWriter, Outcome, Path};
    let app = spawn_app().await;
    let rec = |who: &str| {
        let mut r = AuditRecord::new("test.append", Outcome::Allowed);
        r.user_id = Some(who.to_owned());
        // Nullable columns both ways, and text that needs quoting in an array.
        r.court = (who == "a").then(|| "SC19".to_owned());
        r.detail = Some("a \"quoted\", {braced} \\ detail".to_owned());
        r
    };
    let fast = Path::OneStatement;
    let before = app.count("audit_event").await;
    let (mut a, mut b) = (Appender::new(app.db.clone()), Appender::new(app.db.clone()));
    let (first_a, path) = a.append(vec![rec("a")]).await.unwrap();
    assert_eq!(path, Path::Locked, "the head is not known yet");
    assert_eq!(
        a.append(vec![rec("a"), rec("a")]).await.unwrap(),
        (first_a + 1, fast)
    );
    assert_eq!(
        b.append(vec![rec("b")]).await.unwrap(),
        (first_a + 3, Path::Locked)
    );
    // `a`'s head is stale now: its next batch must still land right after `b`'s.
    assert_eq!(
        a.append(vec![rec("a")]).await.unwrap(),
        (first_a + 4, Path::Locked)
    );
    assert_eq!(a.append(vec![rec("a")]).await.unwrap(), (first_a + 5, fast));
    a.close().await;
    b.close().await;

    let (wa, wb) = (
        AuditWriter::spawn(app.db.clone()),
        AuditWriter::spawn(app.db.clone()),
    );
    let appends = (0..200).map(|i| {
        let w = if i % 2 == 0 { wa.clone() } else { wb.clone() };
        let r = rec(if i % 2 == 0 { "a" } else { "b" });
        async move { w.append(r).await }
    });
    let mut seqs: Vec<i64> = futures_util::future::join_all(appends)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), 200, "every append has its own sequence number");
    assert_eq!(app.count("audit_event").await, before + 206);
    let report = ccpor::audit::verify(&app.db).await.unwrap();
    assert_eq!(report.first_bad, None, "{report:?}");
    assert_eq!(report.rows as i64, before + 206);
}

#[tokio::test]
async fn concurrent_requests_share_audit_transactions_and_the_chain_stays_whole() {
    let app = spawn_app().await;
    let (id, _, _) = create(&app, dv_tro("26FL910001", 1)).await;
    let before = app.count("audit_event").await;
    let q = "query($id: ID!) { order(id: $id) { caseNumber } }";
    let requests = (0..120).map(|_| {
        let app = &app;
        let id = id.clone();
        async move { app.data(q, json!({ "id": id })).await }
    });
    for d in futures_util::future::join_all(requests).await {
        assert_eq!(d["order"]["caseNumber"], "26FL910001");
    }
    // One row per request, each committed before its answer was sent, in one gapless chain.
    assert_eq!(app.count("audit_event").await, before + 120);
    let report = ccpor::audit::verify(&app.db).await.unwrap();
    assert_eq!(report.first_bad, None, "{report:?}");
    assert_eq!(report.rows as i64, before + 120);
}
