//! SQLite checkpoints beside the writers: the write-ahead log copied back into the database by a
//! task of its own, on a pooled connection, instead of by whichever writer's commit fills it. The
//! audit writer (`audit::writer`) and a bulk import (`import`) use it; a writer counts its
//! commits in `batches` and turns its own connection's automatic checkpoint down or off.
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use tokio_util::sync::CancellationToken;

/// SQLite: pages of log after which a writer's own connection checkpoints, in its commit (the
/// audit appender's, an import's). The log starts over only after a checkpoint that copied every
/// frame in it, and a checkpoint beside a writer that never stops always ends a few batches
/// behind: without this one now and then the log grew without end (2 GB seen). The checkpointer
/// beside it has copied nearly all of it by then, so this one is short. Below
/// `db::WAL_SIZE_LIMIT`.
pub const WRITER_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 8192";

/// SQLite: how often the write-ahead log is copied back into the database
/// (`spawn`). Often, so each `fsync` of the log has little to write: the writer's
/// next frame shares a page with the last one, and writing to a page under writeback waits for
/// it (appends of 24 bytes seen taking 4 ms). p99 at 50 clients on a 60k copy: 500 ms, 24–418
/// ms; 100 ms, 9–12 ms; 50 ms, 6.2–6.9 ms; 25 ms, 4.6–5.0 ms, at the same throughput.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(25);

/// SQLite checkpoints the write-ahead log into the database on the connection whose commit
/// fills it, by default: that is the appender's, so every thousandth page or so a batch waited
/// for the copy and its `fsync`s (up to 28 ms seen), and with it every request in the batch and
/// all those queued behind it. This task runs a passive checkpoint (it waits for nobody, and
/// writers go on meanwhile) on a pooled connection every `CHECKPOINT_EVERY`, so a page rewritten
/// by many batches in between is copied once and off the appender's path; the appender's own
/// connection checkpoints only every few thousand pages, to let the log start over
/// (`appender::AUTOCHECKPOINT`), and finds little left to copy. An idle server is left alone:
/// a tick is skipped when the writer has appended no batch (`batches` counts them) since a
/// checkpoint that copied the whole log. So is every tick while the disk is full (`space`): a
/// checkpoint grows the database file, and the room `space` frees then is kept for the audit
/// rows of reads and of writes already committed.
pub fn spawn(
    db: DatabaseConnection,
    batches: Arc<AtomicU64>,
    space: crate::space::Space,
) -> CancellationToken {
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
            if space.is_full() {
                continue;
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
