//! Group commit for the audit log. Every data request waits for its row to be committed before
//! it is answered (CJIS AU-5: fail closed), and every append takes the chain's head row, so one
//! transaction per request would make the head row the whole server's bottleneck. The writer
//! task takes whatever rows are waiting (up to `MAX_BATCH`), appends them in one transaction and
//! answers each request; under load a transaction carries many requests' rows, idle it carries
//! one, and nobody waits for a timer. On PostgreSQL a batch is one statement while no other
//! instance appends in between (`appender`).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::audit::anchor::{ANCHOR_EVERY, Anchor};
use crate::audit::appender::{Appender, Path};
use crate::audit::chain::{AuditRecord, Head};
use crate::error::{AppError, AppResult};

/// Rows per transaction at most (16 columns each stays far below every bind-parameter limit).
const MAX_BATCH: usize = 256;
/// Requests that may wait for the writer before senders wait for room.
const QUEUE: usize = 4096;
/// SQLite: how often the write-ahead log is copied back into the database
/// (`spawn_checkpointer`). Often, so each `fsync` of the log has little to write: the writer's
/// next frame shares a page with the last one, and writing to a page under writeback waits for
/// it (appends of 24 bytes seen taking 4 ms). p99 at 50 clients on a 60k copy: 500 ms, 24–418
/// ms; 100 ms, 9–12 ms; 50 ms, 6.2–6.9 ms; 25 ms, 4.6–5.0 ms, at the same throughput.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(25);

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
        AuditWriter::spawn_anchored(db, None)
    }

    /// Starts the writer on `db`, keeping the chain's head signed in `anchor` (at most
    /// `ANCHOR_EVERY` behind; `anchor` module).
    pub fn spawn_anchored(db: DatabaseConnection, anchor: Option<Anchor>) -> AuditWriter {
        let (tx, mut rx) = mpsc::channel::<Pending>(QUEUE);
        let batches = Arc::new(AtomicU64::new(0));
        let checkpointer = (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| spawn_checkpointer(db.clone(), batches.clone()));
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            let mut appender = Appender::new(db);
            let mut anchoring = anchor.map(Anchoring::new);
            loop {
                let wait = anchoring.as_ref().and_then(Anchoring::due_in);
                let received = match wait {
                    None => rx.recv_many(&mut batch, MAX_BATCH).await,
                    // `recv_many` is cancel safe: nothing is lost when the wait runs out.
                    Some(wait) => {
                        match tokio::time::timeout(wait, rx.recv_many(&mut batch, MAX_BATCH)).await
                        {
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
                let result = appender.append(recs).await;
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
    /// them in as few transactions as `MAX_BATCH` allows. An error means some may not be
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

/// SQLite checkpoints the write-ahead log into the database on the connection whose commit
/// fills it, by default: that is the appender's, so every thousandth page or so a batch waited
/// for the copy and its `fsync`s (up to 28 ms seen), and with it every request in the batch and
/// all those queued behind it. This task runs a passive checkpoint (it waits for nobody, and
/// writers go on meanwhile) on a pooled connection every `CHECKPOINT_EVERY`, so a page rewritten
/// by many batches in between is copied once and off the appender's path; the appender's own
/// connection checkpoints only every few thousand pages, to let the log start over
/// (`appender::AUTOCHECKPOINT`), and finds little left to copy. An idle server is left alone:
/// a tick is skipped when the writer has appended no batch (`batches` counts them) since a
/// checkpoint that copied the whole log.
fn spawn_checkpointer(db: DatabaseConnection, batches: Arc<AtomicU64>) -> CancellationToken {
    const WARN_EVERY: Duration = Duration::from_secs(10);
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut due = Due::default();
        let mut last_warned = None;
        loop {
            tokio::select! {
                () = stopped.cancelled() => break,
                _ = every.tick() => {}
            }
            // Read before checkpointing, so a batch during the checkpoint brings another.
            if !due.at(batches.load(Ordering::Relaxed)) {
                continue;
            }
            let stmt = sea_orm::Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA wal_checkpoint(PASSIVE)",
            );
            match db.query_one_raw(stmt).await {
                // (busy, frames in the log, frames copied back so far)
                Ok(Some(row)) => {
                    let busy: i64 = row.try_get_by_index(0).unwrap_or(1);
                    let log: i64 = row.try_get_by_index(1).unwrap_or(-1);
                    let copied: i64 = row.try_get_by_index(2).unwrap_or(0);
                    due.complete = busy == 0 && log == copied;
                    metrics::gauge!("ccpor_sqlite_wal_checkpointed_frames").set(copied as f64);
                    metrics::counter!("ccpor_sqlite_checkpoints_total").increment(1);
                }
                Ok(None) => due.complete = false,
                Err(e) => {
                    due.complete = false;
                    // Every tick fails alike while the disk is full: say so every 10 s, not 40
                    // times a second.
                    if last_warned.is_none_or(|t: tokio::time::Instant| t.elapsed() >= WARN_EVERY) {
                        last_warned = Some(tokio::time::Instant::now());
                        tracing::warn!(error = %e, "SQLite checkpoint failed; retrying");
                    }
                }
            }
        }
    });
    stop
}

/// Whether the checkpointer has work: batches appended since its last checkpoint, or a last
/// checkpoint that left frames behind (a reader held them, or it failed).
#[derive(Debug, Default)]
struct Due {
    /// The writer's batch count read before the last checkpoint (none yet: `complete` is false).
    seen: u64,
    /// The last checkpoint copied the whole log back.
    complete: bool,
}

impl Due {
    /// At a tick with the writer's count at `batches`: checkpoint now? If so, remembers it.
    fn at(&mut self, batches: u64) -> bool {
        if self.complete && self.seen == batches {
            return false;
        }
        self.seen = batches;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Due;

    #[test]
    fn checkpoints_only_after_new_batches_or_an_unfinished_checkpoint() {
        let mut due = Due::default();
        assert!(
            due.at(0),
            "the first tick checkpoints whatever the log holds"
        );
        due.complete = true;
        assert!(!due.at(0), "idle: nothing appended since a full checkpoint");
        assert!(due.at(3), "batches appended since");
        due.complete = false;
        assert!(due.at(3), "the last one left frames behind");
        due.complete = true;
        assert!(!due.at(3));
    }
}
