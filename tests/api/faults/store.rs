//! The image store full or unreachable while the server runs: a filesystem store on a small tmpfs
//! filled up, and an S3 store whose endpoint goes away (a TCP relay in front of the S3 test server,
//! stopped and started again: connections refused, as when the network to the store is cut).
//! Uploads are refused at once with `IMAGE_STORE_FULL` / `IMAGE_STORE_UNAVAILABLE` and nothing of
//! them is stored (no rows, no half objects); order data is read and written as before; uploads
//! are taken again when the store returns, without a restart; `ccpor check` passes.
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::disk::{Tmpfs, code, fill_up};
use super::upload::{objects_whole, upload};
use super::{Deployment, Server, post, ready, scalar};
use crate::helpers::{CREATE, dv_tro, s3_endpoint};
use crate::images::files::{png, sha256};

const READ: &str = "query($id: ID!) { order(id: $id) { caseNumber images { sha256 } } }";

/// Rows of image tables: (image_blob, order_image).
async fn image_rows(d: &Deployment) -> (i64, i64) {
    let db = d.db().await;
    let rows = (
        scalar(&db, "SELECT COUNT(*) FROM image_blob").await,
        scalar(&db, "SELECT COUNT(*) FROM order_image").await,
    );
    db.close().await.ok();
    rows
}

/// The scenario both stores share, with the store taken away by `cut` and given back by `mend`.
async fn scenario(
    d: &Deployment,
    server: &Server,
    refused_code: &str,
    cut: impl AsyncFnOnce(),
    mend: impl AsyncFnOnce(),
) {
    ready(&server.base, Duration::from_secs(30)).await;
    let client = reqwest::Client::new();
    let (clerk, officer) = (d.clerk(), d.bench_officer());
    let created = post(
        &client,
        &server.base,
        &clerk,
        CREATE,
        json!({ "i": dv_tro("26FL500000", 2) }),
    )
    .await
    .unwrap();
    let order = created["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = png(200, 150, 1);
    let body = upload(&client, &server.base, &clerk, &order, first.clone())
        .await
        .unwrap();
    assert_eq!(
        body["data"]["uploadOrderImage"]["image"]["sha256"],
        sha256(&first),
        "{body:#}"
    );
    let before = image_rows(d).await;

    cut().await;
    for n in 2..6u8 {
        let started = Instant::now();
        let body = upload(&client, &server.base, &clerk, &order, png(200, 150, n))
            .await
            .unwrap();
        assert_eq!(code(&body), Some(refused_code), "upload {n}: {body:#}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "refused only after {:?}",
            started.elapsed()
        );
    }
    assert_eq!(image_rows(d).await, before, "rows of refused uploads");
    // Order data goes on: reads (with the image already stored) and writes.
    for n in 1..=5u32 {
        let read = post(
            &client,
            &server.base,
            &officer,
            READ,
            json!({ "id": order }),
        )
        .await
        .unwrap();
        assert!(read.get("errors").is_none(), "a read: {read:#}");
        assert_eq!(read["data"]["order"]["images"][0]["sha256"], sha256(&first));
        let write = post(
            &client,
            &server.base,
            &clerk,
            CREATE,
            json!({ "i": dv_tro(&format!("26FL5{n:05}"), 2) }),
        )
        .await
        .unwrap();
        assert!(write.get("errors").is_none(), "a write: {write:#}");
    }

    mend().await;
    let again = png(200, 150, 2);
    let started = Instant::now();
    loop {
        let body = upload(&client, &server.base, &clerk, &order, again.clone())
            .await
            .unwrap();
        if code(&body).is_none() {
            assert_eq!(
                body["data"]["uploadOrderImage"]["image"]["sha256"],
                sha256(&again)
            );
            break;
        }
        assert_eq!(code(&body), Some(refused_code), "{body:#}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "uploads still refused: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "uploads taken again {:?} after the store returned",
        started.elapsed()
    );
    assert_eq!(image_rows(d).await, (before.0 + 1, before.1 + 1));
}

/// No staging file of a refused write is left, and every object holds its content.
fn store_clean(dir: &Path) {
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.path().is_dir() {
                dirs.push(e.path());
            } else {
                let name = e.file_name().to_string_lossy().to_string();
                assert!(!name.contains('#'), "a staging file is left: {name}");
            }
        }
    }
    objects_whole(dir);
}

#[tokio::test]
async fn filesystem_image_store_full_refuses_uploads_and_recovers() {
    let d = Deployment::new(None).await;
    let store = d.data_dir().join("store");
    let _mount = Tmpfs::mount(&store, 8);
    let mut server = d.serve(
        d.data_dir(),
        &[("CCPOR_IMAGE_STORE", store.to_str().unwrap())],
    );
    let ballast = store.join("ballast");
    scenario(
        &d,
        &server,
        "IMAGE_STORE_FULL",
        async || {
            fill_up(&ballast);
            store_clean(&store);
        },
        async || {
            store_clean(&store);
            std::fs::remove_file(&ballast).unwrap();
        },
    )
    .await;
    assert!(server.terminate().success(), "graceful stop");
    let out = d
        .cmd(d.data_dir(), &["check"])
        .env("CCPOR_IMAGE_STORE", &store)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "check: {}", super::text(&out));
}

/// A TCP relay to `target` on a fixed local port that can be stopped (every connection cut,
/// new ones refused) and started again.
struct Relay {
    port: u16,
    target: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            port: listener.local_addr().unwrap().port(),
            target: target.to_owned(),
            tasks: Arc::default(),
        };
        relay.serve(listener);
        relay
    }

    fn serve(&self, listener: TcpListener) {
        let (target, tasks) = (self.target.clone(), self.tasks.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(conn);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn resume(&self) {
        let started = Instant::now();
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) => {
                    assert!(started.elapsed() < Duration::from_secs(5), "rebind: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        self.serve(listener);
    }
}

// The relay runs on the test's runtime: worker threads keep it relaying while the test waits on
// `ccpor check`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_image_store_unreachable_refuses_uploads_and_recovers() {
    let endpoint = s3_endpoint();
    let bucket = format!("ccpor-test-{}", uuid::Uuid::new_v4().simple());
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("S3 test server at {endpoint} is not reachable: {e}"));
    assert!(made.status().is_success(), "bucket: {}", made.status());
    let target = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let relay = Relay::start(&target).await;
    let url = format!(
        "s3://{bucket}/registry?endpoint=http://127.0.0.1:{}&allow_http=true&region=us-east-1\
         &access_key_id=test&secret_access_key=test",
        relay.port
    );
    let d = Deployment::new(None).await;
    let mut server = d.serve(d.data_dir(), &[("CCPOR_IMAGE_STORE", &url)]);
    scenario(
        &d,
        &server,
        "IMAGE_STORE_UNAVAILABLE",
        async || relay.stop(),
        async || relay.resume().await,
    )
    .await;
    assert!(server.terminate().success(), "graceful stop");
    let out = d
        .cmd(d.data_dir(), &["check"])
        .env("CCPOR_IMAGE_STORE", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "check: {}", super::text(&out));
}
