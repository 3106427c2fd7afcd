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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// TTL of an entry with nothing time-dependent in it.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// TTL of an automatic persisted query's document.
pub const APQ_TTL: Duration = Duration::from_secs(24 * 3600);
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
    /// A whole GraphQL answer (`http::answers`).
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

/// A pipeline that first creates the generation `key` at `seed` unless it exists (a Redis that
/// starts empty starts at a random base).
fn seeded(key: &str, seed: u64) -> redis::Pipeline {
    let mut p = redis::pipe();
    p.cmd("SET")
        .arg(key)
        .arg(seed)
        .arg("NX")
        .arg("PX")
        .arg(GENERATION_TTL_MS)
        .ignore();
    p
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

enum Backend {
    Redis(ConnectionManager),
    Local {
        entries: moka::future::Cache<String, Entry>,
        generation: AtomicU64,
    },
}

#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

/// Each moka entry lives for its own TTL.
struct PerEntryTtl;

impl moka::Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, v: &Entry, _: Instant) -> Option<Duration> {
        Some(v.ttl)
    }
    fn expire_after_update(
        &self,
        _: &String,
        v: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(v.ttl)
    }
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

    /// Runs a Redis command with the timeout and the back-off.
    async fn redis_op<T>(
        &self,
        what: &str,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CacheError> {
        if self.millis() < self.0.skip_until.load(Ordering::Relaxed) {
            return Err(CacheError::Skipped);
        }
        let r = match tokio::time::timeout(OP_TIMEOUT, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CacheError::Redis(e)),
            Err(_) => Err(CacheError::Timeout),
        };
        if let Err(e) = &r {
            self.failed(what, e);
        }
        r
    }

    fn gen_key(&self) -> String {
        format!("{}:generation", self.0.namespace)
    }

    /// The current data generation; `None` when the cache cannot be trusted right now.
    pub async fn generation(&self) -> Option<u64> {
        match &self.0.backend {
            Backend::Local { generation, .. } => Some(generation.load(Ordering::Acquire)),
            Backend::Redis(manager) => {
                if self.0.pending_invalidation.load(Ordering::Acquire) {
                    self.bump().await;
                    if self.0.pending_invalidation.load(Ordering::Acquire) {
                        return None;
                    }
                }
                let mut conn = manager.clone();
                let key = self.gen_key();
                let seed = random_base();
                // A Redis that starts empty (restarted without persistence) starts the count at
                // a random base, so it never reuses the generation of an entry written by a
                // request that began before the restart.
                self.redis_op("generation", async move {
                    let (current,): (u64,) = seeded(&key, seed)
                        .cmd("GET")
                        .arg(&key)
                        .query_async(&mut conn)
                        .await?;
                    Ok(current)
                })
                .await
                .ok()
            }
        }
    }

    /// Redis key of a value whose generation is in the value (`tagged`), not in the key.
    fn tagged_key(&self, kind: CacheKind, key: &str) -> String {
        format!("{}:t:{}:{key}", self.0.namespace, kind.as_str())
    }

    /// With Redis, the generation and the tagged value of `kind`/`key` (still tagged), in one
    /// round trip of two plain `GET`s; `None` for the in-process cache, an invalidation still
    /// to get through, no generation yet, or Redis unreachable (the caller then goes the
    /// two-step way, which handles each).
    async fn generation_and_get(
        &self,
        kind: CacheKind,
        key: &str,
    ) -> Option<(u64, Option<Vec<u8>>)> {
        let Backend::Redis(manager) = &self.0.backend else {
            return None;
        };
        if self.0.pending_invalidation.load(Ordering::Acquire) {
            return None;
        }
        let mut conn = manager.clone();
        let mut pipe = redis::pipe();
        pipe.cmd("GET")
            .arg(self.gen_key())
            .cmd("GET")
            .arg(self.tagged_key(kind, key));
        let (generation, value) = self
            .redis_op("get", async move {
                pipe.query_async::<(Option<u64>, Option<Vec<u8>>)>(&mut conn)
                    .await
            })
            .await
            .ok()?;
        Some((generation?, value))
    }

    /// The tagged value of `kind`/`key`, unchecked (Redis only).
    async fn get_tagged(&self, kind: CacheKind, key: &str) -> Option<Vec<u8>> {
        let Backend::Redis(manager) = &self.0.backend else {
            return None;
        };
        let mut conn = manager.clone();
        let key = self.tagged_key(kind, key);
        self.redis_op("get", async move {
            redis::cmd("GET")
                .arg(key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await
        })
        .await
        .ok()
        .flatten()
    }

    /// Makes every cached answer stale, on every instance. Call after a write commits. When
    /// Redis cannot be reached, this instance keeps off the cache until the bump gets through.
    pub async fn invalidate(&self) {
        // A write's bump must not wait out the back-off of an earlier failure.
        self.0.skip_until.store(0, Ordering::Relaxed);
        self.bump().await;
    }

    async fn bump(&self) {
        if !self.bump_once().await {
            self.retry_invalidation();
        }
    }

    /// One try at bumping the generation; whether it got through.
    async fn bump_once(&self) -> bool {
        match &self.0.backend {
            Backend::Local { generation, .. } => {
                generation.fetch_add(1, Ordering::AcqRel);
                true
            }
            Backend::Redis(manager) => {
                let mut conn = manager.clone();
                let key = self.gen_key();
                let seed = random_base();
                let r = self
                    .redis_op("invalidate", async move {
                        seeded(&key, seed)
                            .cmd("INCR")
                            .arg(&key)
                            .ignore()
                            .cmd("PEXPIRE")
                            .arg(&key)
                            .arg(GENERATION_TTL_MS)
                            .ignore()
                            .query_async::<()>(&mut conn)
                            .await
                    })
                    .await;
                self.0
                    .pending_invalidation
                    .store(r.is_err(), Ordering::Release);
                r.is_ok()
            }
        }
    }

    /// Keeps trying a failed bump in the background, so other instances stop serving what the
    /// write changed as soon as Redis is back, whether or not this one serves another request.
    fn retry_invalidation(&self) {
        if self.0.retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let cache = self.clone();
        tokio::spawn(async move {
            while cache.0.pending_invalidation.load(Ordering::Acquire) {
                tokio::time::sleep(BACKOFF).await;
                cache.0.skip_until.store(0, Ordering::Relaxed);
                cache.bump_once().await;
            }
            cache.0.retrying.store(false, Ordering::Release);
        });
    }

    /// Raw values by full key; `None` for a miss or when the cache is unavailable.
    async fn get_raw(&self, keys: &[String]) -> Vec<Option<Arc<[u8]>>> {
        match &self.0.backend {
            Backend::Local { entries, .. } => {
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    out.push(entries.get(k).await.map(|e| e.value));
                }
                out
            }
            Backend::Redis(manager) => {
                let mut conn = manager.clone();
                let args = keys.to_vec();
                let got = self
                    .redis_op("get", async move {
                        redis::cmd("MGET")
                            .arg(args)
                            .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
                            .await
                    })
                    .await;
                match got {
                    Ok(v) if v.len() == keys.len() => {
                        v.into_iter().map(|b| b.map(Arc::from)).collect()
                    }
                    _ => vec![None; keys.len()],
                }
            }
        }
    }

    async fn put_raw(&self, items: Vec<(String, Vec<u8>, Duration)>) {
        if items.is_empty() {
            return;
        }
        match &self.0.backend {
            Backend::Local { entries, .. } => {
                for (k, v, ttl) in items {
                    entries
                        .insert(
                            k,
                            Entry {
                                value: Arc::from(v),
                                ttl,
                            },
                        )
                        .await;
                }
            }
            Backend::Redis(manager) => {
                let mut conn = manager.clone();
                let mut pipe = redis::pipe();
                for (k, v, ttl) in items {
                    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                    pipe.cmd("SET").arg(k).arg(v).arg("PX").arg(ms).ignore();
                }
                let _ = self
                    .redis_op(
                        "put",
                        async move { pipe.query_async::<()>(&mut conn).await },
                    )
                    .await;
            }
        }
    }

    fn apq_key(&self, hash: &str) -> String {
        format!("{}:apq:{}", self.0.namespace, hash.to_ascii_lowercase())
    }

    /// An automatic persisted query's document by its SHA-256 (hex).
    pub async fn apq_get(&self, hash: &str) -> Option<String> {
        let got = self.get_raw(&[self.apq_key(hash)]).await;
        let doc = got
            .into_iter()
            .next()
            .flatten()
            .and_then(|b| String::from_utf8(b.to_vec()).ok());
        self.count(
            CacheKind::Apq,
            u64::from(doc.is_some()),
            u64::from(doc.is_none()),
        );
        doc
    }

    /// Registers an automatic persisted query (the caller has checked the hash).
    pub async fn apq_put(&self, hash: &str, document: &str) {
        self.put_raw(vec![(
            self.apq_key(hash),
            document.as_bytes().to_vec(),
            APQ_TTL,
        )])
        .await;
    }

    /// One request's view: reads the generation once.
    pub fn for_request(&self) -> RequestCache {
        RequestCache {
            cache: self.clone(),
            generation: tokio::sync::OnceCell::new(),
        }
    }
}

