//! NDJSON import: one `createOrder` input per line, parsed and validated exactly like the
//! mutation. Good lines are stored in batched transactions; a bad line is reported with its
//! number and costs only itself.
use std::io::BufRead;

use async_graphql::InputType;
use indicatif::ProgressBar;
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::graphql::inputs::CreateOrderInput;
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
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| AppError::invalid("", format!("not JSON: {e}")))?;
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| AppError::invalid("", format!("not a createOrder input: {e}")))?;
    let input = CreateOrderInput::parse(Some(value)).map_err(|e| {
        let err = e.into_server_error(Default::default());
        AppError::invalid("", format!("not a createOrder input: {}", err.message))
    })?;
    Ok(validate::create_order(&input, refs, time::now())?)
}

/// Stores a batch in one transaction; if that fails, stores each order alone so only the bad
/// ones are rejected.
async fn flush(
    db: &DatabaseConnection,
    batch: &mut Vec<(usize, NewOrder)>,
    report: &mut ImportReport,
) -> AppResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let orders: Vec<NewOrder> = batch.iter().map(|(_, o)| o.clone()).collect();
    let txn = db.begin().await?;
    match insert_batch(&txn, &orders).await {
        Ok(_) => {
            txn.commit().await?;
            report.imported += orders.len();
        }
        Err(_) => {
            txn.rollback().await?;
            for (line, order) in batch.iter() {
                let txn = db.begin().await?;
                match insert_batch(&txn, std::slice::from_ref(order)).await {
                    Ok(_) => {
                        txn.commit().await?;
                        report.imported += 1;
                    }
                    Err(e) => {
                        txn.rollback().await?;
                        report.rejected.push(line_error(*line, e));
                    }
                }
            }
        }
    }
    batch.clear();
    Ok(())
}

/// Imports every line of `reader`.
pub async fn import_ndjson<R: BufRead>(
    db: &DatabaseConnection,
    reader: R,
    batch_size: usize,
    progress: Option<&ProgressBar>,
) -> AppResult<ImportReport> {
    let refs = Refs::load(db).await?;
    let batch_size = batch_size.max(1);
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(batch_size);
    for (i, line) in reader.lines().enumerate() {
        let number = i + 1;
        let text = match line {
            Ok(t) => t,
            Err(e) => {
                report.lines += 1;
                report.rejected.push(LineError {
                    line: number,
                    field: None,
                    message: format!("unreadable line: {e}"),
                });
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        report.lines += 1;
        match parse_line(&text, &refs) {
            Ok(order) => batch.push((number, order)),
            Err(e) => report.rejected.push(line_error(number, e)),
        }
        if batch.len() >= batch_size {
            flush(db, &mut batch, &mut report).await?;
            if let Some(p) = progress {
                p.set_position(report.imported as u64);
            }
        }
    }
    flush(db, &mut batch, &mut report).await?;
    report.rejected.sort_by_key(|e| e.line);
    Ok(report)
}
