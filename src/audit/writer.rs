//! Group commit for the audit log. Every data request waits for its row to be committed before
//! it is answered (CJIS AU-5: fail closed), and every append takes the chain's head row, so one
//! transaction per request would make the head row the whole server's bottleneck. The writer
//! task takes whatever rows are waiting (up to `MAX_BATCH`), appends them in one transaction and
//! answers each request; under load a transaction carries many requests' rows, idle it carries
//! one, and nobody waits for a timer. On PostgreSQL a batch is one statement while no other
//! instance appends in between (`appender`).
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::audit::appender::{Appender, Path};
use crate::audit::chain::AuditRecord;
use crate::error::{AppError, AppResult};

/// Rows per transaction at most (16 columns each stays far below every bind-parameter limit).
const MAX_BATCH: usize = 256;
/// Requests that may wait for the writer before senders wait for room.
const QUEUE: usize = 4096;

type Pending = (AuditRecord, oneshot::Sender<AppResult<i64>>);

/// A cheap handle on the process's audit writer.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    tx: mpsc::Sender<Pending>,
}

fn stopped() -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(
        "the audit writer has stopped"
    )))
}

impl AuditWriter {
    /// Starts the writer on `db` (needs a Tokio runtime).
    pub fn spawn(db: DatabaseConnection) -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            let mut appender = Appender::new(db);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                let (recs, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                let result = appender.append(recs).await;
                match &result {
                    Ok((_, path)) => {
                        let path = match path {
                            Path::OneStatement => "one_statement",
                            Path::Locked => "locked",
                        };
                        metrics::counter!("ccpor_audit_batches_total", "path" => path).increment(1);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, rows = replies.len(), "audit append failed");
                    }
                }
                let result = result.map(|(first, _)| first);
                metrics::histogram!("ccpor_audit_batch_rows").record(replies.len() as f64);
                for (i, reply) in (0_i64..).zip(replies) {
                    let _ = reply.send(result.clone().map(|first| first + i));
                }
            }
            appender.close().await;
        });
        AuditWriter { tx }
    }

    /// Appends `rec` and returns its sequence number once it is committed. An error means it
    /// was not recorded, and the caller must refuse the request.
    pub async fn append(&self, rec: AuditRecord) -> AppResult<i64> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((rec, reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}