/// One request's view of the cache: every lookup of the request uses the generation read by its
/// first one, so a request never mixes answers from before and after a write.
pub struct RequestCache {
    cache: Cache,
    generation: tokio::sync::OnceCell<Option<u64>>,
}

impl RequestCache {
    async fn prefix(&self, kind: CacheKind) -> Option<String> {
        let generation = self.generation().await;
        generation.map(|g| format!("{}:g{g}:{}:", self.cache.0.namespace, kind.as_str()))
    }

    /// Raw values by key (within `kind`), not counted; `None` when the cache cannot be trusted
    /// right now.
    async fn fetch_raw(&self, kind: CacheKind, keys: &[String]) -> Option<Vec<Option<Arc<[u8]>>>> {
        let prefix = self.prefix(kind).await?;
        let full: Vec<String> = keys.iter().map(|k| format!("{prefix}{k}")).collect();
        Some(self.cache.get_raw(&full).await)
    }

    /// Values by key (within `kind`); `None` where missing or undecodable.
    pub async fn get_many<T: DeserializeOwned>(
        &self,
        kind: CacheKind,
        keys: &[String],
    ) -> Vec<Option<T>> {
        if keys.is_empty() {
            return Vec::new();
        }
        let Some(raw) = self.fetch_raw(kind, keys).await else {
            self.cache.count(kind, 0, keys.len() as u64);
            return keys.iter().map(|_| None).collect();
        };
        let out: Vec<Option<T>> = raw
            .into_iter()
            .map(|b| b.and_then(|b| serde_json::from_slice(&b).ok()))
            .collect();
        let hits = out.iter().filter(|v| v.is_some()).count() as u64;
        self.cache.count(kind, hits, keys.len() as u64 - hits);
        out
    }

