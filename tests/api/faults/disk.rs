//! The embedded database's disk full: a SQLite database on a small tmpfs, filled up while the
//! server runs. Writes are refused with `STORAGE_FULL` and nothing of them is stored; reads go on
//! (their audit rows use the reserve the server keeps, `ccpor::space`); when space returns, writes
//! are taken again without a restart; `ccpor check` passes.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Deployment, post, ready, scalar};
use crate::helpers::{CREATE, dv_tro};

/// A tmpfs of `mib` MiB at `at`, unmounted when dropped (`mount` needs root: `sudo -n` otherwise).
pub(super) struct Tmpfs(PathBuf);

fn as_root(args: &[&str]) -> std::process::Output {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if root {
        Command::new(args[0])
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", args[0]]);
        c
    };
    c.args(&args[1..]).output().unwrap()
}

impl Tmpfs {
    pub(super) fn mount(at: &Path, mib: u32) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let out = as_root(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &format!("size={mib}m,mode=0700"),
            "tmpfs",
            at.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "mounting a tmpfs (needs root or sudo): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = as_root(&["umount", "-l", self.0.to_str().unwrap()]);
    }
}

/// Fills the filesystem of `dir` with a ballast file until no byte is left.
pub(super) fn fill_up(ballast: &Path) {
    let mut f = std::fs::File::create(ballast).unwrap();
    let block = vec![7u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let small = [7u8; 512];
    while f.write_all(&small).is_ok() {}
    let _ = f.sync_all();
}

pub(super) fn code(body: &Value) -> Option<&str> {
    body.get("errors")
        .map(|e| e[0]["extensions"]["code"].as_str().unwrap_or("?"))
}

#[tokio::test]
async fn sqlite_disk_full_refuses_writes_keeps_reads_and_recovers() {
    let mut d = Deployment::new(None).await;
    let disk = d.data_dir().join("disk");
    let _mount = Tmpfs::mount(&disk, 64);
    d.database_url = format!("sqlite://{}?mode=rwc", disk.join("ccpor.db").display());
    let server = d.serve(d.data_dir(), &[]);
    ready(&server.base, Duration::from_secs(30)).await;
    let client = reqwest::Client::new();
    let (clerk, officer) = (d.clerk(), d.bench_officer());
    let create = async |n: u32| {
        post(
            &client,
            &server.base,
            &clerk,
            CREATE,
            json!({ "i": dv_tro(&format!("26FL4{n:05}"), 2) }),
        )
        .await
        .unwrap()
    };
    let read = async |id: &str| {
        post(
            &client,
            &server.base,
            &officer,
            "query($id: ID!) { order(id: $id) { caseNumber } }",
            json!({ "id": id }),
        )
        .await
        .unwrap()
    };
    let first = create(0).await;
    let order = first["data"]["createOrder"]["order"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let ballast = disk.join("ballast");
    fill_up(&ballast);
    // Writes go on into the room SQLite still has, then are refused; never anything but that.
    let mut acked = vec!["26FL400000".to_owned()];
    let mut n = 0;
    let refused = loop {
        n += 1;
        assert!(n < 2000, "no write refused on a full disk");
        let body = create(n).await;
        match code(&body) {
            None => acked.push(format!("26FL4{n:05}")),
            Some(c) => break (n, c.to_owned(), body),
        };
    };
    assert_eq!(
        refused.1, "STORAGE_FULL",
        "the first refused write (#{}): {:#}",
        refused.0, refused.2
    );
    println!(
        "{} writes taken after the disk filled, then refused",
        acked.len() - 1
    );
    // From now on writes are refused at once, reads are answered (and audited).
    for i in 1..=5 {
        let started = Instant::now();
        let body = create(refused.0 + i).await;
        assert_eq!(code(&body), Some("STORAGE_FULL"), "{body:#}");
        // At once, not after a timeout (requests end at 30 s); generous for a loaded machine.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a write refused after {:?}",
            started.elapsed()
        );
    }
    // Every read is answered from the first refusal on: an audit row that finds no room frees
    // the reserve itself, without waiting for the watcher's tick.
    for _ in 0..50 {
        let body = read(&order).await;
        assert!(
            body.get("errors").is_none(),
            "a read on a full disk: {body:#}"
        );
        assert_eq!(body["data"]["order"]["caseNumber"], "26FL400000");
    }

    // Space returns: writes are taken again within seconds, without a restart.
    std::fs::remove_file(&ballast).unwrap();
    let started = Instant::now();
    let mut m = 100;
    loop {
        m += 1;
        let body = create(m).await;
        if code(&body).is_none() {
            acked.push(format!("26FL4{m:05}"));
            break;
        }
        assert_eq!(code(&body), Some("STORAGE_FULL"), "{body:#}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "writes still refused: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "writes taken again {:?} after space returned",
        started.elapsed()
    );

    // Every acknowledged write is there once, nothing of a refused one; all consistent.
    let db = d.db().await;
    let stored = scalar(&db, "SELECT COUNT(*) FROM protective_order").await;
    if stored != acked.len() as i64 {
        let cases = sea_orm::ConnectionTrait::query_all_raw(
            &db,
            sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT case_number FROM protective_order ORDER BY id",
            ),
        )
        .await
        .unwrap();
        let cases: Vec<String> = cases
            .iter()
            .map(|r| r.try_get::<String>("", "case_number").unwrap())
            .collect();
        panic!("stored orders {cases:?}, acknowledged {acked:?}: exactly these should be stored");
    }
    db.close().await.ok();
    let mut server = server;
    assert!(server.terminate().success(), "graceful stop");
    let (code, out) = d.check(d.data_dir());
    assert_eq!(code, 0, "check: {out}");
}
