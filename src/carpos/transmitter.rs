//! The transmitter: a task in every server instance that leases due outbox rows, sends each to
//! CARPOS through the client, and records the answer (Fam. Code 6380(a)).
//!
//! - **Leases.** A row is taken by setting its lease (owner, until) in one statement; on
//!   PostgreSQL the candidates are locked `FOR UPDATE SKIP LOCKED`, so two instances never take
//!   the same row. SQLite serializes writers, so the same statement has a single writer there.
//! - **Order.** Only the first unacknowledged message of a chain is ever due, so one chain's
//!   messages go strictly in order, and a modify, clear or cancel always finds the entry's FCN.
//! - **No duplicates.** A row is marked `sent` (with an audit row) before it goes out; if the
//!   process dies before the answer, the lease runs out and another pass sends the same message
//!   with the same idempotency key, which the peer answers as before without applying it again.
//! - **Retries.** A transport failure is retried with capped exponential backoff and jitter; a
//!   rejection is final until a clerk fixes the data and asks for a retry.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::carpos_transmission as tx;
use futures_util::StreamExt;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    Statement,
};

use super::client::{self, SendError};
use super::facts;
use super::mapping::{self, Trigger};
use super::message::{Ack, Fcn, Field, FieldCode, IdempotencyKey, Message, MessageKey, strict_ori};
use super::outbox::TxState;
use super::outcome::{self, Answer};
use crate::audit::{AuditRecord, AuditWriter, Outcome};
use crate::domain::ids::{self, Kind};
use crate::error::{AppError, AppResult};

/// How often the queue gauges are refreshed (`status::publish`).
const GAUGES_EVERY: Duration = Duration::from_secs(2);

/// How the transmitter runs (`serve --carpos-addr`).
#[derive(Debug, Clone)]
pub struct Config {
    /// The CARPOS peer, `HOST:PORT`.
    pub addr: String,
    /// Longest wait for one answer.
    pub timeout: Duration,
    /// How long a leased row is this instance's; past it, another pass may send it again.
    pub lease: Duration,
    /// Pause when nothing is due.
    pub poll: Duration,
    /// Rows leased per pass (and sent at once: each is a different chain).
    pub batch: usize,
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
            batch: 32,
            backoff: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(300),
            purge_clets: true,
        }
    }
}

/// Starts the transmitter on `db` (the background jobs' pool); it runs until aborted.
pub fn spawn(
    db: DatabaseConnection,
    audit: AuditWriter,
    cache: crate::cache::Cache,
    cfg: Config,
) -> tokio::task::JoinHandle<()> {
    let owner = format!("tx-{}", uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        let mut gauges_at: Option<tokio::time::Instant> = None;
        loop {
            if gauges_at.is_none_or(|t| t.elapsed() >= GAUGES_EVERY) {
                gauges_at = Some(tokio::time::Instant::now());
                let now = Utc::now();
                match super::status::read(&db, now, 0).await {
                    Ok(s) => super::status::publish(&s, now),
                    Err(e) => tracing::warn!(error = %e, "reading the CARPOS queue for metrics"),
                }
            }
            match pass(&db, &audit, &cfg, &owner).await {
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
    })
}

/// Leases the due rows and sends them; returns how many were leased.
pub async fn pass(
    db: &DatabaseConnection,
    audit: &AuditWriter,
    cfg: &Config,
    owner: &str,
) -> AppResult<usize> {
    let ids = lease(db, owner, cfg.lease, cfg.batch).await?;
    let n = ids.len();
    futures_util::stream::iter(ids)
        .for_each_concurrent(cfg.batch, |id| async move {
            if let Err(e) = transmit(db, audit, cfg, owner, id).await {
                tracing::error!(error = %e, transmission = id, "CARPOS transmission failed");
                // The lease runs out and a later pass takes the row again.
            }
        })
        .await;
    Ok(n)
}

/// Takes up to `limit` due rows: queued, retrying, or sent with a lease that ran out (an
/// instance died waiting for the answer), each the first unacknowledged message of its chain.
async fn lease(
    db: &DatabaseConnection,
    owner: &str,
    lease: Duration,
    limit: usize,
) -> AppResult<Vec<i64>> {
    let backend = db.get_database_backend();
    let p = |n| crate::db::placeholder(backend, n);
    let lock = match backend {
        DatabaseBackend::Postgres => "FOR UPDATE OF t SKIP LOCKED",
        _ => "",
    };
    let (queued, retrying, sent, acked) = (
        TxState::Queued.as_db(),
        TxState::Retrying.as_db(),
        TxState::Sent.as_db(),
        TxState::Acknowledged.as_db(),
    );
    let sql = format!(
        "UPDATE carpos_transmission SET lease_owner = {p1}, lease_until = {p2}, updated_at = {p3} \
         WHERE id IN (SELECT t.id FROM carpos_transmission t \
           WHERE t.state IN ('{queued}', '{retrying}', '{sent}') AND t.next_attempt_at <= {p3} \
             AND (t.lease_until IS NULL OR t.lease_until < {p3}) \
             AND NOT EXISTS (SELECT 1 FROM carpos_transmission e \
               WHERE e.chain_root_id = t.chain_root_id AND e.seq < t.seq AND e.state <> '{acked}') \
           ORDER BY t.id LIMIT {limit} {lock}) \
         RETURNING id",
        p1 = p(1),
        p2 = p(2),
        p3 = p(3),
    );
    let now = Utc::now();
    let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(30));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [owner.into(), until.into(), now.into()],
        ))
        .await?;
    let mut ids = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

