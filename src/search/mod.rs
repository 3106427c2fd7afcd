//! Statewide person search: the tantivy index (crate `ccpor-index`) kept true to the database.
//!
//! Every write that changes what a person's search document says adds an outbox row in the same
//! transaction. The indexer applies outbox rows in order and records how far it got next to the
//! index, so a crash between commit and indexing loses nothing and every server instance (each
//! with its own index) catches up on its own. `ccpor reindex` builds a fresh index beside the
//! live one and switches `CURRENT` when it is ready; running servers pick the switch up.

pub mod docs;
pub mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use ccpor_index::PersonIndex;
use entities::{order_party, person, search_outbox};
use indicatif::ProgressBar;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::Notify;

use crate::error::{AppError, AppResult};

/// Outbox rows applied per index commit.
const BATCH: u64 = 2000;
/// How often the indexer looks for work when nobody told it.
const POLL: Duration = Duration::from_millis(250);
/// A gap in outbox ids is a transaction still open (PostgreSQL hands out ids before commit) or
/// one rolled back; after this long it is taken as rolled back.
const GAP_TIMEOUT: Duration = Duration::from_secs(60);
const CURRENT: &str = "CURRENT";
const CURSOR: &str = "outbox_cursor";

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(Arc::new(anyhow::anyhow!("search index: {e}")))
}

/// The live index and the indexer's position in the outbox.
pub struct Search {
    root: PathBuf,
    live: RwLock<(String, Arc<PersonIndex>)>,
    progress: Mutex<Progress>,
    wake: Notify,
    /// One applier at a time: the background indexer, or a request that needs the index current.
    applying: tokio::sync::Mutex<()>,
    /// The outbox has been applied to its end at least once since the server started: until
    /// then `/readyz` says "not ready", so a balancer sends no searches to an instance whose
    /// index (new, or left behind while it was down) still lacks persons.
    caught_up: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Progress {
    cursor: i64,
    /// Outbox ids skipped over, with when they were first missed.
    gaps: BTreeMap<i64, Instant>,
}

fn read_cursor(index_dir: &Path) -> i64 {
    std::fs::read_to_string(index_dir.join(CURSOR))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes a small file atomically (write then rename).
fn write_atomic(path: &Path, text: &str) -> AppResult<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).map_err(internal)?;
    std::fs::rename(&tmp, path).map_err(internal)
}

