//! A long-lived appender to the audit chain: the audit writer's. It remembers where it left the
//! chain, so on PostgreSQL a batch is one statement on a connection of its own while no other
//! instance appends in between; otherwise, and on SQLite, a batch is appended under the head
//! row's lock (`chain::append_locked`).
use std::sync::Arc;
use std::time::{Duration, Instant};

use entities::audit_event;
use sea_orm::sqlx::{Connection, PgConnection};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::audit::chain::{AuditRecord, Head, append_locked, rechain, unchained};
use crate::error::{AppError, AppResult};

/// Moves the head row only if it is still where this appender left it (compare and set, so two
/// instances can never both chain onto the same row), and inserts the rows only if it moved. One
/// statement is atomic on its own. One array per column keeps the text the same whatever the
/// batch's size, so it is planned once.
const APPEND_IF_HEAD: &str = "WITH h AS (UPDATE audit_head SET last_seq = $1, last_hash = $2 \
     WHERE id = 1 AND last_seq = $3 AND last_hash = $4 RETURNING id) \
     INSERT INTO audit_event (seq, occurred_at, event, user_id, role, court, agency_ori, \
     operation, object_ids, fields, client_addr, request_id, outcome, detail, prev_hash, hash) \
     SELECT r.* FROM h, UNNEST($5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], \
     $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], \
     $17::text[], $18::text[], $19::text[], $20::text[]) AS r";

/// How a batch went in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// PostgreSQL, the head unchanged since this appender's last batch: one statement.
    OneStatement,
    /// A transaction under the head row's lock (SQLite, a first batch, or another appender
    /// moved the head in between).
    Locked,
}

/// See the module documentation. Not shared: one per writer task.
#[derive(Debug)]
pub struct Appender {
    db: DatabaseConnection,
    head: Option<Head>,
    /// PostgreSQL: a connection taken out of the pool for good, and when it was last used. sqlx
    /// pings a pooled connection each time it goes back, a second round trip for every batch.
    conn: Option<(PgConnection, Instant)>,
}

/// A connection idle this long is pinged before use, as the pool does with its own
/// (`db::connect`): a server, proxy or firewall may have dropped it, and a batch sent on a dead
/// connection is refused with every request in it.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

fn internal(e: impl Into<anyhow::Error>) -> AppError {
    AppError::Internal(Arc::new(e.into()))
}

impl Appender {
    pub fn new(db: DatabaseConnection) -> Appender {
        Appender {
            db,
            head: None,
            conn: None,
        }
    }

    /// Appends `recs` in order, all or nothing, returning the first one's sequence number (the
    /// others follow without gaps) and how they went in. After an error the appender forgets
    /// the head and its connection and starts afresh.
    pub async fn append(&mut self, recs: Vec<AuditRecord>) -> AppResult<(i64, Path)> {
        if recs.is_empty() {
            return Ok((0, Path::Locked));
        }
        let mut rows = unchained(recs);
        if self.db.get_database_backend() == DatabaseBackend::Postgres
            && let Some(known) = self.head.clone()
        {
            match self.append_if_head(&mut rows, &known).await {
                Ok(Some(after)) => {
                    self.head = Some(after);
                    return Ok((known.last_seq + 1, Path::OneStatement));
                }
                // Another instance appended since: take the head under its lock instead.
                Ok(None) => {}
                Err(e) => {
                    self.head = None;
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        match append_locked(&self.db, rows).await {
            Ok((first, after)) => {
                self.head = Some(after);
                Ok((first, Path::Locked))
            }
            Err(e) => {
                self.head = None;
                Err(e)
            }
        }
    }

    /// `None`: the head has moved on and nothing was written.
    async fn append_if_head(
        &mut self,
        rows: &mut [audit_event::Model],
        known: &Head,
    ) -> AppResult<Option<Head>> {
        let after = rechain(rows, known);
        if let Some((conn, used)) = &mut self.conn
            && used.elapsed() >= PING_IF_IDLE_FOR
            && conn.ping().await.is_err()
        {
            self.conn = None;
        }
        let (conn, used) = match &mut self.conn {
            Some(held) => held,
            None => {
                let pooled = self
                    .db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(internal)?;
                self.conn.insert((pooled.detach(), Instant::now()))
            }
        };
        *used = Instant::now();
        let text = |f: fn(&audit_event::Model) -> &String| -> Vec<&str> {
            rows.iter().map(|r| f(r).as_str()).collect()
        };
        let maybe = |f: fn(&audit_event::Model) -> &Option<String>| -> Vec<Option<&str>> {
            rows.iter().map(|r| f(r).as_deref()).collect()
        };
        let inserted = sea_orm::sqlx::query(APPEND_IF_HEAD)
            .bind(after.last_seq)
            .bind(after.last_hash.as_str())
            .bind(known.last_seq)
            .bind(known.last_hash.as_str())
            .bind(rows.iter().map(|r| r.seq).collect::<Vec<i64>>())
            .bind(text(|r| &r.occurred_at))
            .bind(text(|r| &r.event))
            .bind(maybe(|r| &r.user_id))
            .bind(maybe(|r| &r.role))
            .bind(maybe(|r| &r.court))
            .bind(maybe(|r| &r.agency_ori))
            .bind(maybe(|r| &r.operation))
            .bind(text(|r| &r.object_ids))
            .bind(text(|r| &r.fields))
            .bind(maybe(|r| &r.client_addr))
            .bind(maybe(|r| &r.request_id))
            .bind(text(|r| &r.outcome))
            .bind(maybe(|r| &r.detail))
            .bind(text(|r| &r.prev_hash))
            .bind(text(|r| &r.hash))
            .execute(&mut *conn)
            .await
            .map_err(internal)?
            .rows_affected();
        if inserted == 0 {
            return Ok(None);
        }
        if inserted != rows.len() as u64 {
            // One statement is all or nothing; anything else is a fault in the statement itself.
            return Err(internal(anyhow::anyhow!(
                "audit append inserted {inserted} of {} rows",
                rows.len()
            )));
        }
        Ok(Some(after))
    }

    /// Closes the connection of its own, if any.
    pub async fn close(self) {
        if let Some((conn, _)) = self.conn {
            let _ = conn.close().await;
        }
    }
}
