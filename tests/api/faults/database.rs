//! PostgreSQL taken away under load, on a cluster of the test's own (`cluster`): stopped and
//! started again, then every server connection cut with `pg_terminate_backend`. While it is gone,
//! requests fail fast with `DATABASE_UNAVAILABLE`; within seconds of its return everything answers
//! again without restarting the server; no acknowledged write is lost and nothing is half-written
//! (`ccpor check`).
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use super::cluster::Cluster;
use super::{Deployment, post, ready, scalar};
use crate::helpers::{CREATE, dv_tro};

/// What one request got, and when it started (since the load began).
#[derive(Debug, Clone)]
struct Outcome {
    at: Duration,
    took: Duration,
    /// `None`: answered without errors; `Some(code)`: the first error's code ("" for no answer).
    error: Option<String>,
    write: bool,
}

#[derive(Default)]
struct Log {
    outcomes: Vec<Outcome>,
    acked: BTreeSet<String>,
}

fn first_code(body: &Value) -> Option<String> {
    body.get("errors").map(|e| {
        e[0]["extensions"]["code"]
            .as_str()
            .unwrap_or("?")
            .to_owned()
    })
}

/// Waits until `n` reads in a row succeed; returns how long that took.
async fn recovered(base: &str, token: &str, order: &str, n: usize, limit: Duration) -> Duration {
    let started = Instant::now();
    let client = reqwest::Client::new();
    let mut streak = 0;
    let mut last = Value::Null;
    while streak < n {
        assert!(
            started.elapsed() < limit,
            "not answering {limit:?} after the database came back: {last:#}"
        );
        match post(
            &client,
            base,
            token,
            "query($id: ID!) { order(id: $id) { id } }",
            json!({ "id": order }),
        )
        .await
        {
            Ok(b) if b.get("errors").is_none() => streak += 1,
            Ok(b) => {
                streak = 0;
                last = b;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the server stopped answering: {e}"),
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn postgres_stopped_and_connections_cut_under_load() {
    let pg = Cluster::start();
    let d = Deployment::new(Some(&pg.url())).await;
    let server = d.serve(d.data_dir(), &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    let (clerk, officer) = (d.clerk(), d.bench_officer());
    let client = reqwest::Client::new();
    let body = post(
        &client,
        &server.base,
        &clerk,
        CREATE,
        json!({ "i": dv_tro("26FL5000000", 2) }),
    )
    .await
    .unwrap();
    let order = body["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let log = Arc::new(Mutex::new(Log::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let t0 = Instant::now();
    let mut load = Vec::new();
    for w in 0..6 {
        let write = w % 2 == 0;
        let (client, base, log, stop) = (
            client.clone(),
            server.base.clone(),
            log.clone(),
            stop.clone(),
        );
        let token = if write {
            clerk.clone()
        } else {
            officer.clone()
        };
        let order = order.clone();
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                n += 1;
                let case = format!("26FL5{w}{n:05}");
                let at = t0.elapsed();
                let answer = if write {
                    post(
                        &client,
                        &base,
                        &token,
                        CREATE,
                        json!({ "i": dv_tro(&case, 2) }),
                    )
                    .await
                } else {
                    post(
                        &client,
                        &base,
                        &token,
                        "query($id: ID!) { order(id: $id) { id caseNumber } }",
                        json!({ "id": order }),
                    )
                    .await
                };
                let took = t0.elapsed() - at;
                let error = match &answer {
                    Ok(b) => first_code(b),
                    Err(_) => Some(String::new()),
                };
                {
                    let mut l = log.lock().unwrap();
                    if write && error.is_none() {
                        l.acked.insert(case);
                    }
                    l.outcomes.push(Outcome {
                        at,
                        took,
                        error,
                        write,
                    });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    // 1. Stopped (fast shutdown: sessions ended) for five seconds, then started again. Requests
    // that reach the pool before the watcher has seen the database gone (its first quarter
    // second) wait out the acquire timeout (3 s); every load task can be among them, so the
    // outage lasts long enough for requests sent after that to be seen refused at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let down = t0.elapsed();
    pg.down("fast");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let starting = t0.elapsed();
    pg.up();
    let up = t0.elapsed();
    let back = recovered(&server.base, &officer, &order, 20, Duration::from_secs(15)).await;
    println!("stopped at {down:?}, started at {up:?}, answering again {back:?} later");

    // 2. Every connection of the server's database cut while requests run.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (admin, _) = ccpor::db::connect(&pg.url()).await.unwrap();
    let db_name = d.database_url.rsplit('/').next().unwrap().to_owned();
    let cut_at = t0.elapsed();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db_name}' AND pid <> pg_backend_pid()"
        ))
        .await
        .unwrap();
    admin.close().await.ok();
    let again = recovered(&server.base, &officer, &order, 20, Duration::from_secs(10)).await;
    println!("connections cut at {cut_at:?}, answering again {again:?} later");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for l in load {
        l.await.unwrap();
    }
    let log = std::mem::take(&mut *log.lock().unwrap());

    // Every request answered; each error said the database was unavailable; none waited long.
    let mut codes = BTreeSet::new();
    for o in &log.outcomes {
        if let Some(code) = &o.error {
            codes.insert(code.clone());
            assert_eq!(
                code, "DATABASE_UNAVAILABLE",
                "{o:?} (stopped {down:?}..{up:?}, cut {cut_at:?})"
            );
        }
        assert!(
            o.took < ccpor::db::ACQUIRE_TIMEOUT * 2 + Duration::from_secs(2),
            "a request waited {:?}: {o:?}",
            o.took
        );
    }
    // Once the server has seen the database gone (it looks four times a second), requests are
    // refused at once.
    let during: Vec<&Outcome> = log
        .outcomes
        .iter()
        .filter(|o| o.at > down + Duration::from_millis(1500) && o.at + o.took < starting)
        .collect();
    assert!(
        during.len() >= 6,
        "few requests during the outage: {during:?}; all from the stop to the start: {:?}",
        log.outcomes
            .iter()
            .filter(|o| o.at > down && o.at < starting)
            .collect::<Vec<_>>()
    );
    for o in &during {
        assert_eq!(o.error.as_deref(), Some("DATABASE_UNAVAILABLE"), "{o:?}");
        assert!(
            o.took < Duration::from_secs(1),
            "not refused at once: {o:?}"
        );
    }
    let acked_after = log
        .outcomes
        .iter()
        .filter(|o| o.write && o.error.is_none() && o.at > up + back)
        .count();
    assert!(acked_after > 0, "no write acknowledged after the recovery");
    println!(
        "{} requests, {} refused ({codes:?}), {} writes acknowledged ({acked_after} after the \
         recovery)",
        log.outcomes.len(),
        log.outcomes.iter().filter(|o| o.error.is_some()).count(),
        log.acked.len()
    );

    // No acknowledged write lost; nothing half-written.
    let db = d.db().await;
    for case in &log.acked {
        let n = scalar(
            &db,
            &format!("SELECT COUNT(*) FROM protective_order WHERE case_number = '{case}'"),
        )
        .await;
        assert_eq!(n, 1, "acknowledged order {case} stored {n} times");
    }
    db.close().await.ok();
    let mut server = server;
    assert!(server.terminate().success(), "graceful stop");
    let (code, out) = d.check(d.data_dir());
    assert_eq!(code, 0, "check: {out}");
}
