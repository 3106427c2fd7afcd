//! The transmitter: a task in every server instance that leases due outbox rows, sends each to
//! CARPOS through the client, and records the answer (Fam. Code 6380(a)).
//!
//! - **Leases.** A row is taken by marking it `sent` and setting its lease (owner, until) in one
//!   statement; on PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so two
//!   instances never take the same row. SQLite serializes writers, so the same statement has a
//!   single writer there. A leased row that does not go out (held, or its data invalid) has its
//!   attempt taken back when its pass ends.
//! - **Order.** Only the first unacknowledged message of a chain is ever due, so one chain's
//!   messages go strictly in order, and a modify, clear or cancel always finds the entry's FCN.
//! - **No duplicates.** A row is marked `sent`, and its send is in the audit log, before it goes
//!   out; if the process dies before the answer, the lease runs out and another pass sends the
//!   same message with the same idempotency key, which the peer answers as before without
//!   applying it again.
//! - **Workers.** An instance runs `workers` passes side by side (each its own lease owner), so
//!   one pass's wait for the peer's answers overlaps another's reading and recording: the leases
//!   keep them apart as they keep instances apart.
//! - **One writer on SQLite.** Every write of a pass (lease, finish) takes its turn at
//!   the `db::WriteGate` it shares with the audit writer, never while awaiting the audit writer.
//! - **Retries.** A transport failure is retried with capped exponential backoff and jitter; a
//!   rejection is final until a clerk fixes the data and asks for a retry.
use std::time::Duration;

use chrono::Utc;
use entities::carpos_transmission as tx;
use rand::Rng;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, FromQueryResult, Statement};

use super::batch::{self, Finish, Unsendable};
use super::client::{self, SendError};
use super::message::Message;
use super::outbox::TxState;
use crate::audit::AuditWriter;
use crate::db::WriteGate;
use crate::error::AppResult;

/// How often the queue gauges are refreshed (`status::publish`).
const GAUGES_EVERY: Duration = Duration::from_secs(2);

/// Rows leased per pass and passes side by side on `backend`, unless `serve --carpos-batch` and
/// `--carpos-workers` say otherwise. On PostgreSQL larger passes spread each pass's round trips
/// and statements over more messages, and more of them keep both cores busy while some wait on
/// the peer (40,000 messages: 256 x 4 5,337-6,094 acknowledged/s, 1,024 x 6 7,336-8,042). On
/// SQLite 512 x 6 was within the noise of 256 x 4 (5,499-7,036 against 5,071-6,565), and a
/// pass's writes hold its one writer: it stays at 256 x 4 (BENCHMARKS.md, "CARPOS passes sized
/// by backend").
pub fn defaults(backend: DatabaseBackend) -> (usize, usize) {
    match backend {
        DatabaseBackend::Postgres => (1024, 6),
        _ => (256, 4),
    }
}

/// How the transmitter runs (`serve --carpos-addr`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The CARPOS peer, `HOST:PORT`.
    pub addr: String,
    /// The wait for the answer to a message sent alone; a pass of pipelined messages waits for
    /// all its answers this plus `client::PER_ANSWER` for each (`client::pass_deadline`), one
    /// deadline for the pass, not one for each answer.
    pub timeout: Duration,
    /// How long a leased row is this worker's after the answers' deadline of a full pass
    /// (`client::pass_deadline`); past it, another pass may send it again.
    pub lease: Duration,
    /// Pause when nothing is due.
    pub poll: Duration,
    /// Rows leased per pass (and sent at once, pipelined on one connection: each is a
    /// different chain); `None`: the backend's default (`defaults`).
    pub batch: Option<usize>,
    /// Passes run side by side in this instance; `None`: the backend's default.
    pub workers: Option<usize>,
    /// First retry delay, doubled per attempt up to `backoff_cap`.
    pub backoff: Duration,
    pub backoff_cap: Duration,
    /// Purge the CLETS-001 data once CARPOS acknowledged the entry that carried it (CRC
    /// 1.51(e)); on by default (`serve --carpos-keep-clets` turns it off).
    pub purge_clets: bool,
}

impl Config {
    pub fn new(addr: String) -> Config {
        Config {
            addr,
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(200),
            batch: None,
            workers: None,
            backoff: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(300),
            purge_clets: true,
        }
    }
}

