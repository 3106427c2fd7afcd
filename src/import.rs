//! NDJSON import: one `createOrder` input per line, parsed (`graphql::import_adapter`) and
//! validated exactly like the mutation. Good lines are stored in batched transactions; a bad line
//! is reported with its number and costs only itself.
use std::collections::VecDeque;
use std::io::BufRead;

use indicatif::ProgressBar;
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::graphql::import_adapter;
use crate::service::model::NewOrder;
use crate::service::orders::insert_batch;
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
    Ok(validate::create_order(&input, refs, time::now())?)
}

/// Stores a batch in one transaction; if that fails, stores each order alone so only the bad
/// ones are rejected. Returns the number stored and the rejected lines.
async fn store_batch(
    db: DatabaseConnection,
    batch: Vec<(usize, NewOrder)>,
) -> AppResult<(usize, Vec<LineError>)> {
    let orders: Vec<NewOrder> = batch.iter().map(|(_, o)| o.clone()).collect();
    let txn = crate::db::begin_write(&db).await?;
    if insert_batch(&txn, &orders).await.is_ok() {
        txn.commit().await?;
        return Ok((orders.len(), Vec::new()));
    }
    txn.rollback().await?;
    let mut stored = 0;
    let mut rejected = Vec::new();
    for (line, order) in &batch {
        let txn = crate::db::begin_write(&db).await?;
        match insert_batch(&txn, std::slice::from_ref(order)).await {
            Ok(_) => {
                txn.commit().await?;
                stored += 1;
            }
            Err(e) => {
                txn.rollback().await?;
                rejected.push(line_error(*line, e));
            }
        }
    }
    Ok((stored, rejected))
}

type InFlight = VecDeque<JoinHandle<AppResult<(usize, Vec<LineError>)>>>;

async fn finish_one(
    in_flight: &mut InFlight,
    report: &mut ImportReport,
    progress: Option<&ProgressBar>,
) -> AppResult<()> {
    if let Some(handle) = in_flight.pop_front() {
        let (stored, rejected) = handle.await.map_err(|e| {
            AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(
                "import batch task failed: {e}"
            )))
        })??;
        report.imported += stored;
        report.rejected.extend(rejected);
        if let Some(p) = progress {
            p.set_position(report.imported as u64);
        }
    }
    Ok(())
}

/// Imports every line of `reader`. Parsing the next batch overlaps storing the previous one.
pub async fn import_ndjson<R: BufRead>(
    db: &DatabaseConnection,
    reader: R,
    batch_size: usize,
    progress: Option<&ProgressBar>,
) -> AppResult<ImportReport> {
    let refs = Refs::load(db).await?;
    let batch_size = batch_size.max(1);
    // SQLite has one writer at a time; PostgreSQL takes two batches side by side.
    let depth = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => 1,
        _ => 2,
    };
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(batch_size);
    let mut in_flight: InFlight = VecDeque::new();
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
            Ok(text) => {
                report.lines += 1;
                match parse_line(&text, &refs) {
                    Ok(order) => batch.push((number, order)),
                    Err(e) => report.rejected.push(line_error(number, e)),
                }
            }
        }
        if batch.len() >= batch_size || (lines.peek().is_none() && !batch.is_empty()) {
            while in_flight.len() >= depth {
                finish_one(&mut in_flight, &mut report, progress).await?;
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
            in_flight.push_back(tokio::spawn(store_batch(db.clone(), full)));
        }
    }
    while !in_flight.is_empty() {
        finish_one(&mut in_flight, &mut report, progress).await?;
    }
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}
