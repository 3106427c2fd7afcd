//! The cross-request cache in front of the database: Redis when `REDIS_URL` is set (shared by
//! every instance), an in-process moka cache otherwise (one instance only).
//!
//! Keys are versioned by a data generation that every write bumps after it commits (`INCR` in
//! Redis), so a write on one instance makes every instance's next read miss; a request reads the
//! generation once, with its first lookup. Entries also expire on their own TTL, never later than
//! the expiry of an order they hold. Cached values are raw rows (or, for searches, ids already
//! narrowed by the key's scope), so field rules still apply per caller and the loaders still
//! record every object read for the audit row, hit or miss.
//!
//! Any cache failure degrades to the database: it is counted (`ccpor_cache_errors_total`), logged
//! at most every [`LOG_EVERY`], and Redis is skipped for [`BACKOFF`] so a dead Redis does not stall
//! requests, while the connection manager reconnects.
//!
//! The parts: `backend` (the in-process cache and Redis, the generation and its invalidation),
//! `request` (one request's view, `get_or_compute`), `ttl` (how long an answer may be kept) and
//! `apq` (automatic persisted queries' documents).
mod apq;
mod backend;
mod request;
mod ttl;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use apq::APQ_TTL;
use backend::{Backend, Entry, PerEntryTtl};
pub use request::{Computed, RequestCache};
pub use ttl::{DEFAULT_TTL, next_change, ttl_for_orders, ttl_until};

/// Longest a Redis command may take before the request goes to the database instead.
pub const OP_TIMEOUT: Duration = Duration::from_millis(250);
/// How long Redis is left alone after a failure.
pub const BACKOFF: Duration = Duration::from_millis(500);
/// At most one log line per this interval about cache failures.
pub const LOG_EVERY: Duration = Duration::from_secs(10);
/// Life of an idle generation counter in Redis (a day; refreshed by every write). Losing it only
/// costs misses: the next read starts a new count at a random base.
const GENERATION_TTL_MS: u64 = 24 * 3600 * 1000;
/// Bytes (keys and values) the in-process cache holds at most.
const LOCAL_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;
/// Bumped when the shape of cached values changes, so old entries are never decoded (v2:
/// answers hold raw JSON, which an old entry's escaped string would also decode as; v3: an
/// answer is its accounting as a JSON line, then the body as sent; v4: in Redis, an answer's
/// key holds no generation and its value begins with it, `tagged`).
const FORMAT: &str = "v4";

/// What an entry holds; the `kind` label of the hit/miss metrics (bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheKind {
    Person,
    Order,
    Court,
    History,
    Search,
    /// A whole GraphQL answer (`http::graphql::reuse`).
    Answer,
    Apq,
}

impl CacheKind {
    const ALL: [CacheKind; 7] = [
        Self::Person,
        Self::Order,
        Self::Court,
        Self::History,
        Self::Search,
        Self::Answer,
        Self::Apq,
    ];

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }

    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Order => "order",
            Self::Court => "court",
            Self::History => "history",
            Self::Search => "search",
            Self::Answer => "answer",
            Self::Apq => "apq",
        }
    }
}

/// Where the cache lives.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// `redis://host:port[/db]`; `None`: in-process.
    pub redis_url: Option<String>,
    /// Prefix of every key, so deployments (or tests) sharing one Redis never see each other's.
    pub namespace: String,
    /// Cache answers (rows, histories, searches). Off: every answer comes from the database
    /// (the throughput benchmark's uncached runs); persisted queries are still stored.
    pub answers: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            namespace: "ccpor".to_owned(),
            answers: true,
        }
    }
}

/// Why the cache was not used; the request reads the database instead.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("cache operation timed out")]
    Timeout,
    #[error("cache skipped after a recent failure")]
    Skipped,
}

/// Counters of one cache handle (the metrics add up every handle of the process).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
}

/// A cheap handle to the cache; clones share it.
#[derive(Clone)]
pub struct Cache(Arc<Inner>);

struct Inner {
    backend: Backend,
    namespace: String,
    hits: AtomicU64,
    misses: AtomicU64,
    /// Hits and misses by `CacheKind::index`.
    by_kind: [(AtomicU64, AtomicU64); CacheKind::ALL.len()],
    errors: AtomicU64,
    started: Instant,
    /// Milliseconds after `started` before which Redis is not tried.
    skip_until: AtomicU64,
    /// Milliseconds after `started` of the last failure logged, plus one (0: none yet).
    logged_at: AtomicU64,
    /// A write's invalidation did not reach Redis: it must before the cache is trusted again.
    pending_invalidation: AtomicBool,
    /// A background task is retrying that invalidation.
    retrying: AtomicBool,
    /// `CacheConfig::answers`.
    answers: bool,
}

