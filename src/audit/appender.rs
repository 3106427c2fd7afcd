//! A long-lived appender to the audit chain: the audit writer's. It remembers where it left the
//! chain, so while no other instance (or CLI run) appends in between, a batch is one call on a
//! connection of its own: one statement on PostgreSQL, one immediate transaction sent as one
//! text on SQLite. Otherwise a batch is appended under the head row's lock
//! (`chain::append_locked`).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entities::audit_event;
use sea_orm::sqlx::{AssertSqlSafe, Connection, PgConnection, Row, SqliteConnection};
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::audit::chain::{AuditRecord, Head, append_locked, rechain, unchained};
use crate::error::{AppError, AppResult};

/// Moves the head row only if it is still where this appender left it (compare and set, so two
/// instances can never both chain onto the same row), and inserts the rows only if it moved. One
/// statement is atomic on its own. One array per column keeps the text the same whatever the
/// batch's size, so it is planned once; the arrays are unnested in the select list, side by side,
/// as the batched inserts do (`service::unnest`), not in `FROM`, which first copies every row
/// into a tuple store.
const APPEND_IF_HEAD: &str = "WITH h AS (UPDATE audit_head SET last_seq = $1, last_hash = $2 \
     WHERE id = 1 AND last_seq = $3 AND last_hash = $4 RETURNING id) \
     INSERT INTO audit_event (seq, occurred_at, event, user_id, role, court, agency_ori, \
     operation, object_ids, fields, client_addr, request_id, outcome, detail, prev_hash, hash) \
     SELECT UNNEST($5::bigint[]), UNNEST($6::text[]), UNNEST($7::text[]), UNNEST($8::text[]), \
     UNNEST($9::text[]), UNNEST($10::text[]), UNNEST($11::text[]), UNNEST($12::text[]), \
     UNNEST($13::text[]), UNNEST($14::text[]), UNNEST($15::text[]), UNNEST($16::text[]), \
     UNNEST($17::text[]), UNNEST($18::text[]), UNNEST($19::text[]), UNNEST($20::text[]) FROM h";

/// How a batch went in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The head unchanged since this appender's last batch: one call (one statement on
    /// PostgreSQL).
    OneStatement,
    /// A transaction under the head row's lock (a first batch, or another appender moved the
    /// head in between).
    Locked,
}

/// See the module documentation. Not shared: one per writer task.
#[derive(Debug)]
pub struct Appender {
    db: DatabaseConnection,
    head: Option<Head>,
    /// A connection taken out of the pool for good, and when it was last used: sqlx pings a
    /// pooled PostgreSQL connection each time it goes back (a second round trip for every
    /// batch), and a SQLite batch on a connection of its own is one call to sqlx's worker
    /// thread instead of five.
    conn: Option<(Own, Instant)>,
    /// SQLite: the batch statement's text by number of rows, so each is prepared once.
    sqlite_texts: HashMap<usize, Arc<str>>,
    /// The disk's reserve, freed for a batch that finds the disk full (`space`).
    space: crate::space::Space,
}

/// The appender's connection of its own.
#[derive(Debug)]
enum Own {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl Own {
    async fn ping(&mut self) -> Result<(), sea_orm::sqlx::Error> {
        match self {
            Own::Postgres(c) => c.ping().await,
            Own::Sqlite(c) => c.ping().await,
        }
    }

    async fn close(self) {
        let _ = match self {
            Own::Postgres(c) => c.close().await,
            Own::Sqlite(c) => c.close().await,
        };
    }
}

/// A connection idle this long is pinged before use, as the pool does with its own
/// (`db::connect`): a server, proxy or firewall may have dropped it, and a batch sent on a dead
/// connection is refused with every request in it.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// Columns of `audit_event` in the order both batch statements bind them.
const COLUMNS: &str = "seq, occurred_at, event, user_id, role, court, agency_ori, operation, \
     object_ids, fields, client_addr, request_id, outcome, detail, prev_hash, hash";
const COLUMN_COUNT: usize = 16;

/// SQLite's batch of `n` rows, the same compare and set in one call: SQLite has no `UPDATE` in
/// a `WITH`, so the statements run in one immediate transaction, the insert only if the head
/// now holds this batch's end, and the last `SELECT` tells whether it did. The parameters are
/// anonymous and bound in the order they appear: SQLite looks a numbered one up by a linear
/// scan, which made binding a batch quadratic.
fn sqlite_batch_text(n: usize) -> String {
    let row = format!("({})", vec!["?"; COLUMN_COUNT].join(", "));
    format!(
        "BEGIN IMMEDIATE; \
         UPDATE audit_head SET last_seq = ?, last_hash = ? \
         WHERE id = 1 AND last_seq = ? AND last_hash = ?; \
         INSERT INTO audit_event ({COLUMNS}) SELECT * FROM (VALUES {}) \
         WHERE EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND last_seq = ? AND last_hash = ?); \
         SELECT last_seq = ? AND last_hash = ? FROM audit_head WHERE id = 1; \
         COMMIT",
        vec![row.as_str(); n].join(", ")
    )
}

/// An append failure; an unreachable or full database keeps its own code (`AppError::internal`).
fn internal(e: impl Into<anyhow::Error>) -> AppError {
    AppError::internal(e)
}

impl Appender {
    pub fn new(db: DatabaseConnection) -> Appender {
        Appender::with_space(db, crate::space::Space::default())
    }

