//! The transmitter's work on a whole lease at once (`transmitter::pass`): the messages of many
//! rows built from one load of their orders' facts, the CLETS-001 purges of many acknowledged
//! entries announced together, and every answer recorded in one transaction.
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::carpos_transmission as tx;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    Statement, Value,
};

use super::facts::{self, Facts};
use super::mapping::{self, Trigger};
use super::message::{Ack, Fcn, Field, FieldCode, IdempotencyKey, Message, MessageKey, strict_ori};
use super::outbox::TxState;
use super::outcome::{self, Answer};
use crate::audit::{AuditRecord, Outcome};
use crate::domain::codes::EntrySource;
use crate::domain::ids::{self, Kind};
use crate::error::{AppError, AppResult};
use crate::service::orders::event;

/// Why a row cannot become a message.
pub enum Unsendable {
    /// An entry lacks mandatory data (it was complete when queued, and is no longer).
    Missing(Vec<String>),
    /// Our own data does not make a valid message (a court ORI of the wrong shape).
    Invalid(String),
}

/// How a leased row ends this pass.
pub enum Finish {
    /// With the persons whose CLETS-001 data goes (announced in the audit log already).
    Acknowledged(Ack, Vec<i32>),
    Rejected(String),
    Retry(String, Duration),
    /// Not sent: its entry lacks mandatory data.
    Held(Vec<String>),
    /// Not sent: our own data makes no valid message; final, as a rejection.
    Invalid(String),
}

/// What a pass builds from its rows: their messages, in the same order, and of each order what
/// recording its answer needs, taken from the same read.
pub struct Built {
    pub messages: Vec<Result<Message, Unsendable>>,
    pub orders: HashMap<i32, OrderNotes>,
}

/// Of one order, what the answers to its messages need: where it came from (for the order
/// event) and which of its persons held CLETS-001 data when its message was made (the data the
/// message carried, purged once an entry is acknowledged).
pub struct OrderNotes {
    pub source: String,
    pub clets_holders: Vec<i32>,
}

impl OrderNotes {
    fn of(f: &Facts) -> OrderNotes {
        let mut clets_holders: Vec<i32> = f
            .restrained
            .iter()
            .chain(&f.protected)
            .filter(|p| outcome::holds_clets(p))
            .map(|p| p.id)
            .collect();
        clets_holders.sort_unstable();
        clets_holders.dedup();
        OrderNotes {
            source: f.order.source.clone(),
            clets_holders,
        }
    }
}