    /// One value by key (within `kind`).
    pub async fn get<T: DeserializeOwned>(&self, kind: CacheKind, key: &str) -> Option<T> {
        self.get_many(kind, &[key.to_owned()])
            .await
            .into_iter()
            .next()
            .flatten()
    }

    /// The raw value of `kind`/`key` as the request's first lookup (the whole answer). With
    /// Redis the value carries the generation it was stored under (`tagged`), so the
    /// generation and the value come in one round trip of two `GET`s, and that generation is
    /// the request's from then on; a value of another generation is a miss.
    pub async fn get_first_raw(&self, kind: CacheKind, key: &str) -> Option<Arc<[u8]>> {
        let raw = match &self.cache.0.backend {
            Backend::Local { .. } => self
                .fetch_raw(kind, &[key.to_owned()])
                .await
                .and_then(|values| values.into_iter().next().flatten()),
            Backend::Redis(_) => self.get_tagged(kind, key).await,
        };
        self.cache
            .count(kind, u64::from(raw.is_some()), u64::from(raw.is_none()));
        raw
    }

    /// Redis: the value of `kind`/`key` if it was stored under this request's generation.
    async fn get_tagged(&self, kind: CacheKind, key: &str) -> Option<Arc<[u8]>> {
        let first = if self.generation.initialized() {
            None
        } else {
            self.cache.generation_and_get(kind, key).await
        };
        let (generation, tagged) = match first {
            Some((generation, tagged)) => {
                if self.generation.set(Some(generation)).is_err()
                    && self.generation.get() != Some(&Some(generation))
                {
                    // Another lookup of this request read a different generation first: this
                    // value is not of the request's view.
                    return None;
                }
                (generation, tagged?)
            }
            None => {
                let generation = self.generation().await?;
                (generation, self.cache.get_tagged(kind, key).await?)
            }
        };
        untag(&tagged, generation).map(Arc::from)
    }

