//! Database connection, migrations, readiness and id allocation.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};

/// Counts SQL statements sent, for metrics and for tests that pin query counts.
#[derive(Debug, Default, Clone)]
pub struct SqlStats(Arc<AtomicU64>);

impl SqlStats {
    pub fn statements(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How long a statement waits for a pooled connection before the request fails with
/// `DATABASE_UNAVAILABLE` (a stopped database refuses connections at once; the pool retries
/// with backoff until this runs out).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Bytes of SQLite write-ahead log kept when the log starts over after a checkpoint.
pub const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Rows a SQLite read may buffer ahead of its reader (see `connect`).
const ROW_BUFFER: usize = 1024;

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str) -> Result<(DatabaseConnection, SqlStats), DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        // Short: while the database is down (stopped, restarting) a request waits this long for a
        // connection and then fails with DATABASE_UNAVAILABLE, instead of hanging; the pool keeps
        // reconnecting (with backoff) for the next request. Under load a connection frees in
        // milliseconds.
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // Ping only a connection idle long enough to have been dropped (by the server, a proxy,
        // a firewall). The default pings on every checkout: one more round trip for each
        // statement, half of all PostgreSQL traffic of an uncached history.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // 32 MiB page cache per connection (default 2 MiB): index pages of a
                // statewide database stay in memory during bulk loads.
                .pragma("cache_size", "-32768")
                .pragma("temp_store", "memory")
                // The write-ahead log never shrinks by itself: once a bulk load or a lagging
                // checkpoint has grown it (2 GB seen), writes wrap around inside the whole file,
                // onto pages long out of the page cache, and each frame's write first reads
                // its block back from disk. Cut it back when it restarts.
                .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
                // Rows sqlx's worker thread may run ahead of the task decoding them (default
                // 50): past that it waits for the reader row by row. A read of hundreds of rows
                // now runs through; the CARPOS transmitter's statements took a fifth less time.
                .row_buffer_size(ROW_BUFFER)
        });
    if url.starts_with("sqlite") {
        opts.max_connections(8)
            .map_sqlx_sqlite_pool_opts(|p| p.after_release(sqlite_release_check));
    } else {
        opts.max_connections(16);
    }
    let mut db = Database::connect(opts).await?;
    let stats = SqlStats::default();
    let counter = stats.0.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        // No label: a statement's text or values could carry personal data.
        metrics::histogram!("ccpor_db_statement_duration_seconds")
            .record(info.elapsed.as_secs_f64());
    });
    Ok((db, stats))
}

/// Whether a SQLite connection may go back to the pool: not while the driver counts it inside a
/// transaction. SQLite ends a transaction by itself on some errors (`SQLITE_FULL` at `COMMIT`);
/// the driver's rollback on drop then fails and its count stays open, so the next `BEGIN
/// IMMEDIATE` on the connection is refused and a transaction begun and dropped there leaves a
/// real one open, pinning an old snapshot for every later read. Such a connection is closed.
fn sqlite_release_check(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    _: sea_orm::sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'_, Result<bool, sea_orm::sqlx::Error>> {
    use sea_orm::sqlx::Connection;
    Box::pin(async move {
        if !conn.is_in_transaction() {
            return Ok(true);
        }
        // A dropped transaction queues its rollback on the connection: let it run, then look
        // again (the usual case; the count stays up only when the rollback failed).
        conn.ping().await?;
        let clean = !conn.is_in_transaction();
        if !clean {
            tracing::warn!("a SQLite connection came back inside a transaction; closing it");
        }
        Ok(clean)
    })
}

