//! The `searchPersons` read: the caller's county scope checked before the index is asked, the
//! ranked list cached under a key holding everything that changes it, and the page narrowed to
//! the persons the caller may see.
use std::time::Instant;

use ccpor_index::{Hit, SearchQuery};
use sea_orm::ConnectionTrait;

use crate::auth::rules::rule;
use crate::cache::{CacheKind, Computed, DEFAULT_TTL, RequestCache};
use crate::error::{AppError, AppResult};
use crate::search::Search;
use crate::service::scope::Scope;

/// One page of ranked matches.
#[derive(Debug)]
pub struct Ranked {
    /// The page's matches the caller may see, each with its rank in the whole list (from 0).
    pub hits: Vec<(usize, Hit)>,
    /// Whether matches follow the page.
    pub more: bool,
}

/// A ranked match as cached (person ids only: the rows come through the loaders, audited).
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedHit {
    person_id: i64,
    score: f32,
    explanation: Vec<String>,
}

impl From<Hit> for CachedHit {
    fn from(h: Hit) -> Self {
        Self {
            person_id: h.person_id,
            score: h.score,
            explanation: h.explanation,
        }
    }
}

impl From<CachedHit> for Hit {
    fn from(h: CachedHit) -> Self {
        Self {
            person_id: h.person_id,
            score: h.score,
            explanation: h.explanation,
        }
    }
}

/// `first` matches of `query` from rank `offset` on, for a caller of `scope`. A narrowed token
/// naming a county outside its scope is refused before anything is read; naming none, with one
/// county in scope, it searches that county. The list is cached (`CacheKind::Search`) for the
/// default TTL under the query (county narrowed already), its depth, the scope's counties and
/// how far this instance's index has got.
pub async fn persons<C: ConnectionTrait>(
    search: &Search,
    db: &C,
    cache: Option<&RequestCache>,
    scope: &Scope,
    mut query: SearchQuery,
    offset: usize,
    first: usize,
) -> AppResult<Ranked> {
    let counties = scope.counties();
    if let Some(counties) = counties {
        match &query.county {
            Some(c) if !counties.contains(c) => {
                return Err(AppError::forbidden(
                    rule::COUNTY_SCOPE,
                    format!("this token is narrowed to other counties than {c}"),
                ));
            }
            None if counties.len() == 1 => query.county = counties.iter().next().cloned(),
            _ => {}
        }
    }
    let limit = offset + first + 1;
    let key = crate::contract::persisted::hash(&format!(
        "{query:?}|{limit}|{counties:?}|{}",
        search.cursor()
    ));
    let (hits, _) = RequestCache::get_or_compute(cache, CacheKind::Search, &key, async || {
        let index = search.index()?;
        let asked = Instant::now();
        let hits = tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let hits = index.search(&query, limit);
            crate::metrics::search_timing(started - asked, started.elapsed());
            hits
        })
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("search task: {e}")))?
        .map_err(|e| match e {
            // Every name part given was a placeholder ("Unknown", "Mr", "Of The House") and
            // there is no DOB or case number: the caller's input, not a fault of ours.
            ccpor_index::IndexError::EmptyQuery => AppError::invalid(
                "name",
                "every name given is a placeholder (such as \"Unknown\" or \"Mr\"); \
                 give a real name part, a date of birth or a case number",
            ),
            e => AppError::internal(anyhow::anyhow!("search: {e}")),
        })?;
        Ok::<_, AppError>(Computed {
            value: hits.into_iter().map(CachedHit::from).collect::<Vec<_>>(),
            ttl: DEFAULT_TTL,
            extra: (),
        })
    })
    .await?;
    let more = hits.len() > offset + first;
    let page: Vec<(usize, Hit)> = hits
        .into_iter()
        .map(Hit::from)
        .enumerate()
        .skip(offset)
        .take(first)
        .collect();
    // A narrowed token sees only persons with an order in its counties.
    let ids: Vec<i32> = page
        .iter()
        .filter_map(|(_, h)| i32::try_from(h.person_id).ok())
        .collect();
    let hits = match scope.persons_visible(db, &ids).await? {
        Some(visible) => page
            .into_iter()
            .filter(|(_, h)| i32::try_from(h.person_id).is_ok_and(|id| visible.contains(&id)))
            .collect(),
        None => page,
    };
    Ok(Ranked { hits, more })
}
