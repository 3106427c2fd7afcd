//! Where image bytes live: an `object_store` store chosen by URL. Objects are named by content
//! (`sha256/ab/<sha>`, previews `previews/ab/<sha>.png`), so one scan is stored once.
//!
//! - no URL, or `file:///abs/dir`, or a plain path: local files (default `<data-dir>/images`);
//! - `s3://bucket[/prefix][?endpoint=…&region=…&allow_http=true]`: any S3-compatible store;
//!   credentials come from the usual `AWS_*` environment variables (or query keys, for tests).
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, PutPayload, RetryConfig,
};

use crate::error::{AppError, AppResult};

/// The configured object store.
#[derive(Clone)]
pub struct ImageStore {
    inner: Arc<dyn ObjectStore>,
    /// For logs and `images verify`; never holds credentials.
    pub description: String,
}

/// Object name of an original.
pub fn original_key(sha256: &str) -> Key {
    Key::from(format!(
        "sha256/{}/{sha256}",
        sha256.get(..2).unwrap_or("00")
    ))
}

/// Object name of a preview, by the original's digest.
pub fn preview_key(sha256: &str) -> Key {
    Key::from(format!(
        "previews/{}/{sha256}.png",
        sha256.get(..2).unwrap_or("00")
    ))
}

/// What an image store failure means for the client: the store is full, or cannot be reached,
/// or something else (internal). Looks through the whole chain of causes, including the
/// `io::Error`s the buffered writer wraps store errors in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFault {
    Full,
    Unavailable,
}

/// `ENOSPC` and `EDQUOT` (Linux numbers; the kinds cover the other platforms).
const NO_SPACE: [i32; 2] = [28, 122];

/// The network failures that mean the store cannot be reached.
const UNREACHABLE: [std::io::ErrorKind; 8] = [
    std::io::ErrorKind::ConnectionRefused,
    std::io::ErrorKind::ConnectionReset,
    std::io::ErrorKind::ConnectionAborted,
    std::io::ErrorKind::NotConnected,
    std::io::ErrorKind::TimedOut,
    std::io::ErrorKind::HostUnreachable,
    std::io::ErrorKind::NetworkUnreachable,
    std::io::ErrorKind::BrokenPipe,
];

/// The fault `e` (or one of its causes) means, if it is one.
pub fn fault_of(e: &(dyn std::error::Error + 'static)) -> Option<StoreFault> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::StorageFull
                || io.raw_os_error().is_some_and(|c| NO_SPACE.contains(&c))
            {
                return Some(StoreFault::Full);
            }
            if UNREACHABLE.contains(&io.kind()) {
                return Some(StoreFault::Unavailable);
            }
            // `io::Error::source` skips the wrapped error itself; look at it.
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
        }
        if let Some(http) = err.downcast_ref::<object_store::client::HttpError>() {
            use object_store::client::HttpErrorKind as K;
            if matches!(
                http.kind(),
                K::Connect | K::Request | K::Timeout | K::Interrupted
            ) {
                return Some(StoreFault::Unavailable);
            }
        }
        next = err.source();
    }
    fault_by_text(e)
}