/// The `n`th (from 1) bound parameter of a hand-written statement: `$n` on PostgreSQL, `?n` on
/// SQLite.
pub fn placeholder(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Begins a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes fails at once with
/// `SQLITE_BUSY` when another connection committed in between (its read snapshot is stale), and
/// the busy timeout cannot help it; waiting for the lock up front can. PostgreSQL is unchanged.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// One writer at a time among a server's background writers on SQLite (the audit writer and the
/// CARPOS transmitter), queued here instead of in SQLite. SQLite makes a writer that finds the
/// write lock taken sleep and try again (its busy handler: 1, 2, 5, 10, 15 … 100 ms), whenever
/// the lock comes free: draining the outbox, the audit writer slept ~220 times in 4 s, 11 ms
/// each, and every pass waited for it twice. Here the next writer starts the moment the last
/// one ends. That did not raise the drain's rate (SQLite's writer itself was busy ~90 % of it,
/// BENCHMARKS.md "Fifteenth session"); what it adds is the measure of that,
/// `ccpor_write_gate_held_seconds`. On PostgreSQL (row locks) there is no gate.
///
/// Never await the audit writer, or anything else that enters the gate, while holding it.
#[derive(Debug, Clone, Default)]
pub struct WriteGate(Option<Arc<tokio::sync::Mutex<()>>>);

impl WriteGate {
    /// A gate for writers on `backend`: a real one on SQLite, none on PostgreSQL.
    pub fn for_backend(backend: DatabaseBackend) -> WriteGate {
        WriteGate(
            (backend == DatabaseBackend::Sqlite).then(|| Arc::new(tokio::sync::Mutex::new(()))),
        )
    }

    /// Waits for the gate (first come, first served) and holds it until the turn is dropped;
    /// `writer` names who held it, for `ccpor_write_gate_held_seconds`.
    pub async fn enter(&self, writer: &'static str) -> Option<Turn> {
        match &self.0 {
            Some(m) => Some(Turn {
                _guard: m.clone().lock_owned().await,
                writer,
                since: std::time::Instant::now(),
            }),
            None => None,
        }
    }
}

/// A writer's turn at the `WriteGate`, until dropped.
#[derive(Debug)]
pub struct Turn {
    _guard: tokio::sync::OwnedMutexGuard<()>,
    writer: &'static str,
    since: std::time::Instant,
}

impl Drop for Turn {
    fn drop(&mut self) {
        metrics::histogram!("ccpor_write_gate_held_seconds", "writer" => self.writer)
            .record(self.since.elapsed().as_secs_f64());
    }
}

/// A database failure that is the deployment's state, not a bug: told to clients by its own
/// code (`DATABASE_UNAVAILABLE`, `STORAGE_FULL`) instead of `INTERNAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Stopped, restarting, connection cut, no connection within the acquire timeout.
    Unavailable,
    /// No space left for the write (SQLite `SQLITE_FULL`, PostgreSQL `53100 disk_full`).
    Full,
}

/// The fault a SeaORM error stands for, if any.
pub fn fault_of(e: &DbErr) -> Option<Fault> {
    use sea_orm::{ConnAcquireErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            Some(Fault::Unavailable)
        }
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => fault_of_sqlx(s),
        _ => None,
    }
}

/// Whether a statement lost a race with a concurrent transaction and may simply be run again:
/// a unique key taken meanwhile (SQLSTATE 23505, SQLite 2067/1555), a serialization failure
/// (40001) or a deadlock (40P01), which PostgreSQL reports when two instances write the same rows
/// at once.
pub fn lost_race(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    if matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        return true;
    }
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => lost_race_sqlx(s),
        _ => false,
    }
}

/// `lost_race` for an sqlx error met outside sea-orm's wrapping.
pub fn lost_race_sqlx(e: &sea_orm::sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| matches!(c.as_ref(), "40001" | "40P01" | "23505"))
}