    /// An appender that frees `space`'s reserve for a batch that finds the disk full and
    /// appends it again there.
    pub fn with_space(db: DatabaseConnection, space: crate::space::Space) -> Appender {
        Appender {
            db,
            head: None,
            conn: None,
            sqlite_texts: HashMap::new(),
            space,
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
        if let Some(known) = self.head.clone() {
            match self.append_if_head(&mut rows, &known).await {
                Ok(Some(after)) => {
                    self.head = Some(after);
                    return Ok((known.last_seq + 1, Path::OneStatement));
                }
                // Another instance appended since: take the head under its lock instead.
                Ok(None) => {}
                Err(e) => {
                    self.head = None;
                    // A SQLite batch that failed part-way may leave its transaction open on
                    // the connection; dropping the connection closes it, which rolls that back.
                    self.conn = None;
                    // No room: the rows go into the reserve, under the lock (the head is
                    // read again there).
                    if !(matches!(e, AppError::StorageFull) && self.space.free_reserve()) {
                        return Err(e);
                    }
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

    /// Where this appender left the chain (after its last batch).
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// The connection of its own, pinged first when it has been idle.
    async fn own(&mut self) -> AppResult<&mut Own> {
        if let Some((own, used)) = &mut self.conn
            && used.elapsed() >= PING_IF_IDLE_FOR
            && own.ping().await.is_err()
        {
            self.conn = None;
        }
        if self.conn.is_none() {
            let own = match self.db.get_database_backend() {
                DatabaseBackend::Postgres => Own::Postgres(
                    self.db
                        .get_postgres_connection_pool()
                        .acquire()
                        .await
                        .map_err(internal)?
                        .detach(),
                ),
                DatabaseBackend::Sqlite => {
                    let mut conn = self
                        .db
                        .get_sqlite_connection_pool()
                        .acquire()
                        .await
                        .map_err(internal)?
                        .detach();
                    // The audit writer's checkpointer (`writer`) copies the log back; this
                    // connection checkpoints itself only seldom, so that the log can start over.
                    sea_orm::sqlx::query(crate::checkpoint::WRITER_AUTOCHECKPOINT)
                        .execute(&mut conn)
                        .await
                        .map_err(internal)?;
                    Own::Sqlite(conn)
                }
                other => {
                    return Err(internal(anyhow::anyhow!("no audit appender for {other:?}")));
                }
            };
            self.conn = Some((own, Instant::now()));
        }
        let Some((own, used)) = &mut self.conn else {
            return Err(internal(anyhow::anyhow!("the audit connection is missing")));
        };
        *used = Instant::now();
        Ok(own)
    }

    /// `None`: the head has moved on and nothing was written.
    async fn append_if_head(
        &mut self,
        rows: &mut [audit_event::Model],
        known: &Head,
    ) -> AppResult<Option<Head>> {
        let after = rechain(rows, known);
        let sqlite_text = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(
                self.sqlite_texts
                    .entry(rows.len())
                    .or_insert_with(|| Arc::from(sqlite_batch_text(rows.len())))
                    .clone(),
            ),
            _ => None,
        };
        let appended = match (self.own().await?, sqlite_text) {
            (Own::Postgres(conn), _) => {
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
                if inserted != 0 && inserted != rows.len() as u64 {
                    // One statement is all or nothing; anything else is a fault in the
                    // statement itself.
                    return Err(internal(anyhow::anyhow!(
                        "audit append inserted {inserted} of {} rows",
                        rows.len()
                    )));
                }
                inserted != 0
            }
            (Own::Sqlite(conn), Some(sql)) => {
                let new_head = (after.last_seq, after.last_hash.as_str());
                let mut q = sea_orm::sqlx::query(AssertSqlSafe(sql))
                    .bind(new_head.0)
                    .bind(new_head.1)
                    .bind(known.last_seq)
                    .bind(known.last_hash.as_str());
                for r in rows.iter() {
                    q = q
                        .bind(r.seq)
                        .bind(r.occurred_at.as_str())
                        .bind(r.event.as_str())
                        .bind(r.user_id.as_deref())
                        .bind(r.role.as_deref())
                        .bind(r.court.as_deref())
                        .bind(r.agency_ori.as_deref())
                        .bind(r.operation.as_deref())
                        .bind(r.object_ids.as_str())
                        .bind(r.fields.as_str())
                        .bind(r.client_addr.as_deref())
                        .bind(r.request_id.as_deref())
                        .bind(r.outcome.as_str())
                        .bind(r.detail.as_deref())
                        .bind(r.prev_hash.as_str())
                        .bind(r.hash.as_str());
                }
                let q = q
                    .bind(new_head.0)
                    .bind(new_head.1)
                    .bind(new_head.0)
                    .bind(new_head.1);
                // All of it: the stream stops at what it is not asked for, `COMMIT` included.
                let got = q.fetch_all(&mut *conn).await.map_err(internal)?;
                match got.as_slice() {
                    [row] => row.try_get::<bool, _>(0).map_err(internal)?,
                    other => {
                        return Err(internal(anyhow::anyhow!(
                            "audit append answered {} rows",
                            other.len()
                        )));
                    }
                }
            }
            (Own::Sqlite(_), None) => {
                return Err(internal(anyhow::anyhow!(
                    "a SQLite connection on another backend"
                )));
            }
        };
        Ok(appended.then_some(after))
    }

    /// Closes the connection of its own, if any.
    pub async fn close(self) {
        if let Some((own, _)) = self.conn {
            own.close().await;
        }
    }
}
