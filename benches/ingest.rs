//! Ingest throughput: `ccpor demo` generation and NDJSON import, on SQLite and (when
//! `CCPOR_BENCH_POSTGRES_URL` is set) PostgreSQL. Prints a table; results go in BENCHMARKS.md.
//!
//!   CCPOR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CCPOR_BENCH_ORDERS=100000 cargo bench --bench ingest
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::io::Write;
use std::time::Instant;

use ccpor::demo::names::Names;
use ccpor::domain::codes::Sex;
use rand::{Rng, SeedableRng};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// A synthetic `createOrder` input line; every `bad_every`-th line has a future DOB.
fn line(rng: &mut rand_chacha::ChaCha8Rng, names: &Names, i: usize, bad: bool) -> String {
    let issued = chrono::Utc::now() - chrono::Duration::days(rng.random_range(1..2000));
    let r = names.draw(rng, Sex::Male);
    let p = names.draw(rng, Sex::Female);
    let court = rng.random_range(1..=58);
    let dob = if bad {
        "2999-01-01".to_owned()
    } else {
        format!(
            "19{}-0{}-1{}",
            rng.random_range(50..99),
            rng.random_range(1..9),
            rng.random_range(0..9)
        )
    };
    json!({
        "courtCode": format!("SC{court:02}"),
        "caseNumber": format!("{}FL{i:07}", issued.format("%y")),
        "family": "DV", "formNumber": "DV-130",
        "issuedAt": issued.to_rfc3339(),
        "expiresAt": (issued + chrono::Duration::days(3 * 365)).to_rfc3339(),
        "conditions": { "pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT", "stayAwayYards": 100, "firearmRelinquishment": true },
        "parties": [
            { "role": "RESTRAINED", "relationship": "former spouse", "person": { "lastName": r.last, "firstName": r.first, "dob": dob, "sex": "MALE", "heightInches": 70, "weightPounds": 180, "hair": "BROWN", "eye": "BROWN" } },
            { "role": "PROTECTED", "person": { "lastName": p.last, "firstName": p.first, "sex": "FEMALE", "estimatedAge": 33 } }
        ]
    })
    .to_string()
}

async fn fresh(backend: &str, dir: &std::path::Path, tag: &str) -> sea_orm::DatabaseConnection {
    let url = if backend == "postgres" {
        let base = std::env::var("CCPOR_BENCH_POSTGRES_URL").unwrap();
        let name = format!("ccpor_bench_{tag}");
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
        format!(
            "sqlite://{}?mode=rwc",
            dir.join(format!("{tag}.db")).display()
        )
    };
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    ccpor::db::migrate(&db).await.unwrap();
    db
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CCPOR_BENCH_ORDERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec!["sqlite"];
    if std::env::var("CCPOR_BENCH_POSTGRES_URL").is_ok() {
        backends.push("postgres");
    }
    let names = Names::load();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let clean = dir.path().join("clean.ndjson");
    let dirty = dir.path().join("dirty.ndjson");
    {
        let mut c = std::io::BufWriter::new(std::fs::File::create(&clean).unwrap());
        let mut d = std::io::BufWriter::new(std::fs::File::create(&dirty).unwrap());
        for i in 0..n {
            writeln!(c, "{}", line(&mut rng, &names, i, false)).unwrap();
            writeln!(d, "{}", line(&mut rng, &names, i, i % 100 == 99)).unwrap();
        }
    }
    println!("| backend | task | orders | seconds | orders/s |");
    println!("|---|---|---:|---:|---:|");
    for backend in backends {
        let db = fresh(backend, dir.path(), "demo").await;
        let t = Instant::now();
        let r = ccpor::demo::generate(&db, n, 42, None).await.unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "| {backend} | demo generation | {} | {s:.2} | {:.0} |",
            r.orders,
            r.orders as f64 / s
        );
        db.close().await.ok();

        for (label, path) in [
            ("import (clean)", &clean),
            ("import (1% bad lines)", &dirty),
        ] {
            let db = fresh(
                backend,
                dir.path(),
                if label.contains("bad") {
                    "dirty"
                } else {
                    "clean"
                },
            )
            .await;
            let t = Instant::now();
            let reader = std::io::BufReader::new(std::fs::File::open(path).unwrap());
            let rep = ccpor::import::import_ndjson(
                &db,
                reader,
                ccpor::import::BatchSize::Fixed(1000),
                None,
            )
            .await
            .unwrap();
            let s = t.elapsed().as_secs_f64();
            assert_eq!(rep.imported + rep.rejected.len(), n);
            println!(
                "| {backend} | {label} | {} | {s:.2} | {:.0} |",
                rep.imported,
                rep.imported as f64 / s
            );
            db.close().await.ok();
        }
    }
}
