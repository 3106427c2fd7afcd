//! A full disk under an embedded (SQLite) database: writes are refused with `STORAGE_FULL`, reads
//! go on, and the server recovers by itself when space returns.
//!
//! Reads write audit rows (fail closed, CJIS AU-5), so "reads go on" needs room the writes cannot
//! take. The server keeps a reserve file of `RESERVE` bytes beside the database. When a statement
//! fails with `SQLITE_FULL` (`note_full`, called where the error is classified), the watcher
//! deletes the reserve within a tick, and the server refuses every write at once while the audit
//! rows of reads use the freed room. The audit writer does not wait for the tick: a batch of rows
//! that finds no room frees the reserve itself (`free_reserve`) and is appended again, so no
//! request is refused for the moments between the first `SQLITE_FULL` and the tick. Every
//! `PROBE_EVERY` the watcher reads the free space; once twice the reserve is free, space has
//! returned: the reserve is written again and writes are taken again.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Bytes kept free for the audit rows of reads while the disk is full (some thousands of rows, and
/// the rows background work writes after the last writes: 4 MiB was seen used up under load).
pub const RESERVE: u64 = 16 * 1024 * 1024;
/// How often a full disk is probed for returned space.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Set by `note_full` until the watcher has taken it up; process-wide, as the error
/// classification that sees `SQLITE_FULL` has no handle on the server's state (`serve` runs one
/// server per process).
static SEEN_FULL: AtomicBool = AtomicBool::new(false);

/// Called where a database error is classified as "disk full".
pub fn note_full() {
    SEEN_FULL.store(true, Ordering::Relaxed);
}

/// Whether writes are refused for want of disk space.
#[derive(Debug, Clone, Default)]
pub struct Space {
    full: Arc<AtomicBool>,
    /// The reserve file (none for PostgreSQL and in-memory databases).
    reserve: Option<Arc<PathBuf>>,
}

/// The database file of a SQLite URL (`sqlite://path?mode=rwc`); `None` for other databases
/// and in-memory ones.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// Bytes an unprivileged process may still write on the filesystem holding `dir`.
fn free_bytes(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Writes `bytes` zero bytes to `path` (really written: a sparse file would reserve nothing).
fn fill(path: &Path, bytes: u64) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    let block = vec![0u8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

impl Space {
    /// Whether writes are refused now: from the first `SQLITE_FULL` on (before the watcher has
    /// freed the reserve) until space is back.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed) || SEEN_FULL.load(Ordering::Relaxed)
    }

    /// Frees the reserve for rows that found no room (the first caller deletes it and starts
    /// refusing writes); whether there is a reserve. The rows may then be written again once.
    pub fn free_reserve(&self) -> bool {
        let Some(reserve) = &self.reserve else {
            return false;
        };
        if !self.full.swap(true, Ordering::Relaxed) {
            let _ = std::fs::remove_file(reserve.as_path());
            SEEN_FULL.store(false, Ordering::Relaxed);
            tracing::error!(
                "the database's disk is full: writes are refused (STORAGE_FULL), reads go on; \
                 free space to recover"
            );
        }
        true
    }

    /// Keeps the reserve beside the SQLite database of `url` and starts the watcher; for other
    /// databases (PostgreSQL keeps its own disk) it only returns "not full". Needs a Tokio runtime.
    pub fn watch(url: &str) -> Space {
        let Some(db) = sqlite_file(url) else {
            return Space::default();
        };
        let reserve = db.with_extension("reserve");
        let dir = db
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        if !reserve.exists()
            && let Err(e) = fill(&reserve, RESERVE)
        {
            let _ = std::fs::remove_file(&reserve);
            tracing::warn!(error = %e, file = %reserve.display(),
                "no room for the disk reserve: writes will be refused once the disk is full");
        }
        let space = Space {
            full: Arc::default(),
            reserve: Some(Arc::new(reserve.clone())),
        };
        let (watched, full) = (space.clone(), space.full.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(if full.load(Ordering::Relaxed) {
                    PROBE_EVERY
                } else {
                    Duration::from_millis(100)
                })
                .await;
                if SEEN_FULL.load(Ordering::Relaxed) && !full.load(Ordering::Relaxed) {
                    watched.free_reserve();
                    continue;
                }
                if !full.load(Ordering::Relaxed) {
                    continue;
                }
                // Free space is read, not probed by writing: a probe file would take the room
                // the reads' audit rows are using while it exists.
                let (reserve, dir) = (reserve.clone(), dir.clone());
                let back = tokio::task::spawn_blocking(move || {
                    free_bytes(&dir).is_some_and(|free| free >= 2 * RESERVE)
                        && fill(&reserve, RESERVE).is_ok()
                })
                .await
                .unwrap_or(false);
                if back {
                    SEEN_FULL.store(false, Ordering::Relaxed);
                    full.store(false, Ordering::Relaxed);
                    tracing::info!("disk space is back: writes are taken again");
                }
            }
        });
        space
    }
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;

    #[test]
    fn the_database_file_of_a_url() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/ccpor/ccpor.db?mode=rwc"),
            Some("/var/lib/ccpor/ccpor.db".into())
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
