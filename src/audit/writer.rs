//! Group commit for the audit log. Every data request waits for its row to be committed before
//! it is answered (CJIS AU-5: fail closed), and every append takes the chain's head row, so one
//! transaction per request would make the head row the whole server's bottleneck. The writer
//! task takes whatever rows are waiting (up to `max_batch`), appends them in one transaction and
//! answers each request; under load a transaction carries many requests' rows, idle it carries
//! one, and nobody waits for a timer. On PostgreSQL a batch is one statement while no other
//! instance appends in between (`appender`).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};

use crate::audit::anchor::{ANCHOR_EVERY, Anchor};
use crate::audit::appender::{Appender, Path};
use crate::audit::chain::{AuditRecord, Head};
use crate::db::WriteGate;
use crate::error::{AppError, AppResult};

/// Rows per transaction at most on `backend`. PostgreSQL binds a batch as one array a column
/// (`appender`), whatever its rows, and each transaction waits for its commit to reach the
/// disk: under the transmitter's load (two rows a message) 256 rows a transaction made the
/// writer the pass's longest wait (BENCHMARKS.md, "CARPOS passes sized by backend"). SQLite
/// binds 16 parameters a row, far below its limit at 256.
fn max_batch(backend: DatabaseBackend) -> usize {
    match backend {
        DatabaseBackend::Postgres => 1024,
        _ => 256,
    }
}
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
    /// Starts the writer on `db` (needs a Tokio runtime), without an anchor.
    pub fn spawn(db: DatabaseConnection) -> AuditWriter {
        let gate = WriteGate::for_backend(db.get_database_backend());
        AuditWriter::spawn_anchored(db, None, crate::space::Space::default(), gate)
    }

    /// Starts the writer on `db`, keeping the chain's head signed in `anchor` (at most
    /// `ANCHOR_EVERY` behind; `anchor` module); its SQLite checkpoints pause while `space` says
    /// the disk is full. Each batch goes in through `gate`, shared with the server's other
    /// background writers.
    pub fn spawn_anchored(
        db: DatabaseConnection,
        anchor: Option<Anchor>,
        space: crate::space::Space,
        gate: WriteGate,
    ) -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE);
        let batches = Arc::new(AtomicU64::new(0));
        let checkpointer = (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| crate::checkpoint::spawn(db.clone(), batches.clone(), space.clone()));
        let most = max_batch(db.get_database_backend());
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(most);
            let mut appender = Appender::with_space(db, space.clone());
            let mut anchoring = anchor.map(Anchoring::new);
            loop {
                let wait = anchoring.as_ref().and_then(Anchoring::due_in);
                let received = match wait {
                    None => rx.recv_many(&mut batch, most).await,
                    // `recv_many` is cancel safe: nothing is lost when the wait runs out.
                    Some(wait) => {
                        match tokio::time::timeout(wait, rx.recv_many(&mut batch, most)).await {
                            Ok(n) => n,
                            Err(_) => {
                                if let Some(a) = &mut anchoring {
                                    a.write();
                                }
                                continue;
                            }
                        }
                    }
                };
                if received == 0 {
                    break;
                }
                let (recs, replies): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                let result = {
                    let _turn = gate.enter("audit").await;
                    appender.append(recs).await
                };
                batches.fetch_add(1, Ordering::Relaxed);
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
                if let (Ok(_), Some(a), Some(head)) = (&result, &mut anchoring, appender.head()) {
                    a.appended(head.clone());
                }
            }
            if let Some(a) = anchoring {
                a.finish().await;
            }
            appender.close().await;
            if let Some(stop) = checkpointer {
                stop.cancel();
            }
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

    /// Appends `recs` and returns once all are committed: queued together, so the writer takes
    /// them in as few transactions as `max_batch` allows. An error means some may not be
    /// recorded, and the caller must not act on any of them.
    pub async fn append_all(&self, recs: Vec<AuditRecord>) -> AppResult<()> {
        let mut answers = Vec::with_capacity(recs.len());
        for rec in recs {
            let (reply, answer) = oneshot::channel();
            self.tx.send((rec, reply)).await.map_err(|_| stopped())?;
            answers.push(answer);
        }
        for answer in answers {
            answer.await.map_err(|_| stopped())??;
        }
        Ok(())
    }
}

/// The writer's side of the anchor: the head to sign next, when it last signed one, and the
/// signing still under way (a file write and `fsync` on the blocking pool, which no batch waits
/// for).
struct Anchoring {
    anchor: Anchor,
    pending: Option<Head>,
    written_at: Option<tokio::time::Instant>,
    in_flight: Option<tokio::task::JoinHandle<()>>,
}

impl Anchoring {
    fn new(anchor: Anchor) -> Anchoring {
        Anchoring {
            anchor,
            pending: None,
            written_at: None,
            in_flight: None,
        }
    }

    /// How long until a pending head is due to be signed; `None` when none is pending.
    fn due_in(&self) -> Option<Duration> {
        self.pending.as_ref()?;
        Some(
            self.written_at
                .map_or(Duration::ZERO, |t| ANCHOR_EVERY.saturating_sub(t.elapsed())),
        )
    }

    /// A batch moved the head to `head`: signed now if the last checkpoint is old enough, else
    /// when it is.
    fn appended(&mut self, head: Head) {
        self.pending = Some(head);
        if self.due_in() == Some(Duration::ZERO) {
            self.write();
        }
    }

    /// Starts signing the pending head, unless the last signing is still under way (then the
    /// head stays pending, for the next tick): checkpoints are written in order.
    fn write(&mut self) {
        if self.in_flight.as_ref().is_some_and(|h| !h.is_finished()) {
            self.written_at = Some(tokio::time::Instant::now());
            return;
        }
        let Some(head) = self.pending.take() else {
            return;
        };
        self.written_at = Some(tokio::time::Instant::now());
        let anchor = self.anchor.clone();
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            match anchor.write(&head) {
                Ok(()) => metrics::counter!("ccpor_audit_anchors_total").increment(1),
                Err(e) => tracing::error!(error = %e, "writing the audit anchor checkpoint"),
            }
        }));
    }

    /// At shutdown: the signing under way, then the last head.
    async fn finish(mut self) {
        if let Some(h) = self.in_flight.take() {
            let _ = h.await;
        }
        self.write();
        if let Some(h) = self.in_flight.take() {
            let _ = h.await;
        }
    }
}