/// The fault an sqlx error stands for, if any. PostgreSQL SQLSTATE classes: 08 connection
/// exception, 57P01-57P03 (admin/crash shutdown, cannot connect now), 53 insufficient resources
/// (53100 disk full); SQLite result codes 13 (`SQLITE_FULL`) and 10 (`SQLITE_IOERR`, with the
/// disk full underneath as often as not: reported as full only for `SQLITE_FULL`).
pub fn fault_of_sqlx(e: &sea_orm::sqlx::Error) -> Option<Fault> {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_) => {
            Some(Fault::Unavailable)
        }
        E::Protocol(_) => Some(Fault::Unavailable),
        E::Database(d) => {
            let code = d.code()?;
            let code = code.as_ref();
            if code == "53100" {
                return Some(Fault::Full);
            }
            if code.starts_with("08") || code.starts_with("57P") || code == "53300" {
                return Some(Fault::Unavailable);
            }
            // SQLite reports its extended result code; the primary code is the low byte.
            match code.parse::<i32>().ok().map(|c| c & 0xff) {
                Some(13) => Some(Fault::Full),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Refreshes the planner's statistics. After a bulk load (demo data, an import) PostgreSQL's
/// autovacuum has not yet analyzed the new rows, and with the old estimates the planner chose a
/// sequential scan over every order for each person history (8 ms instead of 0.2 ms at 20k
/// orders; BENCHMARKS.md, throughput). SQLite keeps its statistics the same way.
pub async fn analyze(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("ANALYZE").await.map(|_| ())
}

/// Reachable and fully migrated.
pub async fn is_ready(db: &DatabaseConnection) -> Result<bool, DbErr> {
    db.ping().await?;
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// Tables whose ids are allocated before a batch insert.
#[derive(Debug, Clone, Copy)]
pub enum IdTable {
    Person,
    Order,
}

impl IdTable {
    fn name(self) -> &'static str {
        match self {
            IdTable::Person => "person",
            IdTable::Order => "protective_order",
        }
    }
}

/// Reserves `n` ids for `table`, so a batch can link rows before inserting them. PostgreSQL takes
/// them from the table's sequence; SQLite from `id_counter`, whose UPDATE also takes the write
/// lock first, so concurrent writers serialize instead of failing.
pub async fn allocate_ids<C: ConnectionTrait>(
    conn: &C,
    table: IdTable,
    n: usize,
) -> Result<Vec<i32>, DbErr> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).map_err(|e| DbErr::Custom(e.to_string()))?;
    let backend = conn.get_database_backend();
    match backend {
        DatabaseBackend::Postgres => {
            // The sequence is looked up once (`OFFSET 0` keeps the subquery from being merged
            // into the outer one): `nextval(pg_get_serial_sequence(...))` looked it up in the
            // catalog again for every id, 60 ms for 10,000 ids against 10 ms.
            let sql = format!(
                "SELECT nextval(s.seq) AS id FROM (SELECT pg_get_serial_sequence('{}', 'id')::regclass \
                 AS seq OFFSET 0) AS s, generate_series(1, $1)",
                table.name()
            );
            let rows = conn
                .query_all_raw(Statement::from_sql_and_values(backend, sql, [count.into()]))
                .await?;
            rows.iter()
                .map(|r| {
                    let id: i64 = r.try_get("", "id")?;
                    i32::try_from(id).map_err(|e| DbErr::Custom(e.to_string()))
                })
                .collect()
        }
        _ => {
            let row = conn
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "UPDATE id_counter SET next_value = next_value + ?, updated_at = ? \
                     WHERE name = ? RETURNING next_value",
                    [count.into(), chrono::Utc::now().into(), table.name().into()],
                ))
                .await?
                .ok_or_else(|| DbErr::Custom(format!("no id_counter row for {}", table.name())))?;
            let end: i64 = row.try_get("", "next_value")?;
            let start = end - count;
            (start..end)
                .map(|id| i32::try_from(id).map_err(|e| DbErr::Custom(e.to_string())))
                .collect()
        }
    }
}

/// How often the watcher (`Health::watch`) asks the database whether it answers.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// A ping or connect slower than this has timed out.
const WATCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Looks in a row that must time out before a database that fails no look counts as down: one
/// slow answer is a busy database or a starved process as often as a lost one, and refusing
/// every request for it is the costlier mistake (requests meanwhile wait for a connection, at
/// most `ACQUIRE_TIMEOUT`). A database that is gone fails its look at once (connection refused,
/// closed, reset) and counts as down then.
const TIMEOUTS_TO_DOWN: u32 = 2;

