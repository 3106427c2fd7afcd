//! The import key on disk: the SHA-256 of each stored line, as 32 bytes since
//! `m20261207_000019_import_key_binary`. A registry that imported a file before that migration
//! must still recognise the file after it (the keys are converted, not dropped), on SQLite and on
//! PostgreSQL; and the migration's way back gives the hex again.
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;

use crate::helpers::{TestApp, dv_tro, spawn_app};

async fn import(app: &TestApp, text: &str) -> ccpor::import::ImportReport {
    ccpor::import::import_ndjson(
        &app.db,
        std::io::Cursor::new(text.to_owned()),
        ccpor::import::BatchSize::Default,
        None,
    )
    .await
    .unwrap()
}

/// The stored keys as the database gives them back, sorted: `hex` reads text, else bytes.
async fn stored(app: &TestApp, hex: bool) -> Vec<Vec<u8>> {
    let backend = app.db.get_database_backend();
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT key FROM import_key ORDER BY order_id",
        ))
        .await
        .unwrap();
    let mut keys: Vec<Vec<u8>> = rows
        .iter()
        .map(|r| {
            if hex {
                r.try_get::<String>("", "key").unwrap().into_bytes()
            } else {
                r.try_get::<Vec<u8>>("", "key").unwrap()
            }
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn keys_stored_before_the_migration_to_bytes_still_recognise_their_lines() {
    let app = spawn_app().await;
    let lines: Vec<String> = (0..3)
        .map(|i| dv_tro(&format!("26FL70000{i}"), 2).to_string())
        .collect();
    let file: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let first = import(&app, &file).await;
    assert_eq!(first.imported, 3, "{first:?}");
    let mut digests: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| ccpor::import::line_digest(l).to_vec())
        .collect();
    digests.sort();
    assert_eq!(stored(&app, false).await, digests, "32 bytes a key");

    // Back to the schema before the migration: the keys as lower-case hex.
    Migrator::down(&app.db, Some(1)).await.unwrap();
    let mut hex: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| ccpor::import::line_key(l).into_bytes())
        .collect();
    hex.sort();
    assert_eq!(stored(&app, true).await, hex, "the way back gives the hex");

    // And forward again, as an upgrade of a registry with keys in hex would run.
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(stored(&app, false).await, digests, "hex converted to bytes");
    let again = import(&app, &file).await;
    assert_eq!(
        (again.imported, again.already_present),
        (0, 3),
        "the file is recognised after the upgrade: {again:?}"
    );
    assert_eq!(app.count("protective_order").await, 3);
    // A line not seen before still goes in beside them.
    let new: Value = dv_tro("26FL700009", 2);
    let more = import(&app, &format!("{file}{new}\n")).await;
    assert_eq!((more.imported, more.already_present), (1, 3), "{more:?}");
}
