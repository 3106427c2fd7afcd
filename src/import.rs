//! NDJSON import: one `createOrder` input per line, parsed (`graphql::import_adapter`) and
//! validated exactly like the mutation; or a feed message per line (`feed::message`), taken as
//! `POST /feeds/v1/messages` takes it (its `messageId` makes it idempotent; a plain line's key is
//! its content, `line_key`). Good lines are stored in batched transactions; a bad line
//! is reported with its number and costs only itself. Each stored line leaves its key
//! (`line_key`) in the same transaction, so re-running a file stores nothing twice.
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::BufRead;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use entities::import_key;
use indicatif::ProgressBar;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use tokio::task::JoinHandle;

use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::graphql::import_adapter;
use crate::service::model::NewOrder;
use crate::service::orders::insert_chunked;
use crate::service::refs::Refs;
use crate::service::validate;

/// Why a line was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    /// Input field path, when one field is at fault.
    pub field: Option<String>,
    pub message: String,
}

/// Outcome of an import.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Non-blank lines read.
    pub lines: usize,
    pub imported: usize,
    /// Lines an earlier run (or an earlier identical line) already stored: skipped.
    pub already_present: usize,
    /// Feed messages waiting for their predecessor in `sequence`.
    pub deferred: usize,
    pub rejected: Vec<LineError>,
}

fn line_error(line: usize, e: AppError) -> LineError {
    match e {
        AppError::Validation(inv) => LineError {
            line,
            field: (!inv.field.is_empty()).then_some(inv.field),
            message: inv.message,
        },
        AppError::Internal(inner) => {
            tracing::error!(line, error = %inner, "import line failed");
            LineError {
                line,
                field: None,
                message: "internal error".to_owned(),
            }
        }
        other => LineError {
            line,
            field: None,
            message: other.to_string(),
        },
    }
}

/// Parses one line into a validated order.
pub fn parse_line(text: &str, refs: &Refs) -> AppResult<NewOrder> {
    let input = import_adapter::create_order(text)?;
    let mut order = validate::create_order(&input, refs, time::now())?;
    order.channel = crate::domain::codes::Channel::Import;
    Ok(order)
}

/// One read line on its way to the store: its number, its text, and the order or why not.
struct Line {
    number: usize,
    text: String,
    parsed: Result<NewOrder, LineError>,
}

/// What storing one batch did.
#[derive(Default)]
struct BatchOutcome {
    stored: usize,
    present: usize,
    rejected: Vec<LineError>,
}

/// The import key of a line: the lower-case hex SHA-256 of its bytes, surrounding whitespace
/// trimmed. A byte-identical line maps to the same key (so it is stored once however often it is
/// sent); two different lines cannot collide. A natural key (court, case number, form, issue
/// time) would also merge two different lines that share it, which is a correction's business,
/// not a re-run's. The guarantee is for re-sending the same file: a line re-serialized with other
/// spacing or key order is another line.
pub fn line_key(line: &str) -> String {
    hex::encode(line_digest(line))
}

/// A line's SHA-256 as stored in `import_key`: [`line_key`]'s bytes (half the index of the hex).
pub type LineDigest = [u8; 32];

/// The bytes of [`line_key`].
pub fn line_digest(line: &str) -> LineDigest {
    Sha256::digest(line.trim().as_bytes()).into()
}

/// Keys per lookup statement: well under SQLite's and PostgreSQL's bound-parameter limits, and
/// above the default batch size, so a batch costs one lookup.
const KEYS_PER_LOOKUP: usize = 5000;

