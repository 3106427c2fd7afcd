//! `ccpor serve` killed with SIGKILL while image uploads are in flight: every acknowledged upload
//! is stored with its object, no row names a missing object, no object is visible under its final
//! name with other content (half-written), the killed server's spooled files are removed when the
//! server starts again, and `ccpor check` passes. Three seeded kill points; filesystem store.
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::{Deployment, post, ready, scalar, seeded_rng};
use crate::helpers::{CREATE, dv_tro};
use crate::images::files::{png, sha256};

const WORKERS: usize = 4;
const RUNS: usize = 3;
const UPLOAD: &str = "mutation($o: ID!, $f: Upload!) { uploadOrderImage(orderId: $o, file: $f, kind: ORDER) { image { sha256 } } }";

pub(super) async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    order: &str,
    bytes: Vec<u8>,
) -> Result<Value, reqwest::Error> {
    let ops = json!({ "query": UPLOAD, "variables": { "o": order, "f": null } });
    let form = Form::new()
        .text("operations", ops.to_string())
        .text("map", json!({ "0": ["variables.f"] }).to_string())
        .part("0", Part::bytes(bytes).file_name("scan.png"));
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .header("apollo-require-preflight", "true")
        .multipart(form)
        .send()
        .await?
        .json()
        .await
}

/// Every file under `root` stored under a content name (`sha256/ab/<sha>`,
/// `previews/ab/<sha>.png`) holds exactly that content; returns how many there are.
pub(super) fn objects_whole(root: &Path) -> usize {
    let mut whole = 0;
    let mut dirs = vec![root.to_owned()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.trim_end_matches(".png");
            if stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit()) {
                let bytes = std::fs::read(&path).unwrap();
                assert_eq!(sha256(&bytes), stem, "{} is half-written", path.display());
                whole += 1;
            }
        }
    }
    whole
}

async fn run(pg_base: Option<&str>, seed: u64, kill_after: usize, extra: Duration) {
    let ctx = format!(
        "seed {seed}, kill {extra:?} after {kill_after} acknowledged uploads, {}",
        if pg_base.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    let d = Deployment::new(pg_base).await;
    let dir = d.data_dir();
    let mut server = d.serve(dir, &[]);
    let client = reqwest::Client::new();
    let token = d.clerk();
    let mut orders = Vec::new();
    for w in 0..WORKERS {
        let body = post(
            &client,
            &server.base,
            &token,
            CREATE,
            json!({ "i": dv_tro(&format!("26FL77{w:04}"), 2) }),
        )
        .await
        .unwrap();
        orders.push(
            body["data"]["createOrder"]["order"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let mut workers = Vec::new();
    for (w, order) in orders.iter().enumerate() {
        let (client, base, token, order, acked) = (
            client.clone(),
            server.base.clone(),
            token.clone(),
            order.clone(),
            acked.clone(),
        );
        workers.push(tokio::spawn(async move {
            for n in 0..60u8 {
                let bytes = png(480, 360, (w as u8) * 60 + n);
                let sha = sha256(&bytes);
                let Ok(body) = upload(&client, &base, &token, &order, bytes).await else {
                    return; // the server is gone
                };
                assert_eq!(
                    body["data"]["uploadOrderImage"]["image"]["sha256"], sha,
                    "an upload refused before the kill: {body:#}"
                );
                acked.lock().unwrap().insert((order.clone(), sha));
            }
        }));
    }
    let started = Instant::now();
    while acked.lock().unwrap().len() < kill_after {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{ctx}: uploads too slow"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    tokio::time::sleep(extra).await;
    server.kill();
    for w in workers {
        w.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let db = d.db().await;
    for (order, sha) in &acked {
        let n = scalar(
            &db,
            &format!("SELECT COUNT(*) FROM order_image WHERE blob_sha256 = '{sha}'"),
        )
        .await;
        assert_eq!(n, 1, "{ctx}: acknowledged upload {sha} of order {order}");
    }
    let orphans = scalar(
        &db,
        "SELECT COUNT(*) FROM order_image i LEFT JOIN image_blob b ON b.sha256 = i.blob_sha256 \
         WHERE b.sha256 IS NULL",
    )
    .await;
    assert_eq!(orphans, 0, "{ctx}: image rows without their blob row");
    let blobs = scalar(&db, "SELECT COUNT(*) FROM image_blob").await;
    db.close().await.ok();
    let whole = objects_whole(&dir.join("images"));
    assert!(
        whole as i64 >= blobs,
        "{ctx}: {whole} whole objects for {blobs} blob rows"
    );

    let spool = dir.join("tmp").join("uploads");
    let left = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    println!("{ctx}: {left} spooled uploads left by the killed server");
    let mut server = d.serve(dir, &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    let spooled = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(spooled, 0, "{ctx}: spooled uploads left after the restart");
    assert!(server.terminate().success(), "{ctx}: graceful stop");
    let (code, out) = d.check(dir);
    assert_eq!(code, 0, "{ctx}: check after the restart: {out}");
}

#[tokio::test]
async fn serve_killed_during_image_uploads_leaves_no_half_object_or_orphan_row() {
    let (seed, mut rng) = seeded_rng();
    let pg = std::env::var("CCPOR_TEST_POSTGRES_URL").ok();
    for _ in 0..RUNS {
        let kill_after = rng.random_range(1..12);
        let extra = Duration::from_millis(rng.random_range(0..40));
        run(None, seed, kill_after, extra).await;
        if let Some(base) = pg.as_deref() {
            run(Some(base), seed, kill_after, extra).await;
        }
    }
}