/// What one look at the database found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    Answered,
    /// The ping or connect failed: the database (or the way to it) is gone.
    Failed,
    /// No answer within `WATCH_TIMEOUT`.
    TimedOut,
}

impl Look {
    /// What a ping or connect under `WATCH_TIMEOUT` found, with what it gave when it answered.
    fn of<T, E>(r: Result<Result<T, E>, tokio::time::error::Elapsed>) -> (Look, Option<T>) {
        match r {
            Ok(Ok(t)) => (Look::Answered, Some(t)),
            Ok(Err(_)) => (Look::Failed, None),
            Err(_) => (Look::TimedOut, None),
        }
    }
}

/// The watcher's judgement over successive looks: down on a failed look, or on
/// `TIMEOUTS_TO_DOWN` timed-out looks in a row; up on the first answer.
#[derive(Debug, Default)]
struct Judge {
    timeouts: u32,
}

impl Judge {
    /// Whether the database counts as down after `look`.
    fn down_after(&mut self, look: Look) -> bool {
        match look {
            Look::Answered => {
                self.timeouts = 0;
                false
            }
            Look::Failed => true,
            Look::TimedOut => {
                self.timeouts = self.timeouts.saturating_add(1);
                self.timeouts >= TIMEOUTS_TO_DOWN
            }
        }
    }
}

/// Whether the database answers, as a watcher task with a connection of its own sees it four
/// times a second. While it is down, requests are refused at once with `DATABASE_UNAVAILABLE`
/// instead of each waiting out the pool's `ACQUIRE_TIMEOUT` (and the audit writer's behind it);
/// within a watch interval of its return, requests run again, and the pool reconnects by itself.
/// SQLite (a file beside the server) is never down.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<std::sync::atomic::AtomicBool>);

impl Health {
    /// Whether the last look found the database unreachable.
    pub fn is_down(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Starts the watcher for `url` (PostgreSQL; for SQLite it only returns "up"). Needs a Tokio
    /// runtime; the task ends with the process.
    pub fn watch(url: &str) -> Health {
        let health = Health::default();
        if !url.starts_with("postgres") {
            return health;
        }
        let (url, flag) = (url.to_owned(), health.0.clone());
        tokio::spawn(async move {
            use sea_orm::sqlx::{Connection, PgConnection};
            let mut conn: Option<PgConnection> = None;
            let mut judge = Judge::default();
            loop {
                let look = match conn.as_mut() {
                    Some(c) => Look::of(tokio::time::timeout(WATCH_TIMEOUT, c.ping()).await).0,
                    None => {
                        let (look, c) = Look::of(
                            tokio::time::timeout(WATCH_TIMEOUT, PgConnection::connect(&url)).await,
                        );
                        conn = c;
                        look
                    }
                };
                if look != Look::Answered {
                    conn = None;
                }
                let down = judge.down_after(look);
                if flag.swap(down, Ordering::Relaxed) != down {
                    if down {
                        tracing::warn!("database unreachable: refusing requests until it returns");
                    } else {
                        tracing::info!("database reachable again");
                    }
                } else if look == Look::TimedOut && !down {
                    tracing::warn!(
                        "the database took over {WATCH_TIMEOUT:?} to answer; still serving"
                    );
                }
                tokio::time::sleep(WATCH_EVERY).await;
            }
        });
        health
    }
}

#[cfg(test)]
mod fault_tests {
    use super::*;

    #[test]
    fn one_slow_look_is_not_an_outage_and_a_failed_one_is() {
        let mut judge = Judge::default();
        assert!(!judge.down_after(Look::Answered));
        assert!(!judge.down_after(Look::TimedOut), "one slow answer");
        assert!(!judge.down_after(Look::Answered));
        assert!(!judge.down_after(Look::TimedOut), "the count starts over");
        assert!(judge.down_after(Look::TimedOut), "two in a row");
        assert!(judge.down_after(Look::TimedOut));
        assert!(!judge.down_after(Look::Answered), "up on the first answer");
        assert!(judge.down_after(Look::Failed), "refused: down at once");
        assert!(!judge.down_after(Look::Answered));
    }