/// Starts the transmitter on `db` (the background jobs' pool): `cfg.workers` passes side by
/// side, until the returned task is aborted (which ends them all).
pub fn spawn(
    db: DatabaseConnection,
    audit: AuditWriter,
    cache: crate::cache::Cache,
    gate: WriteGate,
    mut cfg: Config,
) -> tokio::task::JoinHandle<()> {
    let (batch, workers) = defaults(db.get_database_backend());
    let batch = *cfg.batch.get_or_insert(batch);
    let workers = cfg.workers.unwrap_or(workers).max(1);
    tracing::info!(batch, workers, "CARPOS transmitter started");
    tokio::spawn(async move {
        let mut workers_set = tokio::task::JoinSet::new();
        for n in 0..workers {
            workers_set.spawn(work(
                db.clone(),
                audit.clone(),
                cache.clone(),
                gate.clone(),
                cfg.clone(),
                n == 0,
            ));
        }
        while workers_set.join_next().await.is_some() {}
    })
}

/// One worker's loop: a pass, then at once another while there was work, or a pause.
async fn work(
    db: DatabaseConnection,
    audit: AuditWriter,
    cache: crate::cache::Cache,
    gate: WriteGate,
    cfg: Config,
    gauges: bool,
) {
    let owner = format!("tx-{}", uuid::Uuid::new_v4().simple());
    // The pass size `spawn` resolved, and how long a pass holds its rows: the answers' deadline
    // of a full pass and a lease more, so no other worker or instance sends them again while
    // their answers may still come. The same for every pass of this worker.
    let limit = cfg
        .batch
        .unwrap_or_else(|| defaults(db.get_database_backend()).0);
    let hold = client::pass_deadline(cfg.timeout, limit) + cfg.lease;
    let mut gauges_at: Option<tokio::time::Instant> = None;
    loop {
        if gauges && gauges_at.is_none_or(|t| t.elapsed() >= GAUGES_EVERY) {
            gauges_at = Some(tokio::time::Instant::now());
            let now = Utc::now();
            match super::status::read(&db, now, 0, super::status::Scope::Unfinished).await {
                Ok(s) => super::status::publish(&s, now),
                Err(e) => tracing::warn!(error = %e, "reading the CARPOS queue for metrics"),
            }
        }
        match pass(&db, &audit, &gate, &cfg, &owner, (limit, hold)).await {
            Ok(0) => tokio::time::sleep(cfg.poll).await,
            // Transmissions, their order events and purged CLETS-001 data are part of the
            // orders' answers.
            Ok(_) => cache.invalidate().await,
            Err(e) => {
                tracing::error!(error = %e, "CARPOS transmitter pass failed; retrying");
                tokio::time::sleep(cfg.poll).await;
            }
        }
    }
}

/// Leases up to `limit` due rows for `hold` and sends them; returns how many were leased.
async fn pass(
    db: &DatabaseConnection,
    audit: &AuditWriter,
    gate: &WriteGate,
    cfg: &Config,
    owner: &str,
    (limit, hold): (usize, Duration),
) -> AppResult<usize> {
    let mut clock = Stages::start();
    let leased_at = std::time::Instant::now();
    let rows = {
        let _turn = gate.enter("carpos_lease").await;
        lease(db, owner, hold, limit).await?
    };
    let leased = rows.len();
    if leased > 0 {
        clock.lap("lease");
        let taken = Taken {
            owner,
            rows,
            until: leased_at + hold,
        };
        transmit(db, audit, gate, cfg, taken, &mut clock).await?;
        crate::metrics::carpos_stages(&clock.laps);
    }
    Ok(leased)
}

