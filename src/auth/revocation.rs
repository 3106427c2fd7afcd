//! Revocation list, in the database so every instance sees it. Each instance keeps a copy in
//! memory, refreshed every [`REFRESH`], so a request does not pay a database round trip for it
//! (BENCHMARKS.md, throughput): a revocation takes effect on every instance within `REFRESH`.
//! A copy older than [`STALE_AFTER`] (the database unreachable, or no refresher yet) is not
//! trusted: the request reads the table itself, and fails closed if it cannot.
use std::collections::HashSet;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use entities::revoked_token;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

/// How often each instance re-reads the revocation list.
pub const REFRESH: Duration = Duration::from_millis(200);
/// A copy not refreshed for this long is not used.
pub const STALE_AFTER: Duration = Duration::from_secs(2);
/// The whole list is re-read at least this often even when its size has not changed (a row
/// deleted and another added by hand would otherwise go unseen).
const FULL_EVERY: Duration = Duration::from_secs(30);

/// Whether any of a token's block revocation ids has been revoked (revoking a block revokes every
/// token derived from it).
pub async fn any_revoked<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
) -> Result<bool, sea_orm::DbErr> {
    let n = revoked_token::Entity::find()
        .filter(revoked_token::Column::RevocationId.is_in(ids.iter().cloned()))
        .count(db)
        .await?;
    Ok(n > 0)
}

/// Adds revocation ids; revoking twice is harmless.
pub async fn revoke<C: ConnectionTrait>(
    db: &C,
    ids: &[String],
    reason: Option<&str>,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    for id in ids {
        revoked_token::Entity::insert(revoked_token::ActiveModel {
            revocation_id: Set(id.to_ascii_lowercase()),
            revoked_at: Set(now),
            reason: Set(reason.map(str::to_owned)),
        })
        .on_conflict_do_nothing()
        .exec(db)
        .await?;
    }
    Ok(())
}

/// This instance's copy of the revocation list; clones share it.
#[derive(Clone, Default)]
pub struct RevocationList(Arc<Shared>);

#[derive(Default)]
struct Shared {
    state: RwLock<Loaded>,
    refresher_started: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Loaded {
    ids: HashSet<String>,
    /// When `ids` was last confirmed against the table; `None`: never.
    checked_at: Option<Instant>,
    /// When `ids` was last read whole.
    read_at: Option<Instant>,
}

impl RevocationList {
    /// Whether any of `ids` is revoked: from the copy when it is fresh, else from `db`.
    pub async fn any_revoked(
        &self,
        db: &DatabaseConnection,
        ids: &[String],
    ) -> Result<bool, sea_orm::DbErr> {
        if let Some(revoked) = self.copy_says(ids) {
            return Ok(revoked);
        }
        any_revoked(db, ids).await
    }

    /// The copy's answer, or `None` when the copy is too old to trust.
    fn copy_says(&self, ids: &[String]) -> Option<bool> {
        let state = self.0.state.read().ok()?;
        let fresh = state.checked_at.is_some_and(|t| t.elapsed() < STALE_AFTER);
        fresh.then(|| ids.iter().any(|id| state.ids.contains(id)))
    }

    /// Starts, once, the task that keeps the copy current from `db` (give it a pool of its own,
    /// so request statement counts stay the requests'); it ends with the last handle. Until it
    /// runs, every check reads the table.
    pub fn keep_current(&self, db: DatabaseConnection) {
        if !self
            .0
            .refresher_started
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            tokio::spawn(refresh_loop(Arc::downgrade(&self.0), db));
        }
    }

    /// Brings the copy up to date with the table now.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        refresh(&self.0, db).await
    }
}

async fn refresh_loop(copy: Weak<Shared>, db: DatabaseConnection) {
    loop {
        let Some(copy) = copy.upgrade() else {
            return;
        };
        if let Err(e) = refresh(&copy, &db).await {
            // Requests read the table themselves once the copy is stale, and fail closed.
            tracing::warn!(error = %e, "refreshing the revocation list");
        }
        drop(copy);
        tokio::time::sleep(REFRESH).await;
    }
}

async fn refresh(copy: &Shared, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    let started = Instant::now();
    // Rows are only ever added, so an unchanged count means an unchanged list.
    let count = usize::try_from(revoked_token::Entity::find().count(db).await?).unwrap_or(0);
    let whole_due = {
        let state = copy.state.read().map_err(poisoned)?;
        state.ids.len() != count || state.read_at.is_none_or(|t| t.elapsed() >= FULL_EVERY)
    };
    let ids = if whole_due {
        let rows: Vec<String> = revoked_token::Entity::find()
            .select_only()
            .column(revoked_token::Column::RevocationId)
            .into_tuple()
            .all(db)
            .await?;
        Some(rows.into_iter().collect::<HashSet<_>>())
    } else {
        None
    };
    let mut state = copy.state.write().map_err(poisoned)?;
    if let Some(ids) = ids {
        state.ids = ids;
        state.read_at = Some(started);
    }
    // Confirmed as of when the read began, so staleness counts from before the round trip.
    state.checked_at = Some(started);
    Ok(())
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> sea_orm::DbErr {
    sea_orm::DbErr::Custom("revocation list lock poisoned".into())
}
