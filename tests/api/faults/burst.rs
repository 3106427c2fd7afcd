//! `ccpor serve` killed with SIGKILL during a burst of concurrent `createOrder` and
//! `recordService` calls: every write the server acknowledged is there after the restart, no
//! order is half-written, and `ccpor check` passes. Three seeded kill points per backend.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::json;

use super::{Deployment, index_caught_up, post, ready, scalar, seeded_rng};
use crate::helpers::{CREATE, dv_tro};

const WORKERS: usize = 8;
const RUNS: usize = 3;
const SERVE: &str =
    "mutation($i: RecordServiceInput!) { recordService(input: $i) { order { id served } } }";

/// What the server acknowledged: case numbers of created orders, ids of served orders.
#[derive(Default)]
struct Acked {
    created: BTreeSet<String>,
    served: BTreeSet<String>,
}

async fn run(pg_base: Option<&str>, seed: u64, kill_after: usize) {
    let ctx = format!(
        "seed {seed}, kill after {kill_after} acknowledged writes, {}",
        if pg_base.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let d = Deployment::new(pg_base).await;
    let mut server = d.serve(d.data_dir(), &[]);
    let token = d.clerk();
    let acked = Arc::new(Mutex::new(Acked::default()));
    let client = reqwest::Client::new();
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (client, base, token, acked) = (
            client.clone(),
            server.base.clone(),
            token.clone(),
            acked.clone(),
        );
        workers.push(tokio::spawn(async move {
            for n in 0.. {
                let case = format!("26FL{w}{n:05}");
                let Ok(body) = post(
                    &client,
                    &base,
                    &token,
                    CREATE,
                    json!({ "i": dv_tro(&case, 2) }),
                )
                .await
                else {
                    return; // the server is gone
                };
                let Some(id) = body["data"]["createOrder"]["order"]["id"].as_str() else {
                    panic!("createOrder refused before the kill: {body:#}");
                };
                let id = id.to_owned();
                acked.lock().unwrap().created.insert(case);
                let served_at = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
                let v = json!({ "i": { "orderId": id, "servedAt": served_at, "method": "PERSONAL",
                                       "serverName": "Deputy Synthetic" } });
                let Ok(body) = post(&client, &base, &token, SERVE, v).await else {
                    return;
                };
                assert_eq!(
                    body["data"]["recordService"]["order"]["served"], true,
                    "recordService refused before the kill: {body:#}"
                );
                acked.lock().unwrap().served.insert(id);
            }
        }));
    }
    let started = Instant::now();
    loop {
        let n = {
            let a = acked.lock().unwrap();
            a.created.len() + a.served.len()
        };
        if n >= kill_after {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{ctx}: only {n} writes in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    for w in workers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());

    // Straight from the database, before anything repairs it: every acknowledged write.
    let db = d.db().await;
    for case in &acked.created {
        let n = scalar(
            &db,
            &format!("SELECT COUNT(*) FROM protective_order WHERE case_number = '{case}'"),
        )
        .await;
        assert_eq!(n, 1, "{ctx}: acknowledged order {case} stored {n} times");
    }
    let served = scalar(&db, "SELECT COUNT(DISTINCT order_id) FROM service_record").await;
    assert!(
        served >= acked.served.len() as i64,
        "{ctx}: {served} orders with service stored, {} acknowledged",
        acked.served.len()
    );
    db.close().await.ok();

    // Restarted, the server answers for every acknowledged write; then everything is consistent.
    let mut server = d.serve(d.data_dir(), &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    let officer = d.bench_officer();
    for id in &acked.served {
        let body = post(
            &client,
            &server.base,
            &officer,
            "query($id: ID!) { order(id: $id) { served } }",
            json!({ "id": id }),
        )
        .await
        .unwrap();
        assert_eq!(
            body["data"]["order"]["served"], true,
            "{ctx}: order {id}: {body:#}"
        );
    }
    // The index catches up with what the killed server left in the outbox.
    index_caught_up(&server.base, Duration::from_secs(30)).await;
    assert!(server.terminate().success(), "{ctx}: graceful stop");
    let (code, out) = d.check(d.data_dir());
    assert_eq!(code, 0, "{ctx}: check after the restart: {out}");
}

#[tokio::test]
async fn serve_killed_during_a_write_burst_keeps_every_acknowledged_write() {
    let (seed, mut rng) = seeded_rng();
    let pg = std::env::var("CCPOR_TEST_POSTGRES_URL").ok();
    for _ in 0..RUNS {
        let kill_after = rng.random_range(4..80);
        run(None, seed, kill_after).await;
        if let Some(base) = pg.as_deref() {
            run(Some(base), seed, kill_after).await;
        }
    }
}
