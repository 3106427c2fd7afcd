//! Faults with real processes: `ccpor serve` killed with SIGKILL mid-write, `ccpor reindex` killed
//! mid-rebuild, the database taken away under load, the database's disk or the image store full
//! or unreachable. Each test starts its own servers (the real binary) on a database of its own
//! and checks afterwards with `ccpor check`.
mod balancer;
mod burst;
mod cluster;
mod database;
mod disk;
mod reindex;
mod store;
mod upload;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ccpor::auth::Role;
use ccpor::auth::keys::KeyFile;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::cli::ccpor;
use crate::helpers::mint_with;

/// The seed of a test's random kill points: `CCPOR_CRASH_SEED` repeats a run; printed always.
pub fn seeded_rng() -> (u64, ChaCha8Rng) {
    let seed: u64 = std::env::var("CCPOR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    println!("CCPOR_CRASH_SEED={seed}");
    (seed, ChaCha8Rng::seed_from_u64(seed))
}

/// A data dir with a signing key, and a database: a SQLite file in the dir, or a new database
/// on `pg_base` (a PostgreSQL URL ending in `/dbname`).
pub struct Deployment {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub keys: KeyFile,
}

impl Deployment {
    pub async fn new(pg_base: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match pg_base {
            None => format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("ccpor.db").display()
            ),
            Some(base) => {
                let name = format!("ccpor_test_{}", uuid::Uuid::new_v4().simple());
                let (admin, _) = ccpor::db::connect(base).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
                format!("{}/{name}", base.rsplit_once('/').unwrap().0)
            }
        };
        let mut keys = KeyFile::default();
        keys.rotate(chrono::Utc::now(), chrono::Utc::now());
        keys.save(&dir.path().join("keys.json")).unwrap();
        Deployment {
            dir,
            database_url,
            keys,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A token of a clerk of SC19 (the court of `dv_tro`).
    pub fn clerk(&self) -> String {
        mint_with(&self.keys, Role::Clerk, Some("SC19"), None, "clerk-faults")
    }

    pub fn bench_officer(&self) -> String {
        mint_with(
            &self.keys,
            Role::BenchOfficer,
            Some("SC19"),
            None,
            "bench-faults",
        )
    }

    /// A CLI command on this deployment (`data_dir` may differ: another instance's).
    pub fn cmd(&self, data_dir: &Path, args: &[&str]) -> Command {
        let mut c = ccpor();
        c.args(args)
            .env("CCPOR_DATA_DIR", data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("CCPOR_KEY_FILE", self.data_dir().join("keys.json"))
            .env_remove("CCPOR_IMAGE_STORE");
        c
    }

    /// `ccpor serve` on this deployment with `data_dir` (its own search index and images).
    pub fn serve(&self, data_dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut c = self.cmd(data_dir, &["serve", "--addr", "127.0.0.1:0"]);
        for (k, v) in env {
            c.env(k, v);
        }
        Server::start(c)
    }

    /// `ccpor check` on this deployment: exit code and output.
    pub fn check(&self, data_dir: &Path) -> (i32, String) {
        let out = self.cmd(data_dir, &["check"]).output().unwrap();
        (out.status.code().unwrap_or(-1), text(&out))
    }

    pub async fn db(&self) -> DatabaseConnection {
        ccpor::db::connect(&self.database_url).await.unwrap().0
    }
}

/// A running `ccpor serve`; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    /// `http://127.0.0.1:port`
    pub base: String,
}

impl Server {
    /// Starts the command and waits for the URL it prints.
    pub fn start(mut c: Command) -> Server {
        // `CCPOR_FAULTS_LOG=file` keeps the servers' logs there, to see what a failure was.
        let stderr = match std::env::var("CCPOR_FAULTS_LOG") {
            Ok(f) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(f)
                    .unwrap(),
            ),
            Err(_) => Stdio::null(),
        };
        let mut child = c.stdout(Stdio::piped()).stderr(stderr).spawn().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("graphql:")
                    .map(|u| u.trim().trim_end_matches("/graphql").to_owned())
            })
            .unwrap_or_else(|| panic!("serve ended before printing its URL: {:?}", child.wait()));
        // Keep reading stdout, so a server that prints more never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, base }
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        signal(&self.child, "TERM");
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(child: &Child, sig: &str) {
    assert!(
        Command::new("kill")
            .args([&format!("-{sig}"), &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// One GraphQL POST; `Err` when no HTTP answer came (connection refused or reset).
pub async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value, reqwest::Error> {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(30))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await?
        .json()
        .await
}

/// Waits until `/readyz` answers 200 (at most `limit`).
pub async fn ready(base: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/readyz")).await
            && r.status() == 200
        {
            return;
        }
        assert!(started.elapsed() < limit, "{base} not ready in {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the server's search index has applied the whole outbox (`/metrics` reports a lag
/// of 0 rows).
pub async fn index_caught_up(base: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        let lag = match reqwest::get(format!("{base}/metrics")).await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if lag
            .lines()
            .any(|l| l.trim() == "ccpor_search_index_lag_rows 0")
        {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "{base}: the index did not catch up in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
