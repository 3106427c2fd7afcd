//! Crash consistency of `ccpor import`: the real binary is killed with SIGKILL at seeded random
//! points of a 20,000-line file (see `LINES`), then the same import is run again to completion. Every line is
//! stored exactly once (the import is idempotent) and `ccpor check` passes. SQLite always;
//! PostgreSQL too when `CCPOR_TEST_POSTGRES_URL` is set.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cli::ccpor;
use crate::helpers::dv_tro;

/// Not the issue's 50,000: in a debug build the import (4,000 orders/s), `reindex` and `check`
/// of three runs at 50,000 lines take over two minutes; 20,000 keeps the test near a minute.
const LINES: usize = 20_000;
/// Small enough that a kill lands mid-file, between or inside batches.
const BATCH: usize = 100;
const RUNS: usize = 3;

/// Synthetic DV-110 orders, one case number each (`26FL` + six digits), names from a small
/// made-up list so persons differ.
fn write_file(path: &Path) {
    const LAST: [&str; 6] = [
        "Quintero Vale",
        "Okonkwo-Lind",
        "Abernathy",
        "Brightwater",
        "Tessaro",
        "Marlowe",
    ];
    const FIRST: [&str; 6] = ["Ramiro", "Teodora", "Alden", "Corwin", "Dalia", "Fenna"];
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..LINES {
        let mut o = dv_tro(&format!("26FL{i:06}"), 2);
        o["parties"][0]["person"]["lastName"] = LAST[i % 6].into();
        o["parties"][0]["person"]["firstName"] = FIRST[(i / 6) % 6].into();
        o["parties"][1]["person"]["lastName"] = LAST[(i + 3) % 6].into();
        writeln!(f, "{o}").unwrap();
    }
    f.flush().unwrap();
}

/// A fresh database: a SQLite file in `dir`, or a new PostgreSQL database on `pg_base`.
async fn fresh(dir: &Path, pg_base: Option<&str>) -> String {
    match pg_base {
        None => format!("sqlite://{}?mode=rwc", dir.join("ccpor.db").display()),
        Some(base) => {
            let name = format!("ccpor_test_{}", uuid::Uuid::new_v4().simple());
            let (admin, _) = ccpor::db::connect(base).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            format!("{}/{name}", base.rsplit_once('/').unwrap().0)
        }
    }
}

fn cmd(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut c = ccpor();
    c.args(args)
        .env("CCPOR_DATA_DIR", dir)
        .env("DATABASE_URL", url)
        .env_remove("CCPOR_IMAGE_STORE");
    c
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// One run: import until `kill_at` orders are stored, SIGKILL, import again, check.
async fn run(file: &Path, pg_base: Option<&str>, seed: u64, kill_at: i64) {
    let ctx = format!(
        "seed {seed}, kill after {kill_at} orders, {}",
        if pg_base.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let dir = tempfile::tempdir().unwrap();
    let url = fresh(dir.path(), pg_base).await;
    // Migrate first, so the poller has a table to count.
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    ccpor::db::migrate(&db).await.unwrap();
    let file_arg = file.to_str().unwrap();
    let batch = BATCH.to_string();
    let import = ["import", file_arg, "--batch-size", batch.as_str()];
    let mut child = cmd(dir.path(), &url, &import)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let seen = scalar(&db, "SELECT COUNT(*) FROM protective_order").await;
        if seen >= kill_at {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{ctx}: the import ended ({status}) at {seen} orders before the kill");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{ctx}: no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // PostgreSQL still finishes a COMMIT it received before the client died: count once the
    // count holds still.
    let mut partial = scalar(&db, "SELECT COUNT(*) FROM protective_order").await;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let again = scalar(&db, "SELECT COUNT(*) FROM protective_order").await;
        if again == partial {
            break;
        }
        partial = again;
    }
    assert!(
        partial >= kill_at && partial < LINES as i64,
        "{ctx}: {partial} stored at the kill"
    );
    // Whole batches only: every stored order has its key, and the stored count is batches.
    let keyed = scalar(&db, "SELECT COUNT(*) FROM import_key").await;
    assert_eq!(keyed, partial, "{ctx}: an order without its import key");
    assert_eq!(partial % BATCH as i64, 0, "{ctx}: a half batch was stored");

    let out = cmd(dir.path(), &url, &import).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{ctx}: re-run: {said}");
    let expect = format!("imported {} of {LINES} orders", LINES as i64 - partial);
    assert!(said.contains(&expect), "{ctx}: {said}");
    assert!(
        said.contains(&format!("{partial} already present")),
        "{ctx}: {said}"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM protective_order").await,
        LINES as i64,
        "{ctx}: every line stored once"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM (SELECT case_number FROM protective_order \
             GROUP BY case_number HAVING COUNT(*) > 1) AS twice"
        )
        .await,
        0,
        "{ctx}: a case number stored twice"
    );
    db.close().await.ok();
    let out = cmd(dir.path(), &url, &["reindex"]).output().unwrap();
    assert!(out.status.success(), "{ctx}: reindex: {}", text(&out));
    let out = cmd(dir.path(), &url, &["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{ctx}: check: {}", text(&out));
}

/// Three seeded kill points per backend; the seed is printed with every failure
/// (`CCPOR_CRASH_SEED` repeats a run).
#[tokio::test]
async fn import_killed_mid_file_and_rerun_stores_every_line_once() {
    let seed: u64 = std::env::var("CCPOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("CCPOR_CRASH_SEED={seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("orders.ndjson");
    write_file(&file);
    let pg = std::env::var("CCPOR_TEST_POSTGRES_URL").ok();
    for _ in 0..RUNS {
        // After a few batches, before the last few.
        let kill_at = rng.random_range(2 * BATCH..LINES - 8 * BATCH) as i64;
        run(&file, None, seed, kill_at).await;
        if let Some(base) = pg.as_deref() {
            run(&file, Some(base), seed, kill_at).await;
        }
    }
}

/// A byte-identical line is one order, whether it comes twice in a file or in a second run; the
/// report says how many lines were already present.
#[tokio::test]
async fn a_repeated_line_is_stored_once_and_reported_present() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feed.ndjson");
    let a = dv_tro("26FL700001", 2).to_string();
    let b = dv_tro("26FL700002", 2).to_string();
    std::fs::write(&file, format!("{a}\n{a}\n{b}\n")).unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ccpor.db").display()
    );
    let import = ["import", file.to_str().unwrap(), "--batch-size", "2"];
    let out = cmd(dir.path(), &url, &import).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("imported 2 of 3 orders") && said.contains("1 already present"),
        "{said}"
    );
    let out = cmd(dir.path(), &url, &import).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("imported 0 of 3 orders") && said.contains("3 already present"),
        "{said}"
    );
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM protective_order").await,
        2
    );
}