/// The messages `rows` stand for, from their orders as they are now, in the same order: the
/// orders' facts and the chains' FCNs loaded once for all of them.
pub async fn build_all(db: &DatabaseConnection, rows: &[tx::Model]) -> AppResult<Built> {
    let order_ids: Vec<i32> = rows
        .iter()
        .map(|r| r.order_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let all = facts::load(db, &order_ids).await?;
    let chains: Vec<i32> = rows
        .iter()
        .filter(|r| MessageKey::from_code(&r.message_key).is_some_and(|k| !k.is_entry()))
        .map(|r| r.chain_root_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let fcns = chain_fcns(db, &chains).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let f = all
            .get(&row.order_id)
            .ok_or_else(|| AppError::not_found(format!("order {}", row.order_id)))?;
        out.push(build(db, row, f, fcns.get(&row.chain_root_id)).await?);
    }
    Ok(Built {
        messages: out,
        orders: all.iter().map(|(id, f)| (*id, OrderNotes::of(f))).collect(),
    })
}

/// The message `row` stands for, given its order's facts and its chain's FCN.
async fn build(
    db: &DatabaseConnection,
    row: &tx::Model,
    f: &Facts,
    chain_fcn: Option<&String>,
) -> AppResult<Result<Message, Unsendable>> {
    let tables = mapping::tables().map_err(|e| internal(e.to_string()))?;
    let key = MessageKey::from_code(&row.message_key)
        .ok_or_else(|| internal(format!("unknown message key {}", row.message_key)))?;
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
        match chain_fcn {
            Some(f) => Some(Fcn::parse(f).map_err(|e| internal(e.to_string()))?),
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

/// The FCN CARPOS gave each chain's record (every acknowledged row of a chain carries it).
async fn chain_fcns(db: &DatabaseConnection, chains: &[i32]) -> AppResult<HashMap<i32, String>> {
    let mut out = HashMap::new();
    for chunk in chains.chunks(CHUNK) {
        let found: Vec<(i32, Option<String>)> = tx::Entity::find()
            .select_only()
            .column(tx::Column::ChainRootId)
            .column(tx::Column::Fcn)
            .filter(tx::Column::ChainRootId.is_in(chunk.iter().copied()))
            .filter(tx::Column::Fcn.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        for (chain, fcn) in found {
            if let Some(fcn) = fcn {
                out.entry(chain).or_insert(fcn);
            }
        }
    }
    Ok(out)
}

/// Ids per `IN (…)` list and rows per multi-row statement.
const CHUNK: usize = 500;

/// The purges the acknowledged entries `acked` (row, FCN) make: of each whose order had persons
/// holding CLETS-001 data when its message was made, those persons (by row id), and the audit
/// rows that announce the purges, to be appended before `finish_all` carries them out (no
/// record, no purge).
pub fn purges(
    orders: &HashMap<i32, OrderNotes>,
    acked: &[(&tx::Model, &str)],
) -> (HashMap<i64, Vec<i32>>, Vec<AuditRecord>) {
    let mut out = HashMap::new();
    let mut recs = Vec::new();
    for (row, fcn) in acked {
        let Some(notes) = orders.get(&row.order_id) else {
            continue;
        };
        if notes.clets_holders.is_empty() {
            continue;
        }
        recs.push(outcome::purge_record(row, fcn, &notes.clets_holders));
        out.insert(row.id, notes.clets_holders.clone());
    }
    (out, recs)
}

/// Records the outcomes of a pass and gives up the leases, in one transaction: each row's state,
/// the order events of the answers (`outcome`), the CLETS-001 purges. A row whose lease another
/// instance took meanwhile is left to that instance.
pub async fn finish_all(
    db: &DatabaseConnection,
    owner: &str,
    fins: Vec<(&tx::Model, Finish)>,
    orders: &HashMap<i32, OrderNotes>,
) -> AppResult<()> {
    if fins.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut acked: Vec<(&tx::Model, &Ack, &[i32])> = Vec::new();
    let mut others: Vec<(&tx::Model, &Finish)> = Vec::new();
    for (row, fin) in &fins {
        match fin {
            Finish::Acknowledged(ack, purge) => acked.push((row, ack, purge)),
            _ => others.push((row, fin)),
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let mut events = Vec::new();
    let mut purged: Vec<i32> = Vec::new();
    for chunk in acked.chunks(CHUNK) {
        let done = mark_acknowledged(&txn, owner, chunk, now).await?;
        for (row, ack, purge) in chunk {
            if done.contains(&row.id) {
                events.push((*row, Ok(ack.fcn.as_str())));
                purged.extend_from_slice(purge);
            }
        }
    }
    for (row, fin) in others {
        if finish_one(&txn, owner, row, fin, now).await?
            && let Finish::Rejected(why) | Finish::Invalid(why) = fin
        {
            events.push((row, Err(why.as_str())));
        }
    }
    record_all(&txn, &events, orders, now).await?;
    outcome::purge(&txn, &purged, now).await?;
    txn.commit().await?;
    for (row, answer) in &events {
        if answer.is_ok() {
            super::status::acknowledged(row, now);
        }
    }
    Ok(())
}

/// Acknowledges the rows of `chunk` still leased by `owner` in one statement; returns their ids.
async fn mark_acknowledged<C: ConnectionTrait>(
    conn: &C,
    owner: &str,
    chunk: &[(&tx::Model, &Ack, &[i32])],
    now: DateTime<Utc>,
) -> AppResult<BTreeSet<i64>> {
    let backend = conn.get_database_backend();
    let p = |n| crate::db::placeholder(backend, n);
    let mut values: Vec<Value> = vec![
        TxState::Acknowledged.as_db().into(),
        now.into(),
        owner.into(),
    ];
    let (mut tuples, mut ids) = (
        Vec::with_capacity(chunk.len()),
        Vec::with_capacity(chunk.len()),
    );
    for (row, ack, _) in chunk {
        let n = values.len();
        tuples.push(format!("({}, {}, {})", p(n + 1), p(n + 2), p(3)));
        ids.push(p(n + 1));
        values.push(row.id.into());
        values.push(ack.fcn.as_str().into());
    }
    // `VALUES` names its columns column1, column2 on SQLite and PostgreSQL alike. The owner is
    // matched as a column of the list and the rows are named by id as well, so PostgreSQL finds
    // them through the primary key: `lease_owner = $3` alone is a condition its statistics say
    // (rightly: almost every row has none) no row meets, and at 20,000 transmissions it scanned
    // the table for it and compared each row found with the whole list, 136-174 ms for 512
    // rows (15 ms now; at 200,000 it chose the key by itself).
    let sql = format!(
        "UPDATE carpos_transmission SET state = {p1}, fcn = v.column2, acknowledged_at = {p2}, \
         error = NULL, lease_owner = NULL, lease_until = NULL, updated_at = {p2} \
         FROM (VALUES {tuples}) AS v \
         WHERE carpos_transmission.id = v.column1 AND carpos_transmission.id IN ({ids}) \
         AND carpos_transmission.lease_owner = v.column3 \
         RETURNING carpos_transmission.id",
        p1 = p(1),
        p2 = p(2),
        tuples = tuples.join(", "),
        ids = ids.join(", "),
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<_, _>>()?)
}

/// Records one outcome other than an acknowledgement; whether the row was still ours.
async fn finish_one<C: ConnectionTrait>(
    conn: &C,
    owner: &str,
    row: &tx::Model,
    fin: &Finish,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut q = tx::Entity::update_many()
        .col_expr(tx::Column::LeaseOwner, Expr::value(Option::<String>::None))
        .col_expr(
            tx::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(tx::Column::UpdatedAt, Expr::value(now));
    let state = match fin {
        Finish::Acknowledged(ack, _) => {
            q = q
                .col_expr(tx::Column::Fcn, Expr::value(ack.fcn.as_str()))
                .col_expr(tx::Column::AcknowledgedAt, Expr::value(now))
                .col_expr(tx::Column::Error, Expr::value(Option::<String>::None));
            TxState::Acknowledged
        }
        Finish::Rejected(e) => {
            q = q.col_expr(tx::Column::Error, Expr::value(e.clone()));
            TxState::Rejected
        }
        Finish::Retry(e, after) => {
            let at = now + chrono::Duration::from_std(*after).unwrap_or(chrono::Duration::zero());
            q = q
                .col_expr(tx::Column::Error, Expr::value(e.clone()))
                .col_expr(tx::Column::NextAttemptAt, Expr::value(at));
            TxState::Retrying
        }
        Finish::Held(missing) => {
            q = unsent(q).col_expr(tx::Column::MissingFields, Expr::value(missing.join(",")));
            TxState::HeldIncomplete
        }
        Finish::Invalid(e) => {
            q = unsent(q).col_expr(tx::Column::Error, Expr::value(e.clone()));
            TxState::Rejected
        }
    };
    let done = q
        .col_expr(tx::Column::State, Expr::value(state.as_db()))
        .filter(tx::Column::Id.eq(row.id))
        .filter(tx::Column::LeaseOwner.eq(owner))
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Takes back the attempt and the send time the lease gave a row that did not go out (a send
/// time of an earlier attempt stays).
fn unsent(q: sea_orm::UpdateMany<tx::Entity>) -> sea_orm::UpdateMany<tx::Entity> {
    q.col_expr(
        tx::Column::SentAt,
        Expr::cust("CASE WHEN attempts <= 1 THEN NULL ELSE sent_at END"),
    )
    .col_expr(tx::Column::Attempts, Expr::cust("attempts - 1"))
}

/// The order events of many answers (`outcome::event_of`), written in multi-row inserts; each
/// order's source is in `orders` (read with its facts).
async fn record_all<C: ConnectionTrait>(
    conn: &C,
    answers: &[(&tx::Model, Result<&str, &str>)],
    orders: &HashMap<i32, OrderNotes>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let mut models = Vec::with_capacity(answers.len());
    for (row, answer) in answers {
        let notes = orders
            .get(&row.order_id)
            .ok_or_else(|| AppError::not_found(format!("order {}", row.order_id)))?;
        let source = EntrySource::from_db(&notes.source)?;
        let answer = match answer {
            Ok(fcn) => Answer::Acknowledged(fcn),
            Err(why) => Answer::Rejected(why),
        };
        let (kind, reason) = outcome::event_of(row, &answer);
        models.push(event(row.order_id, kind, now, None, Some(reason), source));
    }
    // One array statement a pass on PostgreSQL (`chunks`), not a VALUES list of 100 rows.
    crate::service::orders::insert_chunked(conn, models).await
}

/// The audit row of a send, before it happens.
pub fn send_record(row: &tx::Model, message: &Message) -> AuditRecord {
    let mut rec = AuditRecord::new("carpos.send", Outcome::Allowed);
    rec.operation = Some(message.key().code().to_owned());
    rec.object_ids = vec![ids::encode(Kind::Order, row.order_id)];
    rec.detail = Some(format!(
        "transmission {}, seq {}, key {}, attempt {}",
        row.id, row.seq, row.idempotency_key, row.attempts
    ));
    rec
}

/// The audit row of an answer (or of no answer).
pub fn answer_record(
    row: &tx::Model,
    message: &Message,
    outcome: &Result<Ack, super::client::SendError>,
) -> AuditRecord {
    use super::client::SendError;
    let (event, result, detail) = match outcome {
        Ok(ack) => ("carpos.ack", Outcome::Allowed, format!("FCN {}", ack.fcn)),
        Err(SendError::Rejected(r)) => ("carpos.reject", Outcome::Denied, r.to_string()),
        Err(SendError::Transient(e)) => ("carpos.retry", Outcome::Error, e.to_string()),
    };
    let mut rec = AuditRecord::new(event, result);
    rec.operation = Some(message.key().code().to_owned());
    rec.object_ids = vec![ids::encode(Kind::Order, row.order_id)];
    rec.detail = Some(format!("transmission {}: {detail}", row.id));
    rec
}

fn internal(m: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(m)))
}
