//! Appending to and verifying the hash chain. Each row's hash covers its content and the previous
//! row's hash; sequence numbers are assigned under the head row's lock (or, by the audit writer's
//! `appender`, by compare and set on it), so they have no gaps.
//! An edited row breaks its own hash, a deleted row leaves a gap or a broken link, and a deleted
//! tail no longer matches the head.
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, Utc};
use entities::{audit_event, audit_head};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder, QuerySelect, Set, Statement,
};

use crate::audit::digest::Sha256Hex;
use crate::error::{AppError, AppResult};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }
}

/// One audit record before it is chained.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub occurred_at: DateTime<Utc>,
    pub event: String,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub court: Option<String>,
    pub agency_ori: Option<String>,
    pub operation: Option<String>,
    pub object_ids: Vec<String>,
    pub fields: Vec<String>,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    pub outcome: Outcome,
    pub detail: Option<String>,
}

impl AuditRecord {
    pub fn new(event: &str, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            occurred_at: Utc::now(),
            event: event.to_owned(),
            user_id: None,
            role: None,
            court: None,
            agency_ori: None,
            operation: None,
            object_ids: Vec::new(),
            fields: Vec::new(),
            client_addr: None,
            request_id: None,
            outcome,
            detail: None,
        }
    }
}

/// The hash of a stored row: SHA-256 over a JSON array of every column but `hash`, written
/// straight into the hasher (the bytes `serde_json::json!` of the same array would print; a
/// unit test holds them equal, since every stored hash depends on them).
pub fn row_hash(r: &audit_event::Model) -> String {
    let content = (
        r.seq,
        &r.occurred_at,
        &r.event,
        &r.user_id,
        &r.role,
        &r.court,
        &r.agency_ori,
        &r.operation,
        &r.object_ids,
        &r.fields,
        &r.client_addr,
        &r.request_id,
        &r.outcome,
        &r.detail,
        &r.prev_hash,
    );
    let mut h = Sha256Hex::new();
    // Strings and integers always print.
    let _ = h.json(&content);
    h.hex()
}

/// Appends one record in its own transaction. An error means nothing was recorded, and the
/// caller must then refuse the request (CJIS AU-5: fail closed).
pub async fn append(db: &DatabaseConnection, rec: AuditRecord) -> AppResult<i64> {
    append_many(db, vec![rec]).await
}

/// Where the chain ends: the last sequence number and that row's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub last_seq: i64,
    pub last_hash: String,
}

/// Appends `recs` in order in one transaction, returning the first one's sequence number (the
/// others follow without gaps). All or nothing.
pub async fn append_many(db: &DatabaseConnection, recs: Vec<AuditRecord>) -> AppResult<i64> {
    if recs.is_empty() {
        return Ok(0);
    }
    append_locked(db, unchained(recs))
        .await
        .map(|(first, _)| first)
}

/// Appends `rows` in one transaction under the head row's lock.
pub(crate) async fn append_locked(
    db: &DatabaseConnection,
    mut rows: Vec<audit_event::Model>,
) -> AppResult<(i64, Head)> {
    let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let txn = crate::db::begin_write(db).await?;
    // Taking the head row by updating it serializes appenders on PostgreSQL (row lock) and on
    // SQLite (write lock) alike; the whole batch's sequence numbers are reserved at once.
    let backend = txn.get_database_backend();
    let sql = format!(
        "UPDATE audit_head SET last_seq = last_seq + {n} WHERE id = 1 RETURNING last_seq, last_hash"
    );
    let row = txn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| AppError::Internal(Arc::new(anyhow::anyhow!("audit head row missing"))))?;
    let last: i64 = row.try_get("", "last_seq")?;
    let before = Head {
        last_seq: last - n,
        last_hash: row.try_get("", "last_hash")?,
    };
    let after = rechain(&mut rows, &before);
    audit_event::Entity::insert_many(rows.into_iter().map(active))
        .exec(&txn)
        .await?;
    audit_head::Entity::update(audit_head::ActiveModel {
        id: Set(1),
        last_seq: Set(after.last_seq),
        last_hash: Set(after.last_hash.clone()),
    })
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok((before.last_seq + 1, after))
}

