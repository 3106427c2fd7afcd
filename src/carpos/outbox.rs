//! Queues the messages CARPOS must receive, inside the transaction that records the lifecycle
//! event (Fam. Code 6380(a)): the event either commits with its transmission rows or not at all.
//! Which messages an event makes is the mapping table's (`mapping`); an entry lacking the POF's
//! mandatory data is held (`held_incomplete`) with the list of what is missing, and a later
//! change of the chain re-checks it and releases it once complete.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entities::carpos_transmission as tx;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QuerySelect, Set, Statement,
};

use super::facts::{self, Facts};
use super::mapping::{self, Trigger};
use super::message::IdempotencyKey;
use crate::domain::court_days::end_of_next_court_day;
use crate::error::{AppError, AppResult};
use crate::service::orders::insert_chunked;

/// Where a transmission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum)]
#[graphql(name = "TransmissionState")]
pub enum TxState {
    Queued,
    HeldIncomplete,
    Sent,
    Acknowledged,
    Rejected,
    Retrying,
}

impl TxState {
    pub const ALL: [TxState; 6] = [
        TxState::Queued,
        TxState::HeldIncomplete,
        TxState::Sent,
        TxState::Acknowledged,
        TxState::Rejected,
        TxState::Retrying,
    ];

    pub fn as_db(self) -> &'static str {
        match self {
            TxState::Queued => "queued",
            TxState::HeldIncomplete => "held_incomplete",
            TxState::Sent => "sent",
            TxState::Acknowledged => "acknowledged",
            TxState::Rejected => "rejected",
            TxState::Retrying => "retrying",
        }
    }

    pub fn from_db(s: &str) -> AppResult<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_db() == s)
            .ok_or_else(|| internal(format!("unknown transmission state in database: {s}")))
    }
}

fn internal(m: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(m)))
}

/// The FC 6380(a) deadline of an event recorded at `at`: the end of the next court day. Past the
/// holiday data's years, a day later (earlier than the law's deadline can be), so an outdated
/// calendar never stops orders being entered.
pub fn due_by(at: DateTime<Utc>) -> DateTime<Utc> {
    end_of_next_court_day(at).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "FC 6380 deadline: court holidays unknown, using one day");
        at + chrono::Duration::days(1)
    })
}

/// Queues what a new chain's first order makes: its entry (temporary or not) and a supplemental
/// record for each protected person after the first. For `insert_batch`: every order given is
/// the root of a new chain, so no lookup is needed to number its messages.
pub async fn queue_entries<C: ConnectionTrait>(conn: &C, order_ids: &[i32]) -> AppResult<()> {
    if order_ids.is_empty() {
        return Ok(());
    }
    let facts = facts::load(conn, order_ids).await?;
    queue_entries_of(conn, order_ids, &facts).await
}

/// `queue_entries` with the orders' facts at hand (a batch just written builds them from its
/// own rows instead of reading them back).
pub async fn queue_entries_of<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i32],
    facts: &HashMap<i32, Facts>,
) -> AppResult<()> {
    insert_chunked(conn, entry_rows(order_ids, facts)?).await
}

/// The outbox rows `queue_entries_of` inserts, built without the database (a batch builds them
/// beside the execution of its other statements).
pub fn entry_rows(
    order_ids: &[i32],
    facts: &HashMap<i32, Facts>,
) -> AppResult<Vec<tx::ActiveModel>> {
    let tables = mapping::tables().map_err(|e| internal(e.to_string()))?;
    let now = Utc::now();
    let due = due_by(now);
    let mut rows = Vec::new();
    for id in order_ids {
        let Some(f) = facts.get(id) else { continue };
        let trigger = if temporary(f) {
            Trigger::IssueTemporary
        } else {
            Trigger::Issue
        };
        let (_, missing) = facts::record_fields(f, tables);
        let mut seq = 0;
        for m in tables.messages(trigger) {
            seq += 1;
            rows.push(row(f, seq, trigger, m.key.code(), None, &missing, now, due));
        }
        for p in f.protected.iter().skip(1) {
            for m in tables.messages(Trigger::AddedProtectedPerson) {
                seq += 1;
                let t = Trigger::AddedProtectedPerson;
                rows.push(row(f, seq, t, m.key.code(), Some(p.id), &[], now, due));
            }
        }
    }
    Ok(rows)
}

