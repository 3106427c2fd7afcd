//! Streams an upload into a temporary file under the data dir, hashing as it goes and stopping
//! as soon as it passes the size limit. The file is deleted when the `Spooled` is dropped, so a
//! refused or failed upload leaves nothing.
use std::path::Path;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::error::{AppError, AppResult};
use crate::images::format::HEAD_LEN;

/// An upload on local disk, with its digest.
#[derive(Debug)]
pub struct Spooled {
    pub path: TempPath,
    pub size: u64,
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// The first bytes, for format sniffing.
    pub head: Vec<u8>,
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `body` to a new file in `dir`; `PAYLOAD_TOO_LARGE` past `limit` bytes.
pub async fn spool<S, E>(dir: &Path, mut body: S, limit: u64) -> AppResult<Spooled>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(AppError::internal)?;
    let tmp = tempfile::Builder::new()
        .prefix("upload-")
        .tempfile_in(dir)
        .map_err(AppError::internal)?;
    let (file, path) = tmp.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(HEAD_LEN);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            // The client went away or sent a broken body: a bad request, not our failure.
            AppError::invalid("file", format!("the upload was interrupted: {e}"))
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(AppError::PayloadTooLarge { limit });
        }
        if head.len() < HEAD_LEN {
            let take = (HEAD_LEN - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    file.flush().await.map_err(AppError::internal)?;
    Ok(Spooled {
        path,
        size,
        sha256: hex::encode(hasher.finalize()),
        head,
    })
}
