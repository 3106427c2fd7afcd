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

/// Bytes of SQLite write-ahead log kept when the log starts over after a checkpoint.
pub const WAL_SIZE_LIMIT: u64 = 64 * 1024 * 1024;

/// Opens a pool for `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str) -> Result<(DatabaseConnection, SqlStats), DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
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
        });
    if url.starts_with("sqlite") {
        opts.max_connections(8);
    } else {
        opts.max_connections(16);
    }
    let mut db = Database::connect(opts).await?;
    let stats = SqlStats::default();
    let counter = stats.0.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    Ok((db, stats))
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
            let sql = format!(
                "SELECT nextval(pg_get_serial_sequence('{}', 'id')) AS id FROM generate_series(1, $1)",
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
