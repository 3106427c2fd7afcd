//! Three `ccpor serve` instances on one PostgreSQL and one Redis behind HAProxy, configured by
//! `deploy/haproxy.cfg` (rendered with the test's ports). Under a mixed load of persisted-query
//! GETs (by hash, retryable) and `createOrder` POSTs through the balancer:
//! - one instance is killed with SIGKILL: no GET fails at the balancer; every write is either
//!   acknowledged and stored once, refused by a server and not stored, or (only a write in flight
//!   on the killed instance, answered 502 by the balancer) stored at most once and whole;
//! - a fresh instance with an empty index directory, on the killed one's port, reports not ready
//!   (`/readyz` 503 "search index catching up") until its index has caught up, then ready;
//! - another instance gets SIGTERM while a request is half sent to it: it answers that request,
//!   then exits 0, and the load goes on through the others.
//!
//! Runs on PostgreSQL (`CCPOR_TEST_POSTGRES_URL`, the suite's PostgreSQL pass); HAProxy must be
//! installed (`scripts/test.sh` installs Debian's): missing, the test fails.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Deployment, Server, ready, scalar, signal};
use crate::helpers::{CREATE, dv_tro};

const GETTERS: usize = 4;
const WRITERS: usize = 2;
/// Orders imported first: the outbox a fresh instance's index has to catch up on.
const SEEDED: usize = 3000;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `deploy/haproxy.cfg` with the front end on `front` and the servers on `backs`.
fn render_config(front: u16, backs: [u16; 3]) -> String {
    let shipped = include_str!("../../../deploy/haproxy.cfg");
    let mut servers = backs.iter();
    shipped
        .lines()
        .map(|l| {
            if !l.ends_with("# port") {
                l.to_owned()
            } else if l.trim_start().starts_with("bind ") {
                l.replace("127.0.0.1:8080", &format!("127.0.0.1:{front}"))
            } else {
                let port = servers.next().expect("three servers in the config");
                let at = l.find("127.0.0.1:").expect("a server address");
                format!("{}127.0.0.1:{port}{}", &l[..at], &l[at + 14..])
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// HAProxy in the foreground; killed when dropped.
struct Haproxy(Child);

impl Haproxy {
    fn start(config: &Path) -> Haproxy {
        let check = Command::new("haproxy")
            .arg("-c")
            .arg("-f")
            .arg(config)
            .output();
        let check = check.unwrap_or_else(|e| {
            panic!("haproxy is not installed ({e}): apt-get install haproxy (scripts/test.sh does)")
        });
        assert!(
            check.status.success(),
            "haproxy rejects {}: {}",
            config.display(),
            super::text(&check)
        );
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Haproxy(child)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve_on(d: &Deployment, dir: &Path, port: u16) -> Server {
    let mut c = d.cmd(dir, &["serve", "--addr", &format!("127.0.0.1:{port}")]);
    if std::env::var("REDIS_URL").is_err() {
        c.env("REDIS_URL", "redis://127.0.0.1:6379");
    }
    Server::start(c)
}

/// Synthetic orders for the seed import, one case number each.
fn write_seed(path: &Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..SEEDED {
        writeln!(f, "{}", dv_tro(&format!("26FL6{i:05}"), 2)).unwrap();
    }
    f.flush().unwrap();
}

/// The trusted document's id (`ccpor schema operations`).
fn trusted_hash(d: &Deployment, name: &str) -> String {
    let out = d
        .cmd(d.data_dir(), &["schema", "operations"])
        .output()
        .unwrap();
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    manifest["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no trusted document {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// What the writers saw, by case number.
#[derive(Default)]
struct Writes {
    acked: Vec<String>,
    refused: Vec<(String, String)>,
    in_doubt: Vec<(String, String)>,
}

#[derive(Default)]
struct Gets {
    ok: u64,
    failed: Vec<String>,
}

async fn get_lookup(
    client: &reqwest::Client,
    lb: &str,
    token: &str,
    hash: &str,
) -> Result<(), String> {
    let variables = json!({ "caseNumber": "26FL600007" }).to_string();
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let r = client
        .get(format!("{lb}/graphql"))
        .query(&[("variables", variables), ("extensions", extensions)])
        .bearer_auth(token)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| format!("HTTP {status}: {e}"))?;
    match body["data"]["ordersByCaseNumber"][0]["status"].as_str() {
        Some(_) if status == 200 => Ok(()),
        _ => Err(format!("HTTP {status}: {body}")),
    }
}

async fn write_once(
    client: &reqwest::Client,
    lb: &str,
    token: &str,
    case: &str,
    w: &Mutex<Writes>,
) {
    let sent = client
        .post(format!("{lb}/graphql"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(30))
        .json(&json!({ "query": CREATE, "variables": { "i": dv_tro(case, 2) } }))
        .send()
        .await;
    let case = case.to_owned();
    let (status, body) = match sent {
        Ok(r) => (r.status(), r.json::<Value>().await.ok()),
        Err(e) => {
            w.lock()
                .unwrap()
                .in_doubt
                .push((case, format!("no answer: {e}")));
            return;
        }
    };
    let mut w = w.lock().unwrap();
    match body {
        Some(b) if b["data"]["createOrder"]["order"]["caseNumber"] == case.as_str() => {
            w.acked.push(case)
        }
        // An answer of a server: its stable code.
        Some(b) if b["errors"][0]["extensions"]["code"].is_string() => {
            let code = b["errors"][0]["extensions"]["code"].as_str().unwrap_or("?");
            w.refused.push((case, code.to_owned()))
        }
        // The balancer's own 502/503/504 page: the server died with the write in flight.
        _ => w.in_doubt.push((case, format!("HTTP {status}"))),
    }
}

/// A GraphQL POST sent to `port` in two halves around `between` (SIGTERM), then its answer.
async fn half_sent_request(port: u16, token: &str, case: &str, between: impl FnOnce()) -> String {
    let body = json!({ "query": CREATE, "variables": { "i": dv_tro(case, 2) } }).to_string();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         authorization: Bearer {token}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(first).await.unwrap();
    s.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    between();
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.write_all(rest).await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_behind_haproxy_survive_sigkill_join_when_ready_and_drain_on_sigterm() {
    let Ok(pg) = std::env::var("CCPOR_TEST_POSTGRES_URL") else {
        println!(
            "SKIPPED on SQLite: three instances share one PostgreSQL (the PostgreSQL pass runs it)"
        );
        return;
    };
    let d = Deployment::new(Some(&pg)).await;
    let seed = d.data_dir().join("seed.jsonl");
    write_seed(&seed);
    let dir_of = |name: &str| -> PathBuf { d.data_dir().join(name) };
    let out = d
        .cmd(
            &dir_of("import"),
            &["import", seed.to_str().unwrap(), "--batch-size", "500"],
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "seed import: {}", super::text(&out));

    let ports = [free_port(), free_port(), free_port()];
    let mut servers: Vec<Server> = ["a", "b", "c"]
        .iter()
        .zip(ports)
        .map(|(n, p)| serve_on(&d, &dir_of(n), p))
        .collect();
    for s in &servers {
        ready(&s.base, Duration::from_secs(60)).await;
    }
    let front = free_port();
    let config = d.data_dir().join("haproxy.cfg");
    std::fs::write(&config, render_config(front, ports)).unwrap();
    let _haproxy = Haproxy::start(&config);
    let lb = format!("http://127.0.0.1:{front}");
    let hash = trusted_hash(&d, "LeaCaseLookup");
    let (clerk, officer) = (d.clerk(), d.bench_officer());
    // A connection per request: a client's own race with the balancer closing an idle kept-alive
    // connection is no failure of the balancer or the servers.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let started = Instant::now();
    while get_lookup(&client, &lb, &officer, &hash).await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the balancer does not answer"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let stop = Arc::new(AtomicBool::new(false));
    let gets = Arc::new(Mutex::new(Gets::default()));
    let writes = Arc::new(Mutex::new(Writes::default()));
    let mut load = Vec::new();
    for _ in 0..GETTERS {
        let (client, lb, token, hash, stop, gets) = (
            client.clone(),
            lb.clone(),
            officer.clone(),
            hash.clone(),
            stop.clone(),
            gets.clone(),
        );
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = get_lookup(&client, &lb, &token, &hash).await;
                let mut g = gets.lock().unwrap();
                match r {
                    Ok(()) => g.ok += 1,
                    Err(e) => g.failed.push(e),
                }
            }
        }));
    }
    for w in 0..WRITERS {
        let (client, lb, token, stop, writes) = (
            client.clone(),
            lb.clone(),
            clerk.clone(),
            stop.clone(),
            writes.clone(),
        );
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                write_once(&client, &lb, &token, &format!("26FL7{w}{n:04}"), &writes).await;
            }
        }));
    }

    // SIGKILL one instance under load.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    servers[0].kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // A fresh instance with an empty index directory on the killed one's port: not ready until
    // its index has caught up with the outbox (thousands of rows), then ready and in the pool.
    let fresh = serve_on(&d, &dir_of("fresh"), ports[0]);
    let mut seen = Vec::new();
    let started = Instant::now();
    loop {
        let r = client
            .get(format!("{}/readyz", fresh.base))
            .send()
            .await
            .unwrap();
        let answer = (r.status().as_u16(), r.text().await.unwrap());
        if seen.last() != Some(&answer) {
            seen.push(answer.clone());
        }
        if answer.0 == 200 {
            break;
        }
        assert_eq!(answer, (503, "search index catching up".to_owned()));
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never ready: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        seen,
        vec![
            (503, "search index catching up".to_owned()),
            (200, "ready".to_owned())
        ],
        "readiness of the fresh instance"
    );
    println!("fresh instance ready after {:?}", started.elapsed());
    servers[0] = fresh;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // SIGTERM another while a request to it is half sent: it answers that request, then exits 0.
    let child = &servers[1].child;
    let answer = half_sent_request(ports[1], &clerk, "26FL790000", || signal(child, "TERM")).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the request in flight at SIGTERM: {answer}"
    );
    assert!(answer.contains("26FL790000"), "{answer}");
    let status = servers[1].child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let gets = std::mem::take(&mut *gets.lock().unwrap());
    let writes = std::mem::take(&mut *writes.lock().unwrap());
    println!(
        "GETs: {} ok, {} failed; writes: {} acknowledged, {} refused, {} in doubt {:?}",
        gets.ok,
        gets.failed.len(),
        writes.acked.len(),
        writes.refused.len(),
        writes.in_doubt.len(),
        writes.in_doubt
    );
    assert!(
        gets.failed.is_empty(),
        "GETs failed at the balancer: {:?}",
        gets.failed
    );
    assert!(gets.ok > 50, "too little load: {} GETs", gets.ok);
    assert!(
        writes.acked.len() > 10,
        "too few writes: {}",
        writes.acked.len()
    );
    // Only a write in flight on the killed instance can be in doubt: one per writer at most.
    assert!(writes.in_doubt.len() <= WRITERS, "{:?}", writes.in_doubt);

    let db = d.db().await;
    let count = async |case: &str| {
        scalar(
            &db,
            &format!("SELECT COUNT(*) FROM protective_order WHERE case_number = '{case}'"),
        )
        .await
    };
    for case in &writes.acked {
        assert_eq!(count(case).await, 1, "acknowledged write {case}");
    }
    for (case, code) in &writes.refused {
        assert_eq!(count(case).await, 0, "write {case} refused with {code}");
    }
    for (case, why) in &writes.in_doubt {
        let stored = count(case).await;
        println!("write {case} in doubt ({why}): stored {stored} time(s)");
        assert!(stored <= 1, "write {case} in doubt ({why})");
    }
    assert_eq!(
        count("26FL790000").await,
        1,
        "the write answered while draining"
    );
    db.close().await.ok();

    for s in servers.iter_mut() {
        if s.child.try_wait().unwrap().is_none() {
            assert!(s.terminate().success());
        }
    }
    let (code, out) = d.check(&dir_of("c"));
    assert_eq!(code, 0, "check: {out}");
}
