//! `ccpor check`, `ccpor backup` and `ccpor restore`, run as the real binary against a served
//! demo data dir.
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryOrder, Set};
use serde_json::{Value, json};

use crate::cli::{ccpor, serve_demo};
use crate::helpers::{CREATE, dv_tro};

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = ccpor()
        .args(args)
        .env("CCPOR_DATA_DIR", dir)
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

async fn db_of(dir: &Path) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}?mode=rw", dir.join("ccpor.db").display());
    ccpor::db::connect(&url).await.unwrap().0
}

fn stop(mut child: std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// A clean demo is consistent (exit 0, also while serving); an orphan event, an order without its
/// parties, an import key of a missing order, a person the index lacks and a missing image object
/// each make `check` exit 4 and name the problem.
#[tokio::test]
async fn check_passes_on_a_clean_demo_and_names_each_break() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _url, _tokens) = serve_demo(dir.path());
    let (code, out) = run(dir.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("consistent"), "{out}");

    // One connection with foreign keys off: the damage a hand edit or a bad restore leaves.
    let url = format!("sqlite://{}?mode=rw", dir.path().join("ccpor.db").display());
    let mut opts = sea_orm::ConnectOptions::new(url);
    opts.max_connections(1).min_connections(1);
    let db = sea_orm::Database::connect(opts).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(&db, "PRAGMA foreign_keys = OFF")
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let orphan = entities::order_event::ActiveModel {
        order_id: Set(987_654),
        kind: Set("served".into()),
        occurred_at: Set(now),
        source: Set("court".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let last = entities::person::Entity::find()
        .order_by_desc(entities::person::Column::Id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let unindexed = last.id + 1000;
    let mut p = last.into_active_model().reset_all();
    p.id = Set(unindexed);
    p.insert(&db).await.unwrap();
    // An identity no link makes.
    entities::person_identity::ActiveModel {
        person_id: Set(unindexed),
        root_id: Set(1),
    }
    .insert(&db)
    .await
    .unwrap();
    // Half an order: its parties gone. An import key whose order is gone.
    let half: i32 = entities::order::Entity::find()
        .order_by_asc(entities::order::Column::Id)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .id;
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        &format!("DELETE FROM order_party WHERE order_id = {half}"),
    )
    .await
    .unwrap();
    let key = "cd".repeat(32);
    entities::import_key::ActiveModel {
        key: Set(vec![0xcd; 32]),
        order_id: Set(987_655),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    let sha = "ab".repeat(32);
    entities::image_blob::ActiveModel {
        sha256: Set(sha.clone()),
        content_type: Set("image/png".into()),
        size: Set(10),
        pages: Set(1),
        preview_sha256: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();

    let (code, out) = run(dir.path(), &["check"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(&format!(
            "event {} (served) belongs to order 987654, which does not exist",
            orphan.id
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "person {unindexed} is missing from the search index"
        )),
        "{out}"
    );
    assert!(out.contains(&sha) && out.contains("is missing"), "{out}");
    assert!(
        out.contains(&format!(
            "order {half} lacks a restrained or a protected party"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "import key {key} names order 987655, which does not exist"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "person {unindexed}: identity root 1, but no link joins it to another"
        )),
        "{out}"
    );
    assert!(out.contains("6 problems"), "{out}");

    let (code, out) = run(dir.path(), &["check", "--json"]);
    assert_eq!(code, 4, "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["consistent"], false);
    let areas: Vec<&str> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["area"].as_str().unwrap())
        .collect();
    assert_eq!(
        areas,
        ["event", "order", "import", "index", "identity", "image"],
        "{report:#}"
    );

    // With the server stopped, an outbox row an hour old stays unapplied: stuck.
    stop(child);
    let hour_ago = now - chrono::Duration::hours(1);
    let row = entities::search_outbox::ActiveModel {
        order_id: Set(None),
        person_id: Set(Some(1)),
        created_at: Set(hour_ago),
        updated_at: Set(hour_ago),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    let (code, out) = run(dir.path(), &["check"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(&format!("1 search outbox rows (ids {0}..={0})", row.id)),
        "{out}"
    );
}

/// A backup taken while the server acknowledges writes restores into a new data dir that passes
/// `check` and `audit verify`, holds every write acknowledged before the backup began, and
/// searches find its persons.
#[tokio::test]
async fn backup_while_serving_restores_into_a_new_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url, tokens) = serve_demo(dir.path());
    let base = url.trim_end_matches("/playground").to_owned();
    let client = reqwest::Client::new();
    let stop_writes = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (client, base, token) = (client.clone(), base.clone(), tokens["clerk"].clone());
        let (stop_writes, acked) = (stop_writes.clone(), acked.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop_writes.load(Ordering::SeqCst) {
                n += 1;
                let body: Value = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": CREATE, "variables": { "i": dv_tro(&format!("26FL8{n:05}"), 2) } }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(body["errors"].is_null(), "{body:#}");
                acked.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let db = db_of(dir.path()).await;
    let before = entities::order::Entity::find().count(&db).await.unwrap();
    let file = dir.path().join("backup.db");
    let backup = {
        let (d, f) = (dir.path().to_owned(), file.clone());
        tokio::task::spawn_blocking(move || run(&d, &["backup", f.to_str().unwrap()]))
    };
    let (code, out) = backup.await.unwrap();
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(dir.path(), &["backup", file.to_str().unwrap()]);
    assert_ne!(code, 0, "an existing file is not overwritten: {out}");
    stop_writes.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    stop(child);

    let restored = tempfile::tempdir().unwrap();
    let (code, out) = run(restored.path(), &["restore", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(restored.path(), &["restore", file.to_str().unwrap()]);
    assert_ne!(code, 0, "a restore never overwrites a database: {out}");
    let (code, out) = run(restored.path(), &["check"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(restored.path(), &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    let copy = db_of(restored.path()).await;
    let orders = entities::order::Entity::find().count(&copy).await.unwrap();
    assert!(
        orders >= before,
        "{orders} orders restored, {before} acknowledged before"
    );

    let (child, url, tokens) = serve_demo(restored.path());
    let base = url.trim_end_matches("/playground").to_owned();
    let found: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(&tokens["bench_officer"])
        .json(&json!({
            "query": "query($l: String, $f: String) { searchPersons(lastName: $l, firstName: $f, first: 10) { edges { node { person { lastName firstName } } } } }",
            "variables": { "l": "Okonkwo-Lind", "f": "Teodora" },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !found["data"]["searchPersons"]["edges"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{found:#}"
    );
    stop(child);
}

/// `check` on the suite's database (PostgreSQL with `CCPOR_TEST_POSTGRES_URL`) beside a serving
/// app; `backup` there: SQLite copies, PostgreSQL refuses and names `pg_dump`, whose documented
/// procedure (dump, restore into a new database, reindex) gives a copy that passes `check`.
#[tokio::test]
async fn check_and_backup_on_the_suite_database() {
    let app = crate::helpers::spawn_app().await;
    for n in 0..3 {
        crate::helpers::create(&app, dv_tro(&format!("26FL9{n:05}"), 2)).await;
    }
    let cli = |dir: &Path, url: &str, args: &[&str]| {
        let out = ccpor()
            .args(args)
            .env("CCPOR_DATA_DIR", dir)
            .env("DATABASE_URL", url)
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
    };
    let (code, out) = cli(app.data_dir(), &app.database_url, &["check"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 orders"), "{out}");
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("backup");
    let (code, out) = cli(
        app.data_dir(),
        &app.database_url,
        &["backup", file.to_str().unwrap()],
    );
    if !app.database_url.starts_with("postgres") {
        assert_eq!(code, 0, "{out}");
        return;
    }
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("pg_dump --format=custom"), "{out}");
    let dump = std::process::Command::new("pg_dump")
        .args([
            "--format=custom",
            "--file",
            file.to_str().unwrap(),
            &app.database_url,
        ])
        .output()
        .unwrap();
    assert!(dump.status.success(), "{dump:?}");
    let (prefix, _) = app.database_url.rsplit_once('/').unwrap();
    let name = format!("ccpor_test_{}", uuid::Uuid::new_v4().simple());
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, &format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let copy = format!("{prefix}/{name}");
    let restore = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &copy, file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(restore.status.success(), "{restore:?}");
    let fresh = tempfile::tempdir().unwrap();
    let (code, out) = cli(fresh.path(), &copy, &["reindex"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli(fresh.path(), &copy, &["check"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli(fresh.path(), &copy, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
}
