//! Order images: upload (GraphQL multipart and `POST /images`), content-addressed storage through
//! `object_store`, signed-link retrieval with previews, and `ccpor images verify`.
//!
//! One job per file: `format` (magic bytes), `spool` (streaming with the size limit and SHA-256),
//! `inspect` (whole file? pages, preview), `store` (the object store), `upload` (the transactional
//! write), `read` (reads through the access gate), `signing` (signed links), `access` (the gate),
//! `verify` (re-hashing), `kind` (what an image shows).

pub mod access;
pub mod format;
pub mod inspect;
pub mod kind;
pub mod read;
pub mod signing;
pub mod spool;
pub mod store;
pub mod upload;
pub mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use access::Access;
use signing::UrlSigner;
use store::ImageStore;

/// Default upload limit: 25 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 25 * 1024 * 1024;
/// Largest limit that can be configured (sizes are GraphQL `Int`s).
pub const MAX_MAX_BYTES: u64 = 1024 * 1024 * 1024;
/// Default lifetime of a signed link, in seconds.
pub const DEFAULT_URL_TTL_SECS: i64 = 300;

/// How images are configured (`ccpor --image-*` flags).
#[derive(Debug, Clone, Default)]
pub struct ImageSettings {
    /// Object store URL; `None`: `<data-dir>/images`.
    pub store_url: Option<String>,
    pub max_bytes: u64,
    pub url_ttl_secs: i64,
    /// Signing key for links; `None`: kept in `<data-dir>/image-url.key`.
    pub url_key: Option<String>,
}

/// Everything image handling needs, shared by all requests.
pub struct Images {
    pub store: ImageStore,
    /// Largest accepted file, in bytes.
    pub max_bytes: u64,
    pub signer: UrlSigner,
    pub access: Access,
    /// Where uploads are spooled before they are checked.
    pub spool_dir: PathBuf,
}

impl Images {
    pub fn open(settings: &ImageSettings, data_dir: &Path) -> anyhow::Result<Arc<Self>> {
        anyhow::ensure!(
            (1..=MAX_MAX_BYTES).contains(&settings.max_bytes),
            "the image size limit must be between 1 byte and {MAX_MAX_BYTES} bytes"
        );
        anyhow::ensure!(
            settings.url_ttl_secs > 0,
            "the signed link lifetime must be positive"
        );
        let ttl = chrono::Duration::seconds(settings.url_ttl_secs);
        Ok(Arc::new(Self {
            store: ImageStore::open(settings.store_url.as_deref(), data_dir)?,
            max_bytes: settings.max_bytes,
            signer: UrlSigner::load(settings.url_key.as_deref(), data_dir, ttl)?,
            access: Access::default(),
            spool_dir: data_dir.join("tmp").join("uploads"),
        }))
    }

    /// Deletes spooled uploads a killed server left behind (a dropped `Spooled` deletes its own
    /// file; SIGKILL or a power cut does not drop it). Only for the server that owns the data dir:
    /// `App::build` calls it once it holds the search index's lock, so no other server is
    /// spooling here. Returns how many files it removed; failures are logged, not fatal.
    pub fn clear_spool(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.spool_dir) else {
            return 0;
        };
        let mut removed = 0;
        for e in entries.flatten() {
            if !e.file_name().to_string_lossy().starts_with("upload-") {
                continue;
            }
            match std::fs::remove_file(e.path()) {
                Ok(()) => removed += 1,
                Err(err) => tracing::warn!(file = %e.path().display(), error = %err,
                    "could not remove a spooled upload"),
            }
        }
        if removed > 0 {
            tracing::info!(removed, "removed uploads spooled before a crash");
        }
        removed
    }
}