/// Feed message lines (`ISSUE`s, and a `MODIFY` of every third order) killed mid-file and
/// re-run: each message is stored once, with what it did, and the orders are one per `ISSUE`
/// and `MODIFY`.
#[tokio::test]
async fn an_import_of_message_lines_killed_mid_file_and_rerun_stores_every_message_once() {
    const ISSUES: usize = 600;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messages.ndjson");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    let issued = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let mut lines = 0usize;
    for i in 0..ISSUES {
        let mut o = dv_tro(&format!("26FL{i:06}"), 2);
        o["courtCode"] = "SC19".into();
        let issue = serde_json::json!({ "messageId": format!("k{i}-1"), "externalId": format!("E{i}"),
            "sequence": 1, "action": "ISSUE", "order": o });
        writeln!(f, "{issue}").unwrap();
        lines += 1;
        if i % 3 == 2 {
            let j = i - 2;
            let mut o = dv_tro(&format!("26FL{j:06}"), 2);
            o["courtCode"] = "SC19".into();
            o["issuedAt"] = issued.clone().into();
            o["conditions"]["stayAwayYards"] = 200.into();
            let modify = serde_json::json!({ "messageId": format!("k{j}-2"),
                "externalId": format!("E{j}"), "sequence": 2, "action": "MODIFY", "order": o });
            writeln!(f, "{modify}").unwrap();
            lines += 1;
        }
    }
    f.flush().unwrap();
    drop(f);
    let seed: u64 = rand::rng().random();
    println!("seed {seed}");
    let kill_at = rand_chacha::ChaCha8Rng::seed_from_u64(seed).random_range(50..lines as i64 - 100);
    let ctx = format!("seed {seed}, kill after {kill_at} messages");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ccpor.db").display()
    );
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    ccpor::db::migrate(&db).await.unwrap();
    let import = ["import", file.to_str().unwrap()];
    let mut child = cmd(dir.path(), &url, &import)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while scalar(&db, "SELECT COUNT(*) FROM feed_message").await < kill_at {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{ctx}: the import ended ({status}) before the kill");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{ctx}: no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = scalar(&db, "SELECT COUNT(*) FROM feed_message").await;
    assert!(
        partial < lines as i64,
        "{ctx}: {partial} stored at the kill"
    );

    let out = cmd(dir.path(), &url, &import).output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{ctx}: re-run: {said}");
    let expect = format!("imported {} of {lines} orders", lines as i64 - partial);
    assert!(said.contains(&expect), "{ctx}: {said}");
    assert!(
        said.contains(&format!("{partial} already present")),
        "{ctx}: {said}"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM feed_message").await,
        lines as i64,
        "{ctx}: every message stored once"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM protective_order").await,
        lines as i64,
        "{ctx}: one order per ISSUE and MODIFY"
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM feed_chain").await,
        ISSUES as i64,
        "{ctx}: one chain per externalId"
    );
    db.close().await.ok();
    let out = cmd(dir.path(), &url, &["reindex"]).output().unwrap();
    assert!(out.status.success(), "{ctx}: reindex: {}", text(&out));
    let out = cmd(dir.path(), &url, &["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{ctx}: check: {}", text(&out));
}