/// Which of `keys` are already stored.
async fn stored_keys<C: ConnectionTrait>(
    conn: &C,
    keys: &[&LineDigest],
) -> AppResult<HashSet<Vec<u8>>> {
    let mut found = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        let rows: Vec<Vec<u8>> = import_key::Entity::find()
            .select_only()
            .column(import_key::Column::Key)
            .filter(import_key::Column::Key.is_in(chunk.iter().map(|k| k.to_vec())))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Stores `orders` with their import keys, in the caller's transaction.
async fn insert_with_keys<C: ConnectionTrait>(
    conn: &C,
    orders: Vec<NewOrder>,
    keys: &[&LineDigest],
) -> AppResult<()> {
    let ids = crate::service::batch_write::insert(conn, orders).await?;
    let now = chrono::Utc::now();
    let rows = keys
        .iter()
        .zip(ids)
        .map(|(key, order_id)| import_key::ActiveModel {
            key: Set(key.to_vec()),
            order_id: Set(order_id),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .collect();
    insert_chunked(conn, rows).await
}

/// Stores one order alone, unless its key is already there. `Ok(true)` when stored.
async fn store_one(db: &DatabaseConnection, key: &LineDigest, order: &NewOrder) -> AppResult<bool> {
    let txn = crate::db::begin_write(db).await?;
    if !stored_keys(&txn, &[key]).await?.is_empty() {
        txn.rollback().await?;
        return Ok(false);
    }
    match insert_with_keys(&txn, vec![order.clone()], &[key]).await {
        Ok(()) => {
            txn.commit().await?;
            Ok(true)
        }
        Err(e) => {
            txn.rollback().await?;
            Err(e)
        }
    }
}

/// Stores a batch in one transaction, skipping the lines already stored (one lookup for the
/// batch, inside the transaction); if the insert fails, stores each order alone so only the bad
/// ones are rejected. A line that repeats an earlier line of the batch counts as present when
/// that line was stored.
async fn store_batch(
    db: DatabaseConnection,
    batch: Vec<Line>,
    commits: Option<Arc<AtomicU64>>,
) -> AppResult<BatchOutcome> {
    let mut out = BatchOutcome::default();
    // Hashed here, beside the parsing of the next batch rather than in its way.
    let hashed: Vec<LineDigest> = batch.iter().map(|l| line_digest(&l.text)).collect();
    let keys: Vec<&LineDigest> = hashed.iter().collect();
    let txn = crate::db::begin_write(&db).await?;
    if commits.is_some() {
        // SQLite: the checkpointer beside the import copies the log back (`import_ndjson`); a
        // batch's commit would otherwise do it on the one writer's path, at every 1,000 pages.
        txn.execute_unprepared(crate::checkpoint::WRITER_AUTOCHECKPOINT)
            .await?;
    }
    let present = stored_keys(&txn, &keys).await?;
    // First line of each new key, by key; later lines with that key wait for its fate.
    let mut first: HashMap<&LineDigest, usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut todo: Vec<(usize, &LineDigest, &NewOrder)> = Vec::new();
    for (line, &key) in batch.iter().zip(&keys) {
        if present.contains(key.as_slice()) {
            out.present += 1;
            continue;
        }
        match &line.parsed {
            Err(e) => out.rejected.push(e.clone()),
            Ok(order) => match first.get(key) {
                Some(&earlier) => repeats.push((line.number, earlier)),
                None => {
                    first.insert(key, line.number);
                    todo.push((line.number, key, order));
                }
            },
        }
    }
    let orders: Vec<NewOrder> = todo.iter().map(|(_, _, o)| (*o).clone()).collect();
    let todo_keys: Vec<&LineDigest> = todo.iter().map(|(_, k, _)| *k).collect();
    let mut failed: HashSet<usize> = HashSet::new();
    let count = orders.len();
    if orders.is_empty() || insert_with_keys(&txn, orders, &todo_keys).await.is_ok() {
        txn.commit().await?;
        if let Some(c) = &commits {
            c.fetch_add(1, Ordering::Relaxed);
        }
        out.stored = count;
    } else {
        txn.rollback().await?;
        for (number, key, order) in &todo {
            match store_one(&db, key, order).await {
                Ok(true) => out.stored += 1,
                Ok(false) => out.present += 1,
                Err(e) => {
                    failed.insert(*number);
                    out.rejected.push(line_error(*number, e));
                }
            }
        }
    }
    for (number, earlier) in repeats {
        if failed.contains(&earlier) {
            out.rejected.push(LineError {
                line: number,
                field: None,
                message: format!("same as line {earlier}, which was rejected"),
            });
        } else {
            out.present += 1;
        }
    }
    Ok(out)
}

/// Feed message lines, as the feed endpoint takes a batch of them (the court is each
/// message's): runs of new chains' ISSUEs in one transaction, the rest one by one.
async fn take_messages(
    db: &DatabaseConnection,
    refs: &Refs,
    lines: &mut Vec<(usize, String)>,
    report: &mut ImportReport,
) -> AppResult<()> {
    use crate::feed::{Feed, Sender, Status};
    if lines.is_empty() {
        return Ok(());
    }
    let sender = Sender {
        court: None,
        channel: crate::domain::codes::Channel::Import,
    };
    let feed = Feed {
        db,
        refs,
        sender: &sender,
    };
    let (numbers, texts): (Vec<usize>, Vec<String>) = std::mem::take(lines).into_iter().unzip();
    for (number, taken) in numbers.into_iter().zip(feed.take_all(&texts).await) {
        let outcome = taken?;
        match outcome.ack.status {
            Status::Accepted => report.imported += 1,
            Status::Duplicate => report.already_present += 1,
            Status::Deferred => report.deferred += 1,
            Status::Rejected => {
                for e in outcome.ack.errors {
                    report.rejected.push(LineError {
                        line: number,
                        field: (!e.path.is_empty()).then_some(e.path),
                        message: e.message,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Message lines taken together (`Feed::take_all`'s run).
const MESSAGES_AT_ONCE: usize = 1_000;

type InFlight = VecDeque<JoinHandle<AppResult<BatchOutcome>>>;

async fn finish_one(
    in_flight: &mut InFlight,
    report: &mut ImportReport,
    progress: Option<&ProgressBar>,
) -> AppResult<()> {
    if let Some(handle) = in_flight.pop_front() {
        let out = handle.await.map_err(|e| {
            AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(
                "import batch task failed: {e}"
            )))
        })??;
        report.imported += out.stored;
        report.already_present += out.present;
        report.rejected.extend(out.rejected);
        if let Some(p) = progress {
            p.set_position((report.imported + report.already_present) as u64);
        }
    }
    Ok(())
}

/// Orders per transaction when the caller names no size: the first batch's.
pub const FIRST_BATCH: usize = 5_000;

/// SQLite's largest default batch. At statewide size the name, case-number and import-key
/// indexes take their inserts all over their B-trees; a larger transaction writes each page it
/// touches to the log once for more of its rows (1,000,000 random-name orders: 7,400 orders/s
/// in batches of 5,000, 10,400 in 20,000 and 11,600 in 50,000; BENCHMARKS.md).
pub const SQLITE_LARGEST_BATCH: usize = 40_000;

/// How many orders each transaction of an import takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchSize {
    /// This many, every batch.
    Fixed(usize),
    /// The backend's: on SQLite [`FIRST_BATCH`], doubling up to [`SQLITE_LARGEST_BATCH`] (the
    /// first batches small, so that storing starts while the next is parsed); on PostgreSQL
    /// [`FIRST_BATCH`] (three batches go side by side, and larger ones gained nothing).
    Default,
}

impl BatchSize {
    /// The sizes of the batches in turn.
    fn sizes(self, sqlite: bool) -> impl Iterator<Item = usize> {
        let (first, largest) = match self {
            BatchSize::Fixed(n) => (n.max(1), n.max(1)),
            BatchSize::Default if sqlite => (FIRST_BATCH, SQLITE_LARGEST_BATCH),
            BatchSize::Default => (FIRST_BATCH, FIRST_BATCH),
        };
        std::iter::successors(Some(first), move |n| Some(n.saturating_mul(2).min(largest)))
    }
}

/// Imports every line of `reader`. Parsing the next batch overlaps storing the previous one.
pub async fn import_ndjson<R: BufRead>(
    db: &DatabaseConnection,
    reader: R,
    batch_size: BatchSize,
    progress: Option<&ProgressBar>,
) -> AppResult<ImportReport> {
    let refs = Refs::load(db).await?;
    // SQLite has one writer at a time. PostgreSQL takes batches side by side: each waits on its
    // round trips, most with TLS (three: 7,300 orders/s against 6,800 with two; BENCHMARKS.md).
    let sqlite = db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite;
    let mut sizes = batch_size.sizes(sqlite);
    let mut batch_size = sizes.next().unwrap_or(FIRST_BATCH);
    let depth = if sqlite { 1 } else { 3 };
    // SQLite: the write-ahead log is checkpointed beside the import, on another connection
    // (and core), not by each batch's commit (about a fifth more orders a second).
    let commits = sqlite.then(|| Arc::new(AtomicU64::new(0)));
    // Stops with the import, however it ends.
    let _checkpointer = commits.as_ref().map(|c| {
        crate::checkpoint::spawn(db.clone(), c.clone(), crate::space::Space::default()).drop_guard()
    });
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut in_flight: InFlight = VecDeque::new();
    let mut messages: Vec<(usize, String)> = Vec::new();
    let mut lines = reader.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let number = i + 1;
        match line {
            Err(e) => {
                report.lines += 1;
                report.rejected.push(LineError {
                    line: number,
                    field: None,
                    message: format!("unreadable line: {e}"),
                });
            }
            Ok(text) if text.trim().is_empty() => {}
            Ok(text) if crate::feed::message::is_message(&text) => {
                report.lines += 1;
                // In file order: what is queued goes first.
                if !batch.is_empty() {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    in_flight.push_back(tokio::spawn(store_batch(
                        db.clone(),
                        full,
                        commits.clone(),
                    )));
                }
                while !in_flight.is_empty() {
                    finish_one(&mut in_flight, &mut report, progress).await?;
                }
                messages.push((number, text));
                if messages.len() >= MESSAGES_AT_ONCE {
                    take_messages(db, &refs, &mut messages, &mut report).await?;
                    if let Some(p) = progress {
                        p.set_position((report.imported + report.already_present) as u64);
                    }
                }
            }
            Ok(text) => {
                report.lines += 1;
                take_messages(db, &refs, &mut messages, &mut report).await?;
                // A rejected line goes to the store too: if an earlier run stored it (and
                // today's validation refuses it, say an expiry now past), it is present.
                batch.push(Line {
                    number,
                    parsed: parse_line(&text, &refs).map_err(|e| line_error(number, e)),
                    text,
                });
            }
        }
        if batch.len() >= batch_size || (lines.peek().is_none() && !batch.is_empty()) {
            while in_flight.len() >= depth {
                finish_one(&mut in_flight, &mut report, progress).await?;
            }
            batch_size = sizes.next().unwrap_or(batch_size);
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            in_flight.push_back(tokio::spawn(store_batch(db.clone(), full, commits.clone())));
        }
    }
    while !in_flight.is_empty() {
        finish_one(&mut in_flight, &mut report, progress).await?;
    }
    take_messages(db, &refs, &mut messages, &mut report).await?;
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::line_key;

    #[test]
    fn sqlite_batches_grow_to_their_largest_and_a_named_size_is_kept() {
        use super::{BatchSize, FIRST_BATCH, SQLITE_LARGEST_BATCH};
        let sqlite: Vec<usize> = BatchSize::Default.sizes(true).take(6).collect();
        assert_eq!(sqlite, [5_000, 10_000, 20_000, 40_000, 40_000, 40_000]);
        assert_eq!(sqlite[0], FIRST_BATCH);
        assert_eq!(sqlite[5], SQLITE_LARGEST_BATCH);
        let pg: Vec<usize> = BatchSize::Default.sizes(false).take(3).collect();
        assert_eq!(pg, [FIRST_BATCH; 3]);
        let fixed: Vec<usize> = BatchSize::Fixed(10).sizes(true).take(3).collect();
        assert_eq!(fixed, [10, 10, 10]);
        assert_eq!(BatchSize::Fixed(0).sizes(false).next(), Some(1));
    }

    #[test]
    fn the_key_is_the_lines_sha256_and_tells_lines_apart() {
        let a = r#"{"caseNumber":"26FL000001"}"#;
        assert_eq!(line_key(a), line_key(&format!("  {a}\r")));
        assert_ne!(line_key(a), line_key(r#"{"caseNumber":"26FL000002"}"#));
        // What `import_key` stores: the same hash as bytes.
        assert_eq!(hex::encode(super::line_digest(a)), line_key(a));
        assert_eq!(
            line_key(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