    /// The request's generation, read by its first lookup; `None` when the cache cannot be
    /// trusted right now.
    async fn generation(&self) -> Option<u64> {
        *self
            .generation
            .get_or_init(|| self.cache.generation())
            .await
    }

    /// Stores a raw value (read back with `get_first_raw`) for `ttl`.
    pub async fn put_raw(&self, kind: CacheKind, key: &str, value: Vec<u8>, ttl: Duration) {
        if !matches!(self.cache.0.backend, Backend::Redis(_)) {
            self.store(kind, vec![(key.to_owned(), value, ttl)]).await;
            return;
        }
        if ttl.is_zero() {
            return;
        }
        let Some(generation) = self.generation().await else {
            return;
        };
        self.cache
            .put_raw(vec![(
                self.cache.tagged_key(kind, key),
                tag(generation, &value),
                ttl,
            )])
            .await;
    }

    /// Stores values under this request's generation, each for its TTL.
    pub async fn put_many<'a, T: Serialize + 'a>(
        &self,
        kind: CacheKind,
        items: impl IntoIterator<Item = (String, &'a T, Duration)>,
    ) {
        let raw = items
            .into_iter()
            .filter_map(|(k, v, ttl)| serde_json::to_vec(v).ok().map(|b| (k, b, ttl)))
            .collect();
        self.store(kind, raw).await;
    }

    /// Stores raw values by key (within `kind`) under this request's generation; a zero TTL
    /// stores nothing.
    async fn store(&self, kind: CacheKind, items: Vec<(String, Vec<u8>, Duration)>) {
        let Some(prefix) = self.prefix(kind).await else {
            return;
        };
        let full = items
            .into_iter()
            .filter(|(_, _, ttl)| !ttl.is_zero())
            .map(|(k, v, ttl)| (format!("{prefix}{k}"), v, ttl))
            .collect();
        self.cache.put_raw(full).await;
    }

    /// Stores one value for `ttl`.
    pub async fn put<T: Serialize>(&self, kind: CacheKind, key: &str, value: &T, ttl: Duration) {
        self.put_many(kind, [(key.to_owned(), value, ttl)]).await;
    }
}

/// A value stored with the generation it was read under: the generation in decimal, a
/// newline, then the value.
fn tag(generation: u64, value: &[u8]) -> Vec<u8> {
    let mut out = generation.to_string().into_bytes();
    out.push(b'\n');
    out.extend_from_slice(value);
    out
}

/// The value of a tagged entry if it was stored under `generation`.
fn untag(tagged: &[u8], generation: u64) -> Option<&[u8]> {
    let split = tagged.iter().position(|&b| b == b'\n')?;
    let stored: u64 = std::str::from_utf8(&tagged[..split]).ok()?.parse().ok()?;
    (stored == generation).then(|| &tagged[split + 1..])
}

/// Where a fresh Redis starts counting generations: random, far from any earlier count.
fn random_base() -> u64 {
    rand::random::<u64>() >> 12
}

/// TTL of an answer holding these orders: the default, but never past an instant still ahead at
/// which an order's status changes on its own (an order that has expired by then reads as
/// expired; one issued with a later effective time stops reading as pending).
pub fn ttl_for_orders<'a>(
    orders: impl IntoIterator<Item = &'a entities::order::Model>,
    now: DateTime<Utc>,
) -> Duration {
    ttl_until(orders.into_iter().flat_map(lifecycle_instants), now)
}