fn current_name(root: &Path) -> Option<String> {
    std::fs::read_to_string(root.join(CURRENT))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Whether the live index under `root` was built by an earlier version with other fields and
/// must be rebuilt from the database ([`reindex`]) before it can be opened.
pub fn needs_rebuild(root: &Path) -> AppResult<bool> {
    match current_name(root) {
        Some(name) => PersonIndex::is_outdated(&root.join(name)).map_err(internal),
        None => Ok(false),
    }
}

/// The live index directory under `root` and the last outbox row applied to it, as the files
/// say (for `ccpor check`, which must not take the index's writer lock). `None`: no index yet.
pub fn live_state(root: &Path) -> Option<(PathBuf, i64)> {
    let dir = root.join(current_name(root)?);
    let cursor = read_cursor(&dir);
    Some((dir, cursor))
}

/// The persons whose search documents outbox `rows` change: those named, and every party of the
/// orders named.
pub async fn persons_of(
    db: &DatabaseConnection,
    rows: &[search_outbox::Model],
) -> AppResult<BTreeSet<i32>> {
    let mut persons: BTreeSet<i32> = rows.iter().filter_map(|r| r.person_id).collect();
    let orders: Vec<i32> = rows.iter().filter_map(|r| r.order_id).collect();
    for chunk in orders.chunks(2000) {
        let ids: Vec<i32> = order_party::Entity::find()
            .select_only()
            .column(order_party::Column::PersonId)
            .filter(order_party::Column::OrderId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        persons.extend(ids);
    }
    Ok(persons)
}

impl Search {
    /// Opens the live index under `root` (creating an empty one the first time).
    pub fn open(root: &Path) -> AppResult<Arc<Self>> {
        std::fs::create_dir_all(root).map_err(internal)?;
        let name = match current_name(root) {
            Some(n) => n,
            None => {
                let n = "index-0".to_owned();
                write_atomic(&root.join(CURRENT), &n)?;
                n
            }
        };
        let dir = root.join(&name);
        let index = PersonIndex::create_in_dir(&dir).map_err(internal)?;
        Ok(Arc::new(Self {
            root: root.to_owned(),
            live: RwLock::new((name, Arc::new(index))),
            progress: Mutex::new(Progress {
                cursor: read_cursor(&dir),
                gaps: BTreeMap::new(),
            }),
            wake: Notify::new(),
            applying: tokio::sync::Mutex::new(()),
            caught_up: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// The index searches run on.
    pub fn index(&self) -> AppResult<Arc<PersonIndex>> {
        self.live
            .read()
            .map(|l| l.1.clone())
            .map_err(|_| internal("index lock poisoned"))
    }

    fn live_dir(&self) -> AppResult<PathBuf> {
        let name = self
            .live
            .read()
            .map(|l| l.0.clone())
            .map_err(|_| internal("index lock poisoned"))?;
        Ok(self.root.join(name))
    }

    /// Asks the indexer to look at the outbox now (after a write on this instance).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether the index has applied the whole outbox once since the server started.
    pub fn is_caught_up(&self) -> bool {
        self.caught_up.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The last outbox row applied to this instance's index (0 when the lock is poisoned).
    pub fn cursor(&self) -> i64 {
        self.progress.lock().map(|p| p.cursor).unwrap_or(0)
    }

    /// Applies outbox rows until none are left; returns how many were applied.
    pub async fn catch_up(&self, db: &DatabaseConnection) -> AppResult<usize> {
        let _one_at_a_time = self.applying.lock().await;
        let mut total = 0;
        loop {
            let n = self.apply_batch(db).await?;
            total += n;
            if n < BATCH as usize {
                self.caught_up
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                return Ok(total);
            }
        }
    }

    fn position(&self) -> AppResult<(i64, Vec<i64>)> {
        let mut p = self
            .progress
            .lock()
            .map_err(|_| internal("progress lock poisoned"))?;
        let now = Instant::now();
        p.gaps
            .retain(|_, seen| now.duration_since(*seen) < GAP_TIMEOUT);
        Ok((p.cursor, p.gaps.keys().copied().collect()))
    }

    /// One batch: the next outbox rows and any late-committed rows in earlier gaps.
    async fn apply_batch(&self, db: &DatabaseConnection) -> AppResult<usize> {
        let (cursor, gaps) = self.position()?;
        let mut rows = search_outbox::Entity::find()
            .filter(search_outbox::Column::Id.gt(cursor))
            .order_by_asc(search_outbox::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        if !gaps.is_empty() {
            rows.extend(
                search_outbox::Entity::find()
                    .filter(search_outbox::Column::Id.is_in(gaps.iter().copied()))
                    .all(db)
                    .await?,
            );
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let persons: Vec<i32> = persons_of(db, &rows).await?.into_iter().collect();
        let courts = docs::courts(db).await?;
        let documents = docs::person_docs(db, &persons, &courts, chrono::Utc::now()).await?;
        let index = self.index()?;
        let dir = self.live_dir()?;
        // Advance past contiguous ids only; remember holes for late commits. The new position
        // takes effect only once the index has the documents.
        let seen: BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        let applied = rows.len();
        let mut next = {
            let p = self
                .progress
                .lock()
                .map_err(|_| internal("progress lock poisoned"))?;
            Progress {
                cursor: p.cursor,
                gaps: p.gaps.clone(),
            }
        };
        for id in &seen {
            next.gaps.remove(id);
        }
        let max = seen
            .iter()
            .next_back()
            .copied()
            .unwrap_or(next.cursor)
            .max(next.cursor);
        let now = Instant::now();
        for id in (next.cursor + 1)..max {
            if !seen.contains(&id) {
                next.gaps.entry(id).or_insert(now);
            }
        }
        next.cursor = max;
        // A restart resumes below any open gap, so nothing is skipped.
        let persisted = next.gaps.keys().next().map(|g| g - 1).unwrap_or(max);
        // Persons the outbox names that no longer exist (dropped when an image-only order's
        // data was entered) leave the index.
        let found: BTreeSet<i64> = documents.iter().map(|d| d.person_id).collect();
        let gone: Vec<i64> = persons
            .iter()
            .map(|&p| i64::from(p))
            .filter(|p| !found.contains(p))
            .collect();
        tokio::task::spawn_blocking(move || {
            index.upsert(&documents)?;
            index.delete(&gone)
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        write_atomic(&dir.join(CURSOR), &persisted.to_string())?;
        *self
            .progress
            .lock()
            .map_err(|_| internal("progress lock poisoned"))? = next;
        Ok(applied)
    }

    /// Switches to the index named in `CURRENT` if `ccpor reindex` replaced it. Holds the
    /// applying lock: a batch being applied (by a request's own `catch_up`) would otherwise land
    /// in the old index and then overwrite the new index's cursor, losing its rows.
    async fn follow_current(&self) -> AppResult<()> {
        let Some(name) = current_name(&self.root) else {
            return Ok(());
        };
        let _one_at_a_time = self.applying.lock().await;
        let live = self
            .live
            .read()
            .map(|l| l.0.clone())
            .map_err(|_| internal("index lock poisoned"))?;
        if name == live {
            return Ok(());
        }
        let dir = self.root.join(&name);
        let index = PersonIndex::create_in_dir(&dir).map_err(internal)?;
        {
            let mut p = self
                .progress
                .lock()
                .map_err(|_| internal("progress lock poisoned"))?;
            p.cursor = read_cursor(&dir);
            p.gaps.clear();
        }
        *self
            .live
            .write()
            .map_err(|_| internal("index lock poisoned"))? = (name.clone(), Arc::new(index));
        tracing::info!(index = %name, "switched to rebuilt search index");
        Ok(())
    }

    /// Runs the indexer until the process ends: catch up, then apply new outbox rows as they come.
    /// While the database's disk is full it waits: its segment files would take the room kept
    /// for the audit rows of reads (`space`), and nothing new reaches the outbox meanwhile.
    pub fn spawn_indexer(
        self: Arc<Self>,
        db: DatabaseConnection,
        space: crate::space::Space,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if space.is_full() {
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                if let Err(e) = self.follow_current().await {
                    tracing::error!(error = %e, "search index switch failed");
                }
                if let Err(e) = self.catch_up(&db).await {
                    tracing::error!(error = %e, "search indexer failed; retrying");
                }
                let _ = tokio::time::timeout(POLL, self.wake.notified()).await;
            }
        })
    }
}

/// Rebuilds the index from the database beside the live one, then makes it live.
pub async fn reindex(
    db: &DatabaseConnection,
    root: &Path,
    progress: Option<&ProgressBar>,
) -> AppResult<usize> {
    std::fs::create_dir_all(root).map_err(internal)?;
    // Everything up to here is in the rebuild; the indexer continues from this id.
    let start: Option<i64> = search_outbox::Entity::find()
        .select_only()
        .column_as(search_outbox::Column::Id.max(), "max")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    let name = format!("index-{}", chrono::Utc::now().format("%Y%m%d%H%M%S%3f"));
    let dir = root.join(&name);
    let index = Arc::new(PersonIndex::create_in_dir(&dir).map_err(internal)?);
    // merged once at the end (see `begin_bulk_load`: no racing merges, no tantivy warnings)
    index.begin_bulk_load().map_err(internal)?;
    let ids: Vec<i32> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .order_by_asc(person::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    if let Some(p) = progress {
        p.set_length(ids.len() as u64);
    }
    let courts = docs::courts(db).await?;
    let now = chrono::Utc::now();
    for chunk in ids.chunks(10_000) {
        let documents = docs::person_docs(db, chunk, &courts, now).await?;
        let idx = index.clone();
        tokio::task::spawn_blocking(move || idx.upsert(&documents))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        if let Some(p) = progress {
            p.inc(chunk.len() as u64);
        }
    }
    let idx = index.clone();
    tokio::task::spawn_blocking(move || idx.compact())
        .await
        .map_err(internal)?
        .map_err(internal)?;
    write_atomic(&dir.join(CURSOR), &start.unwrap_or(0).to_string())?;
    let previous = current_name(root);
    write_atomic(&root.join(CURRENT), &name)?;
    // Indexes older than the one just replaced are no longer served by anyone.
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("index-") && n != name && Some(&n) != previous.as_ref() {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(ids.len())
}
