//! One request's view of the cache: the generation read once, typed gets and puts, and
//! `get_or_compute`, the one way a read keeps its answer.
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::Backend;
use super::{Cache, CacheKind};

impl Cache {
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

/// What a read worked out on a miss: the value to keep, for how long, and what else the read
/// brought along that is not kept (rows for the request's loaders).
pub struct Computed<T, X> {
    pub value: T,
    pub ttl: Duration,
    pub extra: X,
}

impl RequestCache {
    /// The value of `kind`/`key`: from the cache when it is there (with no extra), else computed,
    /// kept for the TTL the computation names, and returned with its extra. Without a cache
    /// (`None`: mutations, subscriptions, answers not cached) it always computes; a failed
    /// computation keeps nothing. A hit or a miss counts once, as `get` does.
    pub async fn get_or_compute<T, X, E>(
        cache: Option<&Self>,
        kind: CacheKind,
        key: &str,
        compute: impl AsyncFnOnce() -> Result<Computed<T, X>, E>,
    ) -> Result<(T, Option<X>), E>
    where
        T: Serialize + DeserializeOwned,
    {
        if let Some(c) = cache
            && let Some(value) = c.get::<T>(kind, key).await
        {
            return Ok((value, None));
        }
        let Computed { value, ttl, extra } = compute().await?;
        if let Some(c) = cache {
            c.put(kind, key, &value, ttl).await;
        }
        Ok((value, Some(extra)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::DEFAULT_TTL;

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

    #[tokio::test]
    async fn get_or_compute_computes_once_then_hits() {
        let cache = Cache::local("unit");
        let r = cache.for_request();
        let compute = async || {
            Ok::<_, ()>(Computed {
                value: 7_u32,
                ttl: DEFAULT_TTL,
                extra: "rows",
            })
        };
        let first = RequestCache::get_or_compute(Some(&r), CacheKind::History, "k", compute).await;
        assert_eq!(first, Ok((7, Some("rows"))));
        let again = RequestCache::get_or_compute(Some(&r), CacheKind::History, "k", async || {
            Err::<Computed<u32, &str>, ()>(())
        })
        .await;
        assert_eq!(again, Ok((7, None)));
        let s = cache.stats_of(CacheKind::History);
        assert_eq!((s.hits, s.misses), (1, 1));
        let none = RequestCache::get_or_compute(None, CacheKind::History, "k", compute).await;
        assert_eq!(none, Ok((7, Some("rows"))));
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
}
