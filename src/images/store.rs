//! Where image bytes live: an `object_store` store chosen by URL. Objects are named by content
//! (`sha256/ab/<sha>`, previews `previews/ab/<sha>.png`), so one scan is stored once.
//!
//! - no URL, or `file:///abs/dir`, or a plain path: local files (default `<data-dir>/images`);
//! - `s3://bucket[/prefix][?endpoint=…&region=…&allow_http=true]`: any S3-compatible store;
//!   credentials come from the usual `AWS_*` environment variables (or query keys, for tests).
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

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

fn store_err(e: object_store::Error) -> AppError {
    AppError::internal(anyhow::anyhow!("image store: {e}"))
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
        let mut builder = AmazonS3Builder::from_env().with_url(base);
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
            return Err(AppError::internal(anyhow::anyhow!("image store: {e}")));
        }
        tokio::io::AsyncWriteExt::shutdown(&mut writer)
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("image store: {e}")))
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
