//! Commands that change data or access leave audit rows (issue 24): who ran them (OS user and
//! host), what they changed (counts, the imported file's SHA-256), in the chain `audit verify`
//! checks.
use std::path::Path;

use sea_orm::{EntityTrait, QueryOrder};
use sha2::{Digest, Sha256};

use crate::cli::ccpor;
use crate::helpers::dv_tro;

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = ccpor()
        .args(args)
        .env("CCPOR_DATA_DIR", dir)
        .env("USER", "ops-synthetic")
        .env_remove("DATABASE_URL")
        .env_remove("CCPOR_IMAGE_STORE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn every_data_changing_command_is_audited_with_who_ran_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("orders.ndjson");
    let body = format!("{}\n{}\n", dv_tro("26FL810001", 2), dv_tro("26FL810002", 3));
    std::fs::write(&file, &body).unwrap();
    let sha: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();

    let steps: [&[&str]; 7] = [
        &["keys", "generate"],
        &["demo", "--orders", "20"],
        &["import", file.to_str().unwrap()],
        &["expire"],
        &["reindex"],
        &["link"],
        &[
            "token", "mint", "--role", "clerk", "--court", "SC19", "--ttl", "1h",
        ],
    ];
    for args in steps {
        let (code, out) = run(d, args);
        assert_eq!(code, 0, "{args:?}: {out}");
    }
    let (code, out) = run(d, &["token", "mint", "--role", "analyst", "--ttl", "1h"]);
    assert_eq!(code, 0, "{out}");
    let token = out.lines().last().unwrap().to_owned();
    let (code, out) = run(
        d,
        &["token", "revoke", "--token", &token, "--reason", "test"],
    );
    assert_eq!(code, 0, "{out}");

    let url = format!("sqlite://{}?mode=rw", d.join("ccpor.db").display());
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    let rows: Vec<entities::audit_event::Model> = entities::audit_event::Entity::find()
        .order_by_asc(entities::audit_event::Column::Seq)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.event.starts_with("cli."))
        .collect();
    let events: Vec<&str> = rows.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "cli.keys",
            "cli.demo",
            "cli.import",
            "cli.expire",
            "cli.reindex",
            "cli.link",
            "cli.token.mint",
            "cli.token.mint",
            "cli.token.revoke"
        ]
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    for r in &rows {
        assert_eq!(r.user_id.as_deref(), Some("ops-synthetic"), "{r:?}");
        assert_eq!(r.role.as_deref(), Some("cli"), "{r:?}");
        assert_eq!(r.client_addr.as_deref(), Some(host.trim()), "{r:?}");
        assert_eq!(r.outcome, "allowed", "{r:?}");
    }
    let import = rows[2].detail.as_deref().unwrap();
    assert!(import.contains(&format!("SHA-256 {sha}")), "{import}");
    assert!(import.contains("2 lines, 2 imported"), "{import}");
    let demo = rows[1].detail.as_deref().unwrap();
    assert!(demo.contains("20 orders"), "{demo}");
    // The token itself is never written down; its revocation id is.
    assert!(
        rows.iter()
            .all(|r| !r.detail.as_deref().unwrap().contains(&token))
    );
    assert!(rows[6].detail.as_deref().unwrap().contains("revocation id"));
    db.close().await.ok();

    let (code, out) = run(d, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit chain intact"), "{out}");
}