/// The records as rows, not yet placed in the chain (`rechain` does that).
/// Every text is bounded and cleaned first (`clean`): a client's string never grows a row
/// without limit nor fails a batch.
pub(crate) fn unchained(recs: Vec<AuditRecord>) -> Vec<audit_event::Model> {
    recs.into_iter()
        .map(cleaned)
        .map(|rec| audit_event::Model {
            seq: 0,
            occurred_at: rec.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            event: rec.event,
            user_id: rec.user_id,
            role: rec.role,
            court: rec.court,
            agency_ori: rec.agency_ori,
            operation: rec.operation,
            object_ids: serde_json::to_string(&rec.object_ids).unwrap_or_else(|_| "[]".into()),
            fields: serde_json::to_string(&rec.fields).unwrap_or_else(|_| "[]".into()),
            client_addr: rec.client_addr,
            request_id: rec.request_id,
            outcome: rec.outcome.as_str().to_owned(),
            detail: rec.detail,
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect()
}

fn cleaned(mut rec: AuditRecord) -> AuditRecord {
    use crate::audit::clean::{MAX_AUDIT_TEXT, MAX_CLIENT_TEXT, bound_in_place, bound_option};
    bound_in_place(&mut rec.event, MAX_CLIENT_TEXT);
    for s in [
        &mut rec.user_id,
        &mut rec.role,
        &mut rec.court,
        &mut rec.agency_ori,
        &mut rec.client_addr,
        &mut rec.request_id,
    ] {
        bound_option(s, MAX_CLIENT_TEXT);
    }
    bound_option(&mut rec.operation, MAX_AUDIT_TEXT);
    bound_option(&mut rec.detail, MAX_AUDIT_TEXT);
    for s in rec.object_ids.iter_mut().chain(rec.fields.iter_mut()) {
        bound_in_place(s, MAX_CLIENT_TEXT);
    }
    rec
}

/// Numbers and hashes `rows` as the rows following `head`, returning the new head.
pub(crate) fn rechain(rows: &mut [audit_event::Model], head: &Head) -> Head {
    let mut prev = head.last_hash.clone();
    let mut seq = head.last_seq;
    for row in rows.iter_mut() {
        seq += 1;
        row.seq = seq;
        row.prev_hash = prev;
        row.hash = row_hash(row);
        prev = row.hash.clone();
    }
    Head {
        last_seq: seq,
        last_hash: prev,
    }
}

fn active(m: audit_event::Model) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        seq: Set(m.seq),
        occurred_at: Set(m.occurred_at),
        event: Set(m.event),
        user_id: Set(m.user_id),
        role: Set(m.role),
        court: Set(m.court),
        agency_ori: Set(m.agency_ori),
        operation: Set(m.operation),
        object_ids: Set(m.object_ids),
        fields: Set(m.fields),
        client_addr: Set(m.client_addr),
        request_id: Set(m.request_id),
        outcome: Set(m.outcome),
        detail: Set(m.detail),
        prev_hash: Set(m.prev_hash),
        hash: Set(m.hash),
    }
}

/// Result of `ccpor audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows checked.
    pub rows: u64,
    /// The first bad row (or the first missing sequence number) and what is wrong with it.
    pub first_bad: Option<(i64, String)>,
}

/// Walks the whole chain in sequence order.
pub async fn verify<C: ConnectionTrait>(db: &C) -> AppResult<VerifyReport> {
    const PAGE: u64 = 2000;
    let mut expected_seq = 1i64;
    let mut prev_hash = migrations::AUDIT_GENESIS.to_owned();
    let mut rows = 0u64;
    loop {
        let page = audit_event::Entity::find()
            .filter_seq_from(expected_seq)
            .order_by_asc(audit_event::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        let n = page.len();
        for r in page {
            if r.seq != expected_seq {
                return Ok(VerifyReport {
                    rows,
                    first_bad: Some((
                        expected_seq,
                        format!("row {expected_seq} is missing (next row is {})", r.seq),
                    )),
                });
            }
            if r.prev_hash != prev_hash {
                return Ok(VerifyReport {
                    rows,
                    first_bad: Some((r.seq, "does not link to the row before it".into())),
                });
            }
            if row_hash(&r) != r.hash {
                return Ok(VerifyReport {
                    rows,
                    first_bad: Some((r.seq, "content does not match its hash (edited)".into())),
                });
            }
            prev_hash = r.hash;
            expected_seq += 1;
            rows += 1;
        }
        if (n as u64) < PAGE {
            break;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    match head {
        Some(h) if h.last_seq == expected_seq - 1 && h.last_hash == prev_hash => Ok(VerifyReport {
            rows,
            first_bad: None,
        }),
        Some(h) => Ok(VerifyReport {
            rows,
            first_bad: Some((
                expected_seq,
                format!(
                    "rows {expected_seq}..={} are missing (the log ends early)",
                    h.last_seq
                ),
            )),
        }),
        None => Ok(VerifyReport {
            rows,
            first_bad: Some((0, "the audit head row is missing".into())),
        }),
    }
}

trait SeqFrom {
    fn filter_seq_from(self, seq: i64) -> Self;
}

impl SeqFrom for sea_orm::Select<audit_event::Entity> {
    fn filter_seq_from(self, seq: i64) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(audit_event::Column::Seq.gte(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The hash as the chain was first written: over `serde_json::json!` of the columns.
    fn hash_via_value(r: &audit_event::Model) -> String {
        let content = serde_json::json!([
            r.seq,
            r.occurred_at,
            r.event,
            r.user_id,
            r.role,
            r.court,
            r.agency_ori,
            r.operation,
            r.object_ids,
            r.fields,
            r.client_addr,
            r.request_id,
            r.outcome,
            r.detail,
            r.prev_hash,
        ]);
        hex::encode(Sha256::digest(content.to_string().as_bytes()))
    }

    #[test]
    fn row_hash_is_over_the_same_bytes_as_every_stored_hash() {
        let mut row = audit_event::Model {
            seq: 9_007_199_254_740_993,
            occurred_at: "2026-12-03T17:00:00.123456Z".into(),
            event: "graphql.query".into(),
            user_id: Some("clerk \"sc19\" \\ ünïcødé \u{1}".into()),
            role: None,
            court: Some("SC19".into()),
            agency_ori: None,
            operation: Some("query BenchDashboard(personHistory)\n\t".into()),
            object_ids: r#"["UGVyc29uOjE=","T3JkZXI6Mg=="]"#.into(),
            fields: "[]".into(),
            client_addr: Some("127.0.0.1".into()),
            request_id: None,
            outcome: "allowed".into(),
            detail: Some("errors: FORBIDDEN,\u{2028}".into()),
            prev_hash: "0".repeat(64),
            hash: String::new(),
        };
        assert_eq!(row_hash(&row), hash_via_value(&row));
        row.seq = -1;
        row.user_id = None;
        row.detail = None;
        assert_eq!(row_hash(&row), hash_via_value(&row));
    }
}