/// Whether the order enters CARPOS as temporary (a TRO or an EPO).
fn temporary(f: &Facts) -> bool {
    use crate::domain::order_rules::OrderKind;
    matches!(
        OrderKind::from_db(&f.order.kind),
        Ok(OrderKind::Temporary | OrderKind::Emergency)
    )
}

/// Queues the messages of `trigger` on an order of an existing chain (a successor, a service,
/// a termination, a cancellation), after the chain's earlier messages.
pub async fn queue_change<C: ConnectionTrait>(
    conn: &C,
    order_id: i32,
    trigger: Trigger,
) -> AppResult<()> {
    let tables = mapping::tables().map_err(|e| internal(e.to_string()))?;
    let facts = facts::load(conn, &[order_id]).await?;
    let Some(f) = facts.get(&order_id) else {
        return Err(AppError::not_found(format!("order {order_id}")));
    };
    let chain = f.order.chain_root_id;
    lock_chain(conn, chain).await?;
    let sent: Vec<tx::Model> = tx::Entity::find()
        .filter(tx::Column::ChainRootId.eq(chain))
        .all(conn)
        .await?;
    let now = Utc::now();
    // A chain entered before transmission existed (demo data, an old database) has no entry
    // row: it begins with this order's entry instead.
    let held = sent
        .iter()
        .find(|t| t.state == TxState::HeldIncomplete.as_db() && is_entry_key(&t.message_key));
    let has_entry = sent.iter().any(|t| is_entry_key(&t.message_key));
    if let Some(h) = held.filter(|_| is_change_of_data(trigger)) {
        return recheck_held(conn, h, f, tables, now).await;
    }
    let mut seq = sent.iter().map(|t| t.seq).max().unwrap_or(0);
    let (_, missing) = facts::record_fields(f, tables);
    let due = due_by(now);
    let mut rows = Vec::new();
    let trigger = if has_entry {
        trigger
    } else if temporary(f) {
        Trigger::IssueTemporary
    } else {
        Trigger::Issue
    };
    for m in tables.messages(trigger) {
        seq += 1;
        let missing = if m.key.is_entry() {
            missing.as_slice()
        } else {
            &[]
        };
        rows.push(row(f, seq, trigger, m.key.code(), None, missing, now, due));
    }
    insert_chunked(conn, rows).await
}

fn is_entry_key(code: &str) -> bool {
    super::message::MessageKey::from_code(code).is_some_and(|k| k.is_entry())
}

/// Triggers that bring new data (and may complete a held entry) rather than end the record.
fn is_change_of_data(t: Trigger) -> bool {
    matches!(
        t,
        Trigger::Modification | Trigger::Renewal | Trigger::OrderAfterHearing | Trigger::Service
    )
}

/// A held entry meets a newer order of its chain: it now carries that order's data, and goes
/// out once nothing mandatory is missing. No separate modify is queued: the entry is current.
async fn recheck_held<C: ConnectionTrait>(
    conn: &C,
    held: &tx::Model,
    f: &Facts,
    tables: &mapping::Tables,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let (_, missing) = facts::record_fields(f, tables);
    let mut r: tx::ActiveModel = held.clone().into();
    r.order_id = Set(f.order.id);
    r.updated_at = Set(now);
    if missing.is_empty() {
        r.state = Set(TxState::Queued.as_db().to_owned());
        r.missing_fields = Set(None);
        r.next_attempt_at = Set(now);
    } else {
        r.missing_fields = Set(Some(missing.join(",")));
    }
    r.update(conn).await?;
    Ok(())
}

/// On PostgreSQL, holds the chain's root order row until commit, so two events on one chain
/// (a service and a termination at once) number their messages one after the other. SQLite
/// writers are serialized already (`begin_write`).
async fn lock_chain<C: ConnectionTrait>(conn: &C, chain: i32) -> AppResult<()> {
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        conn.query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT id FROM protective_order WHERE id = $1 FOR UPDATE",
            [chain.into()],
        ))
        .await?;
    }
    Ok(())
}