/// The first instant after `now` at which `o`'s status changes without a write.
pub fn next_change(o: &entities::order::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lifecycle_instants(o)
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min()
}

/// Every instant `domain::status` compares with the time asked about.
fn lifecycle_instants(o: &entities::order::Model) -> [Option<DateTime<Utc>>; 5] {
    [
        Some(o.issued_at),
        o.expires_at,
        o.superseded_at,
        o.terminated_at,
        o.cancelled_at,
    ]
}

/// The default TTL, cut to the first of these instants still ahead of `now`.
pub fn ttl_until(
    instants: impl IntoIterator<Item = Option<DateTime<Utc>>>,
    now: DateTime<Utc>,
) -> Duration {
    instants
        .into_iter()
        .flatten()
        .filter(|e| *e > now)
        .filter_map(|e| (e - now).to_std().ok())
        .fold(DEFAULT_TTL, Duration::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_cache_is_versioned_by_generation() {
        let cache = Cache::local("unit");
        let r = cache.for_request();
        r.put(CacheKind::Person, "1", &"one".to_owned(), DEFAULT_TTL)
            .await;
        assert_eq!(
            r.get::<String>(CacheKind::Person, "1").await.as_deref(),
            Some("one")
        );
        cache.invalidate().await;
        // A request started before the write keeps its generation; a new one misses.
        assert!(
            cache
                .for_request()
                .get::<String>(CacheKind::Person, "1")
                .await
                .is_none()
        );
        let s = cache.stats();
        assert_eq!((s.hits, s.misses, s.errors), (1, 1, 0));
    }

    #[tokio::test]
    async fn local_entries_expire_on_their_own_ttl() {
        let cache = Cache::local("unit");
        let r = cache.for_request();
        r.put(
            CacheKind::Order,
            "7",
            &"short".to_owned(),
            Duration::from_millis(50),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert!(r.get::<String>(CacheKind::Order, "7").await.is_none());
    }

    #[test]
    fn nothing_is_kept_past_an_expiry_ahead() {
        let now = Utc::now();
        let soon = now + chrono::Duration::seconds(2);
        let later = now + chrono::Duration::days(2);
        let past = now - chrono::Duration::seconds(5);
        assert_eq!(ttl_until([None, Some(later)], now), DEFAULT_TTL);
        assert_eq!(
            ttl_until([Some(later), Some(soon), None], now),
            Duration::from_secs(2)
        );
        // An expiry already passed changes nothing any more.
        assert_eq!(ttl_until([Some(past)], now), DEFAULT_TTL);
        assert_eq!(ttl_until([], now), DEFAULT_TTL);
    }

    #[test]
    fn a_tagged_value_reads_back_only_under_its_generation() {
        let t = tag(41, b"body\nwith lines");
        assert_eq!(untag(&t, 41), Some(&b"body\nwith lines"[..]));
        assert_eq!(untag(&t, 42), None);
        assert_eq!(untag(&tag(7, b""), 7), Some(&b""[..]));
        assert_eq!(untag(b"no tag", 7), None);
        assert_eq!(untag(b"x\nvalue", 7), None);
    }

    #[tokio::test]
    async fn apq_documents_survive_invalidation() {
        let cache = Cache::local("unit");
        cache.apq_put("ABC", "{ __typename }").await;
        cache.invalidate().await;
        assert_eq!(
            cache.apq_get("abc").await.as_deref(),
            Some("{ __typename }")
        );
    }
}
