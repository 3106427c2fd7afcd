//! `ccpor keys`, `ccpor token` and `ccpor audit` as an operator runs them, checked against a
//! running server.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Output, Stdio};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::cli::ccpor;
use crate::helpers::{CREATE, TestApp, dv_tro, error_code, spawn_app};

/// Runs `ccpor` with `args`; stdout as text, asserting the exit code. Without a data dir in
/// `env` it gets a scratch one: the default (`./data` in the working directory) is shared by
/// every test, and two tests' commands migrating a new database there at once failed in CI
/// ("table … already exists").
fn run(args: &[&str], env: &[(&str, &str)], code: i32) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let mut cmd = ccpor();
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("CCPOR_KEY_FILE")
        .env("CCPOR_DATA_DIR", scratch.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    assert_eq!(
        status.code(),
        Some(code),
        "ccpor {args:?}\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

/// The last line of `ccpor token mint` / `attenuate`: the token.
fn last_line(out: &str) -> String {
    out.lines().last().unwrap().trim().to_owned()
}

fn mint(key_file: &Path, role: &str, scope: &[&str]) -> (String, String) {
    let mut args = vec![
        "token",
        "mint",
        "--role",
        role,
        "--ttl",
        "10m",
        "--key-file",
        key_file.to_str().unwrap(),
    ];
    args.extend_from_slice(scope);
    // Recorded in the data dir beside the key file, as an operator's mint is in the deployment's.
    let dir = key_file.parent().unwrap().to_str().unwrap();
    let out = run(&args, &[("CCPOR_DATA_DIR", dir)], 0);
    let revocation_id = out
        .lines()
        .find_map(|l| l.strip_prefix("revocation id:"))
        .unwrap()
        .trim()
        .to_owned();
    (last_line(&out), revocation_id)
}

async fn status_and_body(app_url: &str, token: &str, query: &str, vars: Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{app_url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A `ccpor serve` child, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ccpor serve` on `app`'s database with `key_file`; returns once it prints its URL.
fn serve(app: &TestApp, key_file: &Path, data_dir: &Path) -> Server {
    let mut child = ccpor()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &app.database_url)
        .env("CCPOR_KEY_FILE", key_file)
        .env("CCPOR_DATA_DIR", data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            l.strip_prefix("graphql:")
                .map(|u| u.trim().trim_end_matches("/graphql").to_owned())
        })
        .expect("serve prints its GraphQL URL");
    Server { child, url }
}

/// Rotation: the previous key keeps verifying for `--previous-valid-for`, then its tokens fail.
#[tokio::test]
async fn keys_rotate_and_retired_keys_stop_verifying() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("keys.json");
    let kf = key_file.to_str().unwrap();
    let out = run(&["keys", "generate", "--key-file", kf], &[], 0);
    assert!(out.contains("key 1 written"), "{out}");
    let (by_key1, _) = mint(&key_file, "bench_officer", &["--court", "SC19"]);
    // Key 1 stays valid for an hour after key 2 replaces it.
    let out = run(
        &[
            "keys",
            "generate",
            "--previous-valid-for",
            "1h",
            "--key-file",
            kf,
        ],
        &[],
        0,
    );
    assert!(out.contains("key 2 written"), "{out}");
    assert!(out.contains("accepted until"), "{out}");
    let (by_key2, _) = mint(&key_file, "bench_officer", &["--court", "SC19"]);
    // Key 2 is retired at once when key 3 replaces it.
    run(
        &[
            "keys",
            "generate",
            "--previous-valid-for",
            "0s",
            "--key-file",
            kf,
        ],
        &[],
        0,
    );
    let (by_key3, _) = mint(&key_file, "bench_officer", &["--court", "SC19"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the key file is private");
    }

    let server = serve(&app, &key_file, &dir.path().join("data"));
    let q = "{ courts { code } }";
    for (what, token, status, code) in [
        ("key 1, within its hour", &by_key1, 200, ""),
        ("key 2, retired", &by_key2, 401, "UNAUTHENTICATED"),
        ("key 3, current", &by_key3, 200, ""),
    ] {
        let (s, body) = status_and_body(&server.url, token, q, json!({})).await;
        assert_eq!(s, status, "{what}: {body:#}");
        assert_eq!(error_code(&body), code, "{what}: {body:#}");
    }
    // The in-process test server has its own key: tokens of this key file mean nothing to it.
    let body = app.gql_as(Some(&by_key3), q, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

/// Mint (token on the last line), attenuate offline, revoke: each checked by the server.
#[tokio::test]
async fn minted_narrowed_and_revoked_tokens() {
    let app = spawn_app().await;
    let key_file = app.data_dir().join("keys.json");
    let (clerk, clerk_id) = mint(&key_file, "clerk", &["--court", "SC19", "--user", "ada"]);
    let body = app
        .gql_as(
            Some(&clerk),
            CREATE,
            json!({ "i": dv_tro("26FL990001", 2) }),
        )
        .await;
    assert!(body["errors"].is_null(), "a minted token works: {body:#}");
    let order = body["data"]["createOrder"]["order"]["id"].as_str().unwrap();
    let read = "query($id: ID!) { order(id: $id) { caseNumber } }";

    // Offline: no key file, no database.
    let offline = tempfile::tempdir().unwrap();
    let out = run(
        &["token", "attenuate", "--token", &clerk, "--read-only"],
        &[("CCPOR_DATA_DIR", offline.path().to_str().unwrap())],
        0,
    );
    let read_only = last_line(&out);
    assert_ne!(read_only, clerk);
    assert!(
        std::fs::read_dir(offline.path()).unwrap().next().is_none(),
        "attenuating touches no data dir"
    );
    let body = app
        .gql_as(Some(&read_only), read, json!({ "id": order }))
        .await;
    assert_eq!(
        body["data"]["order"]["caseNumber"], "26FL990001",
        "{body:#}"
    );
    let before = app.snapshot().await;
    let resp = crate::helpers::client_with(&read_only)
        .post(app.url("/graphql"))
        .json(&json!({ "query": CREATE, "variables": { "i": dv_tro("26FL990002", 2) } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    assert_eq!(
        app.snapshot().await,
        before,
        "the read-only token wrote nothing"
    );
    // An unknown county is refused before anything is signed.
    run(
        &[
            "token",
            "attenuate",
            "--token",
            &clerk,
            "--county",
            "Atlantis",
        ],
        &[],
        1,
    );

    // Revoking the narrowed token leaves its parent working.
    let db = [("DATABASE_URL", app.database_url.as_str())];
    let out = run(
        &["token", "revoke", "--token", &read_only, "--reason", "test"],
        &db,
        0,
    );
    assert!(out.starts_with("revoked "), "{out}");
    let body = app
        .gql_once_revoked(&read_only, read, json!({ "id": order }))
        .await;
    assert_eq!(error_code(&body), "TOKEN_REVOKED", "{body:#}");
    let body = app.gql_as(Some(&clerk), read, json!({ "id": order })).await;
    assert!(body["errors"].is_null(), "{body:#}");
    // Revoking by the id `mint` printed ends the token.
    run(&["token", "revoke", "--id", &clerk_id], &db, 0);
    let body = app
        .gql_once_revoked(&clerk, read, json!({ "id": order }))
        .await;
    assert_eq!(error_code(&body), "TOKEN_REVOKED", "{body:#}");
    // And the failures are in the audit log, with their reason.
    let n = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM audit_event WHERE event = 'auth.failed' AND detail LIKE '%revoked%'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(n, 2);
}

/// `ccpor audit verify`: 0 on an intact chain, 4 and the first bad row after tampering.
#[tokio::test]
async fn audit_verify_finds_the_altered_row() {
    let app = spawn_app().await;
    let (id, _, _) = crate::helpers::create(&app, dv_tro("26FL990003", 2)).await;
    let bench = app.mint(ccpor::auth::Role::BenchOfficer, Some("SC19"));
    for _ in 0..3 {
        app.gql_as(
            Some(&bench),
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    }
    let rows = app.count("audit_event").await;
    assert!(rows >= 5, "{rows}");
    let db = [("DATABASE_URL", app.database_url.as_str())];
    let out = run(&["audit", "verify"], &db, 0);
    assert!(
        out.contains(&format!("audit chain intact: {rows} rows")),
        "{out}"
    );

    // The table refuses edits and deletions; an attacker who gets past that is still found.
    assert!(
        app.db
            .execute_unprepared("DELETE FROM audit_event WHERE seq = 1")
            .await
            .is_err(),
        "append-only"
    );
    let disable: &[&str] = match app.db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            &["ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"]
        }
        _ => &[
            "DROP TRIGGER audit_event_no_update",
            "DROP TRIGGER audit_event_no_delete",
        ],
    };
    for sql in disable {
        app.db.execute_unprepared(sql).await.unwrap();
    }
    // The last row deleted: the chain ends before the head says it does.
    app.db
        .execute_unprepared(&format!("DELETE FROM audit_event WHERE seq = {rows}"))
        .await
        .unwrap();
    let out = run(&["audit", "verify"], &db, 4);
    assert!(out.contains(&format!("BROKEN at row {rows}")), "{out}");
    // A row edited: named, with the rows before it intact.
    app.db
        .execute_unprepared(
            "UPDATE audit_event SET outcome = 'allowed', role = 'clerk' WHERE seq = 4",
        )
        .await
        .unwrap();
    let out = run(&["audit", "verify"], &db, 4);
    assert!(out.contains("BROKEN at row 4"), "{out}");
    assert!(out.contains("3 rows verified before it"), "{out}");
}