/// Builds, sends and records one leased message.
async fn transmit(
    db: &DatabaseConnection,
    audit: &AuditWriter,
    cfg: &Config,
    owner: &str,
    id: i64,
) -> AppResult<()> {
    let Some(row) = tx::Entity::find_by_id(id).one(db).await? else {
        return Ok(());
    };
    if row.lease_owner.as_deref() != Some(owner) {
        return Ok(());
    }
    let message = match build(db, &row).await? {
        Ok(m) => m,
        Err(Unsendable::Missing(missing)) => {
            return finish(db, &row, owner, Finish::Held(missing)).await;
        }
        Err(Unsendable::Invalid(e)) => {
            return finish(db, &row, owner, Finish::Rejected(e)).await;
        }
    };
    let order = ids::encode(Kind::Order, row.order_id);
    // The send is in the audit log before it happens: no record, no send (fail closed).
    let mut rec = AuditRecord::new("carpos.send", Outcome::Allowed);
    rec.operation = Some(message.key().code().to_owned());
    rec.object_ids = vec![order.clone()];
    rec.detail = Some(format!(
        "transmission {id}, seq {}, key {}, attempt {}",
        row.seq,
        row.idempotency_key,
        row.attempts + 1
    ));
    audit.append(rec).await?;
    let now = Utc::now();
    let marked = tx::Entity::update_many()
        .col_expr(tx::Column::State, Expr::value(TxState::Sent.as_db()))
        .col_expr(tx::Column::Attempts, attempts_plus_one())
        .col_expr(tx::Column::SentAt, Expr::value(now))
        .col_expr(tx::Column::UpdatedAt, Expr::value(now))
        .filter(tx::Column::Id.eq(id))
        .filter(tx::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    if marked.rows_affected != 1 {
        return Ok(());
    }
    let outcome = client::deliver(&cfg.addr, &message, cfg.timeout).await;
    let (event, result, detail) = match &outcome {
        Ok(ack) => ("carpos.ack", Outcome::Allowed, format!("FCN {}", ack.fcn)),
        Err(SendError::Rejected(r)) => ("carpos.reject", Outcome::Denied, r.to_string()),
        Err(SendError::Transient(e)) => ("carpos.retry", Outcome::Error, e.to_string()),
    };
    let mut rec = AuditRecord::new(event, result);
    rec.operation = Some(message.key().code().to_owned());
    rec.object_ids = vec![order];
    rec.detail = Some(format!("transmission {id}: {detail}"));
    audit.append(rec).await?;
    let purge = match &outcome {
        Ok(ack) if cfg.purge_clets && message.key().is_entry() => {
            outcome::announce_purge(db, audit, &row, ack.fcn.as_str()).await?
        }
        _ => Vec::new(),
    };
    let fin = match outcome {
        Ok(ack) => Finish::Acknowledged(ack, purge),
        Err(SendError::Rejected(r)) => Finish::Rejected(r.to_string()),
        Err(SendError::Transient(e)) => {
            Finish::Retry(e.to_string(), backoff(cfg, row.attempts + 1))
        }
    };
    finish(db, &row, owner, fin).await
}

/// Why a row cannot become a message.
enum Unsendable {
    /// An entry lacks mandatory data (it was complete when queued, and is no longer).
    Missing(Vec<String>),
    /// Our own data does not make a valid message (a court ORI of the wrong shape).
    Invalid(String),
}

/// The message a row stands for, from the order as it is now.
async fn build(db: &DatabaseConnection, row: &tx::Model) -> AppResult<Result<Message, Unsendable>> {
    let tables = mapping::tables().map_err(|e| internal(e.to_string()))?;
    let key = MessageKey::from_code(&row.message_key)
        .ok_or_else(|| internal(format!("unknown message key {}", row.message_key)))?;
    let all = facts::load(db, &[row.order_id]).await?;
    let f = all
        .get(&row.order_id)
        .ok_or_else(|| AppError::not_found(format!("order {}", row.order_id)))?;
    let fields = match (key, Trigger::parse(&row.trigger)) {
        (MessageKey::Enter | MessageKey::EnterTemporary, _) => {
            let (fields, missing) = facts::record_fields(f, tables);
            if !missing.is_empty() {
                return Ok(Err(Unsendable::Missing(missing)));
            }
            fields
        }
        (MessageKey::Supplemental, _) => {
            let p = f.protected.iter().find(|p| Some(p.id) == row.person_id);
            match p {
                Some(p) => facts::supplemental_fields(p, f.order.issued_at, tables),
                None => {
                    return Ok(Err(Unsendable::Invalid(
                        "the protected person is gone".into(),
                    )));
                }
            }
        }
        (MessageKey::Modify, Some(Trigger::Service)) => {
            let served = facts::latest_service(db, row.order_id).await?;
            let mis = served.map_or_else(
                || "PROOF OF SERVICE FILED".to_owned(),
                |s| {
                    format!(
                        "SERVED {} {}",
                        facts::ncic_date(s.served_at),
                        s.method.to_uppercase()
                    )
                },
            );
            vec![Field::new(FieldCode::Mis, mis)]
        }
        (MessageKey::Modify, _) => facts::record_fields(f, tables).0,
        (MessageKey::Clear, _) => vec![Field::new(FieldCode::Mis, "ORDER TERMINATED")],
        (MessageKey::Cancel, _) => vec![Field::new(FieldCode::Mis, "ENTERED IN ERROR")],
    };
    let fcn = if key.is_entry() {
        None
    } else {
        match chain_fcn(db, row.chain_root_id).await? {
            Some(f) => Some(f),
            None => return Ok(Err(Unsendable::Invalid("the entry has no FCN".into()))),
        }
    };
    let ori = match strict_ori(&f.court_ori) {
        Ok(o) => o,
        Err(e) => return Ok(Err(Unsendable::Invalid(e.to_string()))),
    };
    let idk = IdempotencyKey::new(&row.idempotency_key).map_err(|e| internal(e.to_string()))?;
    Ok(Message::new(key, ori, idk, fcn, fields).map_err(|e| Unsendable::Invalid(e.to_string())))
}

/// The FCN CARPOS gave the chain's record (every acknowledged row of the chain carries it).
async fn chain_fcn(db: &DatabaseConnection, chain: i32) -> AppResult<Option<Fcn>> {
    let row = tx::Entity::find()
        .filter(tx::Column::ChainRootId.eq(chain))
        .filter(tx::Column::Fcn.is_not_null())
        .one(db)
        .await?;
    row.and_then(|r| r.fcn)
        .map(|f| Fcn::parse(&f).map_err(|e| internal(e.to_string())))
        .transpose()
}

enum Finish {
    /// With the persons whose CLETS-001 data goes (announced in the audit log already).
    Acknowledged(Ack, Vec<i32>),
    Rejected(String),
    Retry(String, Duration),
    Held(Vec<String>),
}

/// Records the outcome and gives up the lease.
async fn finish(
    db: &DatabaseConnection,
    row: &tx::Model,
    owner: &str,
    fin: Finish,
) -> AppResult<()> {
    let now = Utc::now();
    let mut q = tx::Entity::update_many()
        .col_expr(tx::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            tx::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(tx::Column::UpdatedAt, Expr::value(now));
    let answer = match &fin {
        Finish::Acknowledged(ack, purge) => Some(Ok((ack.fcn.as_str().to_owned(), purge.clone()))),
        Finish::Rejected(e) => Some(Err(e.clone())),
        Finish::Retry(..) | Finish::Held(_) => None,
    };
    let state = match fin {
        Finish::Acknowledged(ack, _) => {
            q = q
                .col_expr(tx::Column::Fcn, Expr::value(ack.fcn.as_str()))
                .col_expr(tx::Column::AcknowledgedAt, Expr::value(now))
                .col_expr(tx::Column::Error, Expr::value(Option::<String>::None));
            TxState::Acknowledged
        }
        Finish::Rejected(e) => {
            q = q.col_expr(tx::Column::Error, Expr::value(e));
            TxState::Rejected
        }
        Finish::Retry(e, after) => {
            let at = now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::zero());
            q = q
                .col_expr(tx::Column::Error, Expr::value(e))
                .col_expr(tx::Column::NextAttemptAt, Expr::value(at));
            TxState::Retrying
        }
        Finish::Held(missing) => {
            q = q.col_expr(tx::Column::MissingFields, Expr::value(missing.join(",")));
            TxState::HeldIncomplete
        }
    };
    // The state and what the answer leaves behind (an order event) commit together; a row whose
    // lease another instance took meanwhile is left to that instance.
    let txn = crate::db::begin_write(db).await?;
    let done = q
        .col_expr(tx::Column::State, Expr::value(state.as_db()))
        .filter(tx::Column::Id.eq(row.id))
        .filter(tx::Column::LeaseOwner.eq(owner))
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 {
        match &answer {
            Some(Ok((fcn, purge))) => {
                outcome::record(&txn, row, Answer::Acknowledged(fcn), now).await?;
                outcome::purge(&txn, purge, now).await?;
                super::status::acknowledged(row, now);
            }
            Some(Err(why)) => outcome::record(&txn, row, Answer::Rejected(why), now).await?,
            None => {}
        }
    }
    txn.commit().await?;
    Ok(())
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

/// `attempts + 1`, in SQL (the trait that spells it also shadows `Ord::min` where imported).
fn attempts_plus_one() -> Expr {
    use sea_orm::sea_query::ExprTrait;
    Expr::col(tx::Column::Attempts).add(1)
}

fn internal(m: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

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