#[expect(clippy::too_many_arguments, reason = "one row's columns, all needed")]
fn row(
    f: &Facts,
    seq: i32,
    trigger: Trigger,
    key: &str,
    person_id: Option<i32>,
    missing: &[String],
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> tx::ActiveModel {
    let held = !missing.is_empty();
    tx::ActiveModel {
        order_id: Set(f.order.id),
        chain_root_id: Set(f.order.chain_root_id),
        seq: Set(seq),
        trigger: Set(trigger.as_str().to_owned()),
        message_key: Set(key.to_owned()),
        person_id: Set(person_id),
        idempotency_key: Set(IdempotencyKey::generate().as_str().to_owned()),
        state: Set(if held {
            TxState::HeldIncomplete
        } else {
            TxState::Queued
        }
        .as_db()
        .to_owned()),
        attempts: Set(0),
        fcn: Set(None),
        error: Set(None),
        missing_fields: Set(held.then(|| missing.join(","))),
        queued_at: Set(now),
        sent_at: Set(None),
        acknowledged_at: Set(None),
        next_attempt_at: Set(now),
        due_by: Set(due),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The transmissions of orders, oldest first, by order id.
pub async fn of_orders<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i32],
) -> AppResult<HashMap<i32, Vec<tx::Model>>> {
    let mut out: HashMap<i32, Vec<tx::Model>> = HashMap::new();
    for chunk in order_ids.chunks(2000) {
        for t in tx::Entity::find()
            .filter(tx::Column::OrderId.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            out.entry(t.order_id).or_default().push(t);
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|t| (t.chain_root_id, t.seq));
    }
    Ok(out)
}

/// Counts by state, of every state or of `only` those (for `ccpor carpos status` and the
/// metrics).
pub async fn counts<C: ConnectionTrait>(
    conn: &C,
    only: Option<&[&str]>,
) -> AppResult<Vec<(String, i64)>> {
    let mut q = tx::Entity::find();
    if let Some(states) = only {
        q = q.filter(tx::Column::State.is_in(states.iter().copied()));
    }
    Ok(q.select_only()
        .column(tx::Column::State)
        .column_as(Expr::expr(Func::count(Expr::col(tx::Column::Id))), "n")
        .group_by(tx::Column::State)
        .into_tuple()
        .all(conn)
        .await?)
}

/// `retryTransmission`: after a clerk fixed what CARPOS rejected (or what held an entry), the
/// message goes out again with a new idempotency key (the peer would only replay its rejection
/// to the old one). A held entry is re-checked first and stays held while data is missing.
pub async fn retry(db: &sea_orm::DatabaseConnection, id: i64) -> AppResult<tx::Model> {
    let txn = crate::db::begin_write(db).await?;
    let row = tx::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("transmission {id}")))?;
    let state = TxState::from_db(&row.state)?;
    let now = Utc::now();
    let mut r: tx::ActiveModel = row.clone().into();
    match state {
        TxState::Rejected => {
            r.idempotency_key = Set(IdempotencyKey::generate().as_str().to_owned());
        }
        TxState::HeldIncomplete => {
            let tables = mapping::tables().map_err(|e| internal(e.to_string()))?;
            let facts = facts::load(&txn, &[row.order_id]).await?;
            let f = facts
                .get(&row.order_id)
                .ok_or_else(|| AppError::not_found(format!("order {}", row.order_id)))?;
            let (_, missing) = facts::record_fields(f, tables);
            if !missing.is_empty() {
                return Err(AppError::conflict(format!(
                    "the order still lacks what CARPOS requires: {}",
                    missing.join(", ")
                )));
            }
            r.missing_fields = Set(None);
        }
        other => {
            return Err(AppError::conflict(format!(
                "only a rejected or held transmission is retried; this one is {}",
                other.as_db()
            )));
        }
    }
    r.state = Set(TxState::Queued.as_db().to_owned());
    r.error = Set(None);
    r.next_attempt_at = Set(now);
    r.lease_owner = Set(None);
    r.lease_until = Set(None);
    r.updated_at = Set(now);
    let updated = r.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Rejected and held transmissions of a court's orders, oldest first: the clerk's work list.
pub async fn work_list<C: ConnectionTrait>(conn: &C, court_id: i32) -> AppResult<Vec<tx::Model>> {
    use entities::order;
    use sea_orm::QueryOrder;
    let orders = sea_orm::sea_query::Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::CourtId.eq(court_id))
        .to_owned();
    Ok(tx::Entity::find()
        .filter(
            tx::Column::State.is_in([TxState::Rejected.as_db(), TxState::HeldIncomplete.as_db()]),
        )
        .filter(tx::Column::OrderId.in_subquery(orders))
        .order_by_asc(tx::Column::Id)
        .all(conn)
        .await?)
}