/// Builds, sends and records the leased messages (each of a different chain), as a batch: their
/// data loaded together, their sends audited together before any goes out, all pipelined on one
/// connection, their answers (and the purges they make) audited together, and recorded in one
/// transaction. An error leaves the rows to a later pass once their leases run out (a message
/// sent again goes with its key, which the peer answers as before).
async fn transmit(
    db: &DatabaseConnection,
    audit: &AuditWriter,
    gate: &WriteGate,
    cfg: &Config,
    taken: Taken<'_>,
    clock: &mut Stages,
) -> AppResult<()> {
    let Taken { owner, rows, until } = taken;
    let built = batch::build_all(db, &rows).await?;
    let mut fins = Vec::new();
    let mut ready = Vec::new();
    for (row, b) in rows.iter().zip(built.messages) {
        match b {
            Ok(m) => ready.push((row, m)),
            Err(Unsendable::Missing(missing)) => fins.push((row, Finish::Held(missing))),
            Err(Unsendable::Invalid(e)) => fins.push((row, Finish::Invalid(e))),
        }
    }
    clock.lap("build");
    // The sends are in the audit log before they happen: no record, no send (fail closed). A
    // failure sends nothing; the rows, marked sent by their lease, go out when it has run out.
    let within = client::pass_deadline(cfg.timeout, ready.len());
    let records = ready
        .iter()
        .map(|(r, m)| batch::send_record(r, m))
        .collect();
    audit.append_all(records).await?;
    // Nobody takes a leased row before its lease has run out; a pass that stalled so long that
    // its answers could come after that sends nothing (the rows go out again once it has).
    if std::time::Instant::now() + within >= until {
        tracing::warn!(
            rows = ready.len(),
            "CARPOS pass stalled past its lease; not sent"
        );
        return Ok(());
    }
    let (sent, messages): (Vec<&tx::Model>, Vec<Message>) = ready.into_iter().unzip();
    clock.lap("audit_send");
    let outcomes = client::deliver_all(&cfg.addr, &messages, within).await;
    clock.lap("deliver");
    let mut records: Vec<_> = sent
        .iter()
        .zip(&messages)
        .zip(&outcomes)
        .map(|((r, m), o)| batch::answer_record(r, m, o))
        .collect();
    let entries: Vec<(&tx::Model, &str)> = sent
        .iter()
        .zip(&messages)
        .zip(&outcomes)
        .filter_map(|((r, m), o)| match o {
            Ok(ack) if cfg.purge_clets && m.key().is_entry() => Some((*r, ack.fcn.as_str())),
            _ => None,
        })
        .collect();
    let (mut purges, purge_records) = batch::purges(&built.orders, &entries);
    records.extend(purge_records);
    audit.append_all(records).await?;
    clock.lap("audit_answer");
    for (row, outcome) in sent.into_iter().zip(outcomes) {
        let fin = match outcome {
            Ok(ack) => Finish::Acknowledged(ack, purges.remove(&row.id).unwrap_or_default()),
            Err(SendError::Rejected(r)) => Finish::Rejected(r.to_string()),
            Err(SendError::Transient(e)) => {
                Finish::Retry(e.to_string(), backoff(cfg, row.attempts))
            }
        };
        fins.push((row, fin));
    }
    {
        let _turn = gate.enter("carpos_finish").await;
        batch::finish_all(db, owner, fins, &built.orders).await?;
    }
    clock.lap("finish");
    Ok(())
}

/// A pass's leased rows, its lease owner, and when its lease runs out (by this process's clock).
struct Taken<'a> {
    owner: &'a str,
    rows: Vec<tx::Model>,
    until: std::time::Instant,
}

/// The time of each stage of a pass, for `metrics::carpos_stages`.
struct Stages {
    at: std::time::Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Stages {
    fn start() -> Stages {
        Stages {
            at: std::time::Instant::now(),
            laps: Vec::with_capacity(9),
        }
    }

    /// Ends the stage `name` now and starts the next.
    fn lap(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((name, now - self.at));
        self.at = now;
    }
}

/// Takes up to `limit` due rows: queued, retrying, or sent with a lease that ran out (an
/// instance died waiting for the answer), each the first unacknowledged message of its chain.
/// Returns them as leased for `hold` and marked sent, one attempt more, by id.
async fn lease(
    db: &DatabaseConnection,
    owner: &str,
    hold: Duration,
    limit: usize,
) -> AppResult<Vec<tx::Model>> {
    let backend = db.get_database_backend();
    let sql = lease_sql(backend, limit);
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(hold).unwrap_or(chrono::Duration::seconds(60));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [owner.into(), until.into(), now.into()],
        ))
        .await?;
    let mut leased = rows
        .iter()
        .map(|r| tx::Model::from_query_result(r, ""))
        .collect::<Result<Vec<_>, _>>()?;
    leased.sort_unstable_by_key(|r| r.id);
    Ok(leased)
}

