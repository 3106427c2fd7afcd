//! Where entries live: the in-process moka cache or Redis, the data generation that versions
//! every key, and its invalidation after a write (retried in the background when Redis is away).
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;

use super::{BACKOFF, Cache, CacheError, CacheKind, GENERATION_TTL_MS, OP_TIMEOUT};

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

pub(super) enum Backend {
    Redis(ConnectionManager),
    Local {
        entries: moka::future::Cache<String, Entry>,
        generation: AtomicU64,
    },
}

#[derive(Clone)]
pub(super) struct Entry {
    pub(super) value: Arc<[u8]>,
    pub(super) ttl: Duration,
}

/// Each moka entry lives for its own TTL.
pub(super) struct PerEntryTtl;

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
    /// Runs a Redis command with the timeout and the back-off.
    pub(super) async fn redis_op<T>(
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

    pub(super) fn gen_key(&self) -> String {
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
    pub(super) fn tagged_key(&self, kind: CacheKind, key: &str) -> String {
        format!("{}:t:{}:{key}", self.0.namespace, kind.as_str())
    }

    /// With Redis, the generation and the tagged value of `kind`/`key` (still tagged), in one
    /// round trip of two plain `GET`s; `None` for the in-process cache, an invalidation still
    /// to get through, no generation yet, or Redis unreachable (the caller then goes the
    /// two-step way, which handles each).
    pub(super) async fn generation_and_get(
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
    pub(super) async fn get_tagged(&self, kind: CacheKind, key: &str) -> Option<Vec<u8>> {
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
    pub(super) async fn get_raw(&self, keys: &[String]) -> Vec<Option<Arc<[u8]>>> {
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

    pub(super) async fn put_raw(&self, items: Vec<(String, Vec<u8>, Duration)>) {
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
}

/// Where a fresh Redis starts counting generations: random, far from any earlier count.
fn random_base() -> u64 {
    rand::random::<u64>() >> 12
}