/// A request to the store that timed out: the HTTP client's timeout is no `io::Error` and the
/// store's own error kind is not reachable through the chain of causes, so it is known by its
/// message.
fn fault_by_text(e: &(dyn std::error::Error + 'static)) -> Option<StoreFault> {
    let mut next = Some(e);
    while let Some(err) = next {
        if err.to_string() == "operation timed out" {
            return Some(StoreFault::Unavailable);
        }
        next = err.source();
    }
    None
}

/// A store failure as the client's error: `IMAGE_STORE_FULL`, `IMAGE_STORE_UNAVAILABLE`, or
/// internal (logged, masked).
fn classify(e: &(dyn std::error::Error + 'static), what: String) -> AppError {
    match fault_of(e) {
        Some(f) => {
            tracing::warn!(error = %what, "image store fault");
            match f {
                StoreFault::Full => AppError::ImageStoreFull,
                StoreFault::Unavailable => AppError::ImageStoreUnavailable,
            }
        }
        None => AppError::internal(anyhow::anyhow!("image store: {what}")),
    }
}

fn store_err(e: object_store::Error) -> AppError {
    let what = e.to_string();
    classify(&e, what)
}

fn io_err(e: std::io::Error) -> AppError {
    let what = e.to_string();
    classify(&e, what)
}

/// Bytes of a stored object, streamed.
pub struct Fetched {
    pub stream: BoxStream<'static, Result<Bytes, object_store::Error>>,
    /// The byte range returned.
    pub range: Range<u64>,
    /// The whole object's size.
    pub size: u64,
}

impl ImageStore {
    /// Opens the store named by `url` (see the module docs); `None` means `<data_dir>/images`.
    pub fn open(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        let url = url.map(str::trim).filter(|u| !u.is_empty());
        match url {
            None => Self::local(&data_dir.join("images")),
            Some(u) if u.starts_with("s3://") || u.starts_with("s3a://") => Self::s3(u),
            Some(u) => Self::local(Path::new(u.strip_prefix("file://").unwrap_or(u))),
        }
    }

    fn local(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating image directory {}", dir.display()))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening image directory {}", dir.display()))?
            .with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(fs),
            description: format!("file://{}", dir.display()),
        })
    }

    fn s3(url: &str) -> anyhow::Result<Self> {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        // Fail within seconds when the endpoint is gone (the defaults retry for minutes), so an
        // upload is refused with IMAGE_STORE_UNAVAILABLE instead of hanging; query keys such as
        // `connect_timeout` still override these.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(10),
        };
        let options = ClientOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(60));
        let mut builder = AmazonS3Builder::from_env()
            .with_url(base)
            .with_retry(retry)
            .with_client_options(options);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key: AmazonS3ConfigKey = k
                .to_ascii_lowercase()
                .parse()
                .with_context(|| format!("unknown S3 option '{k}' in the image store URL"))?;
            builder = builder.with_config(key, v);
        }
        let store = builder.build().context("configuring the S3 image store")?;
        let rest = base.split_once("://").map(|(_, r)| r).unwrap_or(base);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Self {
            inner,
            description: format!("s3://{bucket}/{prefix}"),
        })
    }

    /// Whether `key` is stored.
    pub async fn exists(&self, key: &Key) -> AppResult<bool> {
        match self.inner.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Stores the file at `path` under `key`, streaming (multipart for large files).
    pub async fn put_file(&self, key: &Key, path: &Path) -> AppResult<()> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(AppError::internal)?;
        let mut writer = BufWriter::new(self.inner.clone(), key.clone());
        if let Err(e) = tokio::io::copy(&mut file, &mut writer).await {
            let _ = writer.abort().await;
            return Err(io_err(e));
        }
        tokio::io::AsyncWriteExt::shutdown(&mut writer)
            .await
            .map_err(io_err)
    }

    pub async fn put_bytes(&self, key: &Key, bytes: Vec<u8>) -> AppResult<()> {
        self.inner
            .put(key, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(store_err)
    }

    /// Deletes `key`; a missing object is not an error.
    pub async fn delete(&self, key: &Key) -> AppResult<()> {
        match self.inner.delete(key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Streams `key`, or the byte range `range` of it. `Ok(None)` when the object is missing.
    pub async fn get(&self, key: &Key, range: Option<Range<u64>>) -> AppResult<Option<Fetched>> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        match self.inner.get_opts(key, opts).await {
            Ok(r) => Ok(Some(Fetched {
                range: r.range.clone(),
                size: r.meta.size,
                stream: r.into_stream(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// SHA-256 of a stored object, streamed; `Ok(None)` when missing.
    pub async fn digest(&self, key: &Key) -> AppResult<Option<(String, u64)>> {
        use sha2::Digest;
        let Some(mut fetched) = self.get(key, None).await? else {
            return Ok(None);
        };
        let mut hasher = sha2::Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = fetched.stream.next().await {
            let chunk = chunk.map_err(store_err)?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(Some((hex::encode(hasher.finalize()), size)))
    }

    /// Every object name in the store (for tests and for finding strays).
    pub async fn list(&self) -> AppResult<Vec<String>> {
        let mut out = Vec::new();
        let mut s = self.inner.list(None);
        while let Some(meta) = s.next().await {
            out.push(meta.map_err(store_err)?.location.to_string());
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{StoreFault, fault_of};

    #[test]
    fn a_full_disk_is_found_through_the_writer_and_store_wrappers() {
        let full = std::io::Error::from_raw_os_error(28);
        let store = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(full),
        };
        // The buffered writer hands store errors on wrapped in an `io::Error`.
        let wrapped = std::io::Error::other(store);
        assert_eq!(fault_of(&wrapped), Some(StoreFault::Full));
        let other = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        };
        assert_eq!(fault_of(&other), None);
    }
}
