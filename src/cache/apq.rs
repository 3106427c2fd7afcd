//! Automatic persisted queries' documents, by SHA-256: kept a day, across invalidations (a
//! document does not change with the data).
use std::time::Duration;

use super::{Cache, CacheKind};

/// TTL of an automatic persisted query's document.
pub const APQ_TTL: Duration = Duration::from_secs(24 * 3600);

impl Cache {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