impl Cache {
    /// The in-process cache.
    pub fn local(namespace: &str) -> Self {
        let entries = moka::future::Cache::builder()
            .weigher(|k: &String, v: &Entry| {
                u32::try_from(k.len() + v.value.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(LOCAL_CAPACITY_BYTES)
            .expire_after(PerEntryTtl)
            .build();
        Self::with_backend(
            Backend::Local {
                entries,
                generation: AtomicU64::new(0),
            },
            namespace,
        )
    }

    /// Redis at `url`. Connects lazily and reconnects by itself, so a Redis that is down at
    /// start only costs cache misses until it is back.
    pub fn redis(url: &str, namespace: &str) -> Result<Self, CacheError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self::with_backend(Backend::Redis(manager), namespace))
    }

    /// Redis when the config names one, in-process otherwise.
    pub fn open(config: &CacheConfig) -> Result<Self, CacheError> {
        let mut cache = match config.redis_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => Self::redis(url, &config.namespace)?,
            None => Self::local(&config.namespace),
        };
        if !config.answers
            && let Some(inner) = Arc::get_mut(&mut cache.0)
        {
            inner.answers = false;
        }
        Ok(cache)
    }

    /// Whether answers are cached (`CacheConfig::answers`).
    pub fn caches_answers(&self) -> bool {
        self.0.answers
    }

    fn with_backend(backend: Backend, namespace: &str) -> Self {
        Self(Arc::new(Inner {
            backend,
            namespace: format!("{namespace}:{FORMAT}"),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            by_kind: Default::default(),
            errors: AtomicU64::new(0),
            started: Instant::now(),
            skip_until: AtomicU64::new(0),
            logged_at: AtomicU64::new(0),
            pending_invalidation: AtomicBool::new(false),
            retrying: AtomicBool::new(false),
            answers: true,
        }))
    }

    /// `redis` or `memory`, for logs and tests.
    pub fn backend_name(&self) -> &'static str {
        match self.0.backend {
            Backend::Redis(_) => "redis",
            Backend::Local { .. } => "memory",
        }
    }

    /// Hits, misses and failures of this handle so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.0.hits.load(Ordering::Relaxed),
            misses: self.0.misses.load(Ordering::Relaxed),
            errors: self.0.errors.load(Ordering::Relaxed),
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.0.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Hits and misses of one kind of entry, by this handle (errors are not told apart by kind).
    pub fn stats_of(&self, kind: CacheKind) -> CacheStats {
        let (hits, misses) = &self.0.by_kind[kind.index()];
        CacheStats {
            hits: hits.load(Ordering::Relaxed),
            misses: misses.load(Ordering::Relaxed),
            errors: 0,
        }
    }

    fn count(&self, kind: CacheKind, hits: u64, misses: u64) {
        let (kind_hits, kind_misses) = &self.0.by_kind[kind.index()];
        kind_hits.fetch_add(hits, Ordering::Relaxed);
        kind_misses.fetch_add(misses, Ordering::Relaxed);
        if hits > 0 {
            self.0.hits.fetch_add(hits, Ordering::Relaxed);
            metrics::counter!("ccpor_cache_hits_total", "kind" => kind.as_str()).increment(hits);
        }
        if misses > 0 {
            self.0.misses.fetch_add(misses, Ordering::Relaxed);
            metrics::counter!("ccpor_cache_misses_total", "kind" => kind.as_str())
                .increment(misses);
        }
    }

    /// Counts and (rate-limited) logs a failure, and backs off from Redis for a moment.
    fn failed(&self, what: &str, e: &CacheError) {
        if matches!(e, CacheError::Skipped) {
            return;
        }
        self.0.errors.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("ccpor_cache_errors_total").increment(1);
        let now = self.millis();
        let backoff = u64::try_from(BACKOFF.as_millis()).unwrap_or(500);
        self.0
            .skip_until
            .fetch_max(now.saturating_add(backoff), Ordering::Relaxed);
        let last = self.0.logged_at.load(Ordering::Relaxed);
        let every = u64::try_from(LOG_EVERY.as_millis()).unwrap_or(10_000);
        if (last == 0 || now.saturating_sub(last - 1) >= every)
            && self
                .0
                .logged_at
                .compare_exchange(last, now + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %e, operation = what, "cache unavailable; reading from the database");
        }
    }
}