    #[test]
    fn unreachable_and_full_are_faults_and_bugs_are_not() {
        use sea_orm::{ConnAcquireErr, RuntimeErr};
        let timeout = DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
        assert_eq!(fault_of(&timeout), Some(Fault::Unavailable));
        let refused =
            sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(fault_of_sqlx(&refused), Some(Fault::Unavailable));
        let wrapped = DbErr::Query(RuntimeErr::SqlxError(Arc::new(refused)));
        assert_eq!(fault_of(&wrapped), Some(Fault::Unavailable));
        assert_eq!(fault_of(&DbErr::Custom("a bug".into())), None);
        assert_eq!(fault_of_sqlx(&sea_orm::sqlx::Error::RowNotFound), None);
        // And the error a client sees.
        assert_eq!(
            crate::error::AppError::from(timeout).code(),
            "DATABASE_UNAVAILABLE"
        );
    }
}

#[cfg(test)]
mod pool_tests {
    use super::*;

    /// SQLite ends a transaction by itself on some errors (`SQLITE_FULL` at `COMMIT`, seen with a
    /// full disk); the driver still counts it open, its rollback on drop then fails, and the
    /// connection went back to the pool counted inside a transaction: the next `BEGIN
    /// IMMEDIATE` on it was refused, and a transaction begun and dropped on it left a real one
    /// open, pinning an old snapshot (a person just written read as missing).
    #[tokio::test]
    async fn a_connection_the_database_took_out_of_its_transaction_is_not_pooled_again() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let (db, _) = connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        for round in 0..20 {
            // What the full disk did: the transaction ends under the driver.
            let txn = begin_write(&db).await.unwrap();
            txn.execute_unprepared("ROLLBACK").await.unwrap();
            drop(txn);
            // A read-only transaction, dropped: on a miscounted connection it left one open.
            let read = db.begin().await.unwrap();
            read.query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "SELECT COUNT(*) FROM t",
            ))
            .await
            .unwrap();
            drop(read);
            let txn = begin_write(&db)
                .await
                .unwrap_or_else(|e| panic!("round {round}: BEGIN IMMEDIATE refused: {e}"));
            txn.execute_unprepared("INSERT INTO t (v) VALUES (1)")
                .await
                .unwrap();
            txn.commit().await.unwrap();
            // Written by another connection, seen by every pooled one.
            let (other, _) = connect(&url).await.unwrap();
            other
                .execute_unprepared("INSERT INTO t (v) VALUES (2)")
                .await
                .unwrap();
            other.close().await.unwrap();
            for _ in 0..8 {
                let n: i64 = db
                    .query_one_raw(Statement::from_string(
                        DatabaseBackend::Sqlite,
                        "SELECT COUNT(*) AS n FROM t",
                    ))
                    .await
                    .unwrap()
                    .unwrap()
                    .try_get("", "n")
                    .unwrap();
                assert_eq!(n, 2 * (round + 1), "round {round}: a stale snapshot");
            }
        }
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    /// Writers on SQLite take turns: the second waits at the gate, not in SQLite, until the
    /// first's turn ends. PostgreSQL has none.
    #[tokio::test]
    async fn sqlite_writers_take_turns_and_postgres_has_no_gate() {
        let gate = WriteGate::for_backend(DatabaseBackend::Sqlite);
        let first = gate.enter("test").await;
        assert!(first.is_some());
        let waiting = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter("test").await.is_some() })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "entered while the gate was held");
        drop(first);
        assert!(waiting.await.unwrap());
        let none = WriteGate::for_backend(DatabaseBackend::Postgres);
        let (a, b) = (none.enter("test").await, none.enter("test").await);
        assert!(a.is_none() && b.is_none());
    }
}
