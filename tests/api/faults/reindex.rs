//! `ccpor reindex` killed with SIGKILL at seeded points of its rebuild, beside a serving server:
//! searches keep their answers throughout (the old index serves until the new one is whole and
//! switched to), writes go on being indexed, and afterwards, and after a server restart, the index
//! is complete (`ccpor check`).
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use super::{Deployment, index_caught_up, post, ready, seeded_rng, text};
use crate::helpers::{CREATE, dv_tro};

const RUNS: usize = 3;
const SEARCH: &str = "query($l: String) { searchPersons(lastName: $l, first: 100) { edges { node { person { id } } } } }";

/// Restrained persons of a last name written after the kills, one per run.
const LATER: [&str; RUNS] = ["Aldergrove", "Birchmoor", "Cindervale"];

async fn hits(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    last_name: &str,
) -> Result<usize, String> {
    let body: Value = post(client, base, token, SEARCH, json!({ "l": last_name }))
        .await
        .map_err(|e| e.to_string())?;
    body["data"]["searchPersons"]["edges"]
        .as_array()
        .map(Vec::len)
        .ok_or_else(|| format!("{body:#}"))
}

#[tokio::test]
async fn reindex_killed_midway_leaves_the_old_index_serving_and_complete() {
    let (seed, mut rng) = seeded_rng();
    let d = Deployment::new(None).await;
    let dir = d.data_dir();
    let out = d.cmd(dir, &["demo", "--orders", "3000"]).output().unwrap();
    assert!(out.status.success(), "demo: {}", text(&out));
    // A whole rebuild, timed: the kills land inside one.
    let started = Instant::now();
    let out = d.cmd(dir, &["reindex"]).output().unwrap();
    assert!(out.status.success(), "reindex: {}", text(&out));
    let whole = started.elapsed();

    let mut server = d.serve(dir, &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    let client = reqwest::Client::new();
    let (clerk, officer) = (d.clerk(), d.bench_officer());
    let mut case = 0;
    let mut create = async |base: &str, last_name: &str| {
        case += 1;
        let mut input = dv_tro(&format!("26FL9{case:05}"), 2);
        if last_name != "Quintero Vale" {
            // Without dv_tro's alias, which a search for "Quintero Vale" also finds.
            input["parties"][0]["person"]["lastName"] = last_name.into();
            input["parties"][0]["person"]["aliases"] = json!([]);
        }
        let body = post(&client, base, &clerk, CREATE, json!({ "i": input }))
            .await
            .unwrap();
        assert!(body["errors"].is_null(), "{body:#}");
    };
    for _ in 0..3 {
        create(&server.base, "Quintero Vale").await;
    }
    index_caught_up(&server.base, Duration::from_secs(30)).await;
    let expected = hits(&client, &server.base, &officer, "Quintero Vale")
        .await
        .unwrap();
    assert!(expected > 0);

    for (run, later) in LATER.into_iter().enumerate() {
        let ctx = format!("seed {seed}, run {run}");
        // Searches every few milliseconds while the rebuild runs and dies: never fewer hits.
        let stop = Arc::new(AtomicBool::new(false));
        let searched = Arc::new(AtomicUsize::new(0));
        let poller = {
            let (client, base, officer) = (client.clone(), server.base.clone(), officer.clone());
            let (stop, searched, ctx) = (stop.clone(), searched.clone(), ctx.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let n = hits(&client, &base, &officer, "Quintero Vale").await;
                    assert_eq!(n, Ok(expected), "{ctx}: a search during the rebuild");
                    searched.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let mut child = d
            .cmd(dir, &["reindex"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let at = whole.mul_f64(rng.random_range(0.05..0.95));
        tokio::time::sleep(at).await;
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        child.wait().unwrap();
        println!("{ctx}: killed after {at:?} of {whole:?} (had finished: {finished})");
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::SeqCst);
        poller.await.unwrap();
        assert!(searched.load(Ordering::SeqCst) > 0, "{ctx}: no search ran");
        // Writes after the kill are indexed; the index holds every person once.
        create(&server.base, later).await;
        index_caught_up(&server.base, Duration::from_secs(30)).await;
        assert_eq!(
            hits(&client, &server.base, &officer, later).await,
            Ok(1),
            "{ctx}: a write after the kill"
        );
        let (code, out) = d.check(dir);
        assert_eq!(code, 0, "{ctx}: check after the kill: {out}");
    }

    // A server restarted after all this opens a whole index and catches up.
    server.kill();
    let server = d.serve(dir, &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    index_caught_up(&server.base, Duration::from_secs(30)).await;
    assert_eq!(
        hits(&client, &server.base, &officer, "Quintero Vale").await,
        Ok(expected)
    );
    for name in LATER {
        assert_eq!(hits(&client, &server.base, &officer, name).await, Ok(1));
    }
    let (code, out) = d.check(dir);
    assert_eq!(code, 0, "check after the restart: {out}");
    // And a reindex left to finish switches cleanly.
    let out = d.cmd(dir, &["reindex"]).output().unwrap();
    assert!(out.status.success(), "reindex: {}", text(&out));
    let (code, out) = d.check(dir);
    assert_eq!(code, 0, "check after a whole reindex: {out}");
}
