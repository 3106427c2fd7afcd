//! The added cost of the CARPOS outbox row to `createOrder` (issue 23), on SQLite and (when
//! `CCPOR_BENCH_POSTGRES_URL` is set) PostgreSQL. `createOrder` and the import share
//! `service::batch_write`, which ends by queuing the new chain's entry from the rows it wrote
//! (check the POF's mandatory fields, insert the row); the lifecycle writes queue through
//! `carpos::outbox::queue_entries`, which loads the order's facts first. Measured here:
//!
//! 1. one order per transaction through the import (`import_ndjson` with batch 1): the whole
//!    insert of an order, commit included, outbox row included — a lower bound of a
//!    `createOrder`, which adds HTTP, GraphQL, the token check and its audit row;
//! 2. `queue_entries` alone for each of those orders, each in its own write transaction that is
//!    rolled back (the rows it would add are deleted first), timed around the call.
//!
//! (1) holds the outbox's real cost to a new order; (2), which also loads the facts, bounds it
//! from above. Prints a table; results go in BENCHMARKS.md.
//!
//!   CCPOR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CCPOR_BENCH_ORDERS=2000 cargo bench --bench carpos_outbox
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use serde_json::json;

/// A synthetic DV-110 line with all of the POF's mandatory data (names take no digits).
fn line(i: usize) -> String {
    let issued = chrono::Utc::now() - chrono::Duration::days(2);
    let expires = issued + chrono::Duration::days(21);
    let mut tag = String::new();
    let mut k = i;
    for _ in 0..4 {
        tag.push(char::from(b'a' + u8::try_from(k % 26).unwrap()));
        k /= 26;
    }
    json!({
        "courtCode": "SC19", "caseNumber": format!("26FL{:07}", 9_000_000 + i),
        "family": "DV", "formNumber": "DV-110",
        "issuedAt": issued.to_rfc3339(), "expiresAt": expires.to_rfc3339(),
        "hearingDate": expires.date_naive().to_string(), "judicialOfficer": "Hon. A. Synthetic",
        "conditions": { "pcoCodes": ["01", "04"], "contactLevel": "NO_CONTACT", "stayAwayYards": 100, "firearmRelinquishment": true },
        "parties": [
            { "role": "RESTRAINED", "relationship": "former spouse", "person": { "lastName": format!("Quintero V{tag}"), "firstName": "Ramiro", "dob": "1984-02-29", "sex": "MALE", "race": "WHITE", "heightInches": 70, "weightPounds": 180, "hair": "BLACK", "eye": "BROWN" } },
            { "role": "PROTECTED", "person": { "lastName": format!("Okonkwo L{tag}"), "firstName": "Teodora", "sex": "FEMALE", "estimatedAge": 35 } }
        ]
    })
    .to_string()
}

async fn fresh(backend: &str, dir: &std::path::Path) -> sea_orm::DatabaseConnection {
    let url = if backend == "postgres" {
        let base = std::env::var("CCPOR_BENCH_POSTGRES_URL").unwrap();
        let name = "ccpor_bench_outbox";
        let (admin, _) = ccpor::db::connect(&base).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        format!("{}/{name}", base.rsplit_once('/').unwrap().0)
    } else {
        format!("sqlite://{}?mode=rwc", dir.join("outbox.db").display())
    };
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    ccpor::db::migrate(&db).await.unwrap();
    db
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CCPOR_BENCH_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut backends = vec!["sqlite"];
    if std::env::var("CCPOR_BENCH_POSTGRES_URL").is_ok() {
        backends.push("postgres");
    }
    let text: String = (0..n).map(|i| line(i) + "\n").collect();
    println!(
        "| backend | orders | one order per transaction (import, batch 1), µs/order | queue_entries alone, µs/order | share |"
    );
    println!("|---|---:|---:|---:|---:|");
    for backend in backends {
        let dir = tempfile::tempdir().unwrap();
        let db = fresh(backend, dir.path()).await;
        let t = Instant::now();
        let rep = ccpor::import::import_ndjson(
            &db,
            text.as_bytes(),
            ccpor::import::BatchSize::Fixed(1),
            None,
        )
        .await
        .unwrap();
        let insert = t.elapsed();
        assert_eq!(rep.imported, n, "{} lines rejected", rep.rejected.len());
        let ids: Vec<i32> = entities::order::Entity::find()
            .select_only()
            .column(entities::order::Column::Id)
            .into_tuple()
            .all(&db)
            .await
            .unwrap();
        db.execute_unprepared("DELETE FROM carpos_transmission")
            .await
            .unwrap();
        let mut outbox = Duration::ZERO;
        for &id in &ids {
            let txn = ccpor::db::begin_write(&db).await.unwrap();
            let t = Instant::now();
            ccpor::carpos::outbox::queue_entries(&txn, &[id])
                .await
                .unwrap();
            outbox += t.elapsed();
            txn.rollback().await.unwrap();
        }
        let (a, b) = (micros(insert, n), micros(outbox, ids.len()));
        println!(
            "| {backend} | {n} | {a:.0} | {b:.0} | {:.0} % |",
            100.0 * b / a
        );
        db.close().await.ok();
    }
}