/// The lease's statement: `$1` owner, `$2` lease end, `$3` now. One write a row, not two: the
/// lease marks its rows sent (SQLite's one writer was busy 93 % of a drain, and this write was
/// an eighth of its time). The candidates are read through
/// the index of unfinished rows (migration `m20261206_000017_carpos_due_index`, whose `WHERE`
/// this condition must repeat word for word), oldest first.
fn lease_sql(backend: DatabaseBackend, limit: usize) -> String {
    let p = |n| crate::db::placeholder(backend, n);
    // SQLite, given the time as a parameter, preferred the (state, next_attempt_at) index and
    // sorted every due row by id, a whole bulk load's queue on every pass: it is told which
    // index to read. PostgreSQL plans from its statistics.
    let (lock, indexed) = match backend {
        DatabaseBackend::Postgres => ("FOR UPDATE OF t SKIP LOCKED", ""),
        _ => ("", "INDEXED BY idx_carpos_transmission_due"),
    };
    let (queued, retrying, sent, acked) = (
        TxState::Queued.as_db(),
        TxState::Retrying.as_db(),
        TxState::Sent.as_db(),
        TxState::Acknowledged.as_db(),
    );
    format!(
        "UPDATE carpos_transmission SET state = '{sent}', attempts = attempts + 1, sent_at = {p3}, \
           lease_owner = {p1}, lease_until = {p2}, updated_at = {p3} \
         WHERE id IN (SELECT t.id FROM carpos_transmission t {indexed} \
           WHERE t.state IN ('{queued}', '{retrying}', '{sent}') AND t.next_attempt_at <= {p3} \
             AND (t.lease_until IS NULL OR t.lease_until < {p3}) \
             AND NOT EXISTS (SELECT 1 FROM carpos_transmission e \
               WHERE e.chain_root_id = t.chain_root_id AND e.seq < t.seq AND e.state <> '{acked}') \
           ORDER BY t.id LIMIT {limit} {lock}) \
         RETURNING *",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
    )
}

/// The wait before attempt `attempt + 1`: `backoff · 2^(attempt-1)`, capped, then a random
/// point in its upper half, so instances that failed together do not retry together.
pub fn backoff(cfg: &Config, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let full = cfg.backoff.saturating_mul(1 << exp).min(cfg.backoff_cap);
    let half = full / 2;
    half + full.mul_f64(rand::rng().random_range(0.0..0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lease reads its candidates through the index of unfinished rows in id order, as many
    /// as it takes: SQLite's own choice was to read every due row and sort them, a whole bulk
    /// load's queue on every pass.
    #[tokio::test]
    async fn the_lease_reads_only_unfinished_rows() {
        use migrations::{Migrator, MigratorTrait};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let (db, _) = crate::db::connect(&url).await.unwrap();
        Migrator::up(&db, None).await.unwrap();
        let sql = format!(
            "EXPLAIN QUERY PLAN {}",
            lease_sql(DatabaseBackend::Sqlite, 512)
        );
        let at = "2030-01-01T00:00:00Z";
        let plan = db
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Sqlite,
                sql,
                ["o".into(), at.into(), at.into()],
            ))
            .await
            .unwrap();
        let steps: Vec<String> = plan
            .iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect();
        assert!(
            steps
                .iter()
                .any(|d| d == "SCAN t USING INDEX idx_carpos_transmission_due"),
            "{steps:#?}"
        );
        assert!(
            !steps.iter().any(|d| d.contains("TEMP B-TREE")),
            "{steps:#?}"
        );
    }

    #[test]
    fn backoff_doubles_within_its_cap_with_jitter() {
        let cfg = Config::new("x".into());
        for attempt in 1..30 {
            let d = backoff(&cfg, attempt);
            let exp = cfg
                .backoff
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(cfg.backoff_cap);
            assert!(d >= exp / 2 && d <= exp, "{attempt}: {d:?} vs {exp:?}");
        }
        assert!(backoff(&cfg, 40) <= cfg.backoff_cap);
    }
}
