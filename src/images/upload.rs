//! The write path. An upload is spooled, then authorized (the order exists and the caller may add
//! to it), and only then decoded and checked (so nobody unentitled gets the decoder to work on a
//! crafted file), before anything is stored; then one database transaction and the object store
//! move together:
//!
//! 1. the transaction inserts the content's `image_blob` row (or finds it). That insert is also
//!    the lock: a concurrent upload of the same content waits on it (PostgreSQL row lock, SQLite
//!    write lock) until this one commits or rolls back;
//! 2. objects not yet in the store are put (content-addressed, so a second upload stores nothing);
//! 3. order and image rows are written and the transaction commits.
//!
//! When any step fails, objects this upload created are deleted before the rollback releases the
//! lock, so no other upload can have come to rely on them; a failed commit is cleaned up under the
//! same lock, taken again. The database never names an object that was not stored, so
//! `images verify` reports only real losses.
use std::path::Path;

use bytes::Bytes;
use entities::{image_blob, order, order_image};
use futures_util::Stream;
use object_store::path::Path as Key;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};

use crate::domain::ids::{self, Kind};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::images::Images;
use crate::images::access::{AuditEvent, Requester};
use crate::images::format::Format;
use crate::images::inspect::inspect;
use crate::images::kind::ImageKind;
use crate::images::spool::{Spooled, sha256_hex, spool};
use crate::images::store::{original_key, preview_key};
use crate::service::commands::ImageOnlyOrder;
use crate::service::image_only;
use crate::service::refs::Refs;

/// An upload spooled and checked, not stored yet.
#[derive(Debug)]
pub struct Checked {
    spooled: Spooled,
    format: Format,
    pages: i32,
    /// PNG preview and its digest.
    preview: Option<(Vec<u8>, String)>,
    filename: Option<String>,
}

/// What an upload stored.
#[derive(Debug, Clone)]
pub struct Stored {
    pub image: order_image::Model,
    pub blob: image_blob::Model,
    /// The content was already stored (by this or another order).
    pub deduplicated: bool,
}

/// An upload spooled to local disk, neither decoded nor checked yet.
#[derive(Debug)]
pub struct Received {
    spooled: Spooled,
    filename: Option<String>,
}

/// Spools `body` (limit `images.max_bytes`); it is checked once the upload is authorized.
pub async fn receive<S, E>(images: &Images, body: S, filename: Option<&str>) -> AppResult<Received>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let spooled = spool(&images.spool_dir, body, images.max_bytes).await?;
    Ok(Received {
        spooled,
        filename: filename.and_then(clean_filename),
    })
}

/// Checks a received upload: format, wholeness, pages, preview (decoding it, on the blocking
/// pool). Only for an upload already authorized.
async fn check(received: Received) -> AppResult<Checked> {
    let Received { spooled, filename } = received;
    let path = spooled.path.to_path_buf();
    let (size, head) = (spooled.size, spooled.head.clone());
    let inspection = tokio::task::spawn_blocking(move || inspect(&path, size, &head))
        .await
        .map_err(AppError::internal)??;
    let preview = inspection.preview.map(|png| {
        let sha = sha256_hex(&png);
        (png, sha)
    });
    Ok(Checked {
        spooled,
        format: inspection.format,
        pages: inspection.pages,
        preview,
        filename,
    })
}

/// A client's file name, kept only for the download's name: no paths, no control characters.
fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty()).then_some(cleaned)
}

/// Stores a checked upload as an image of an existing order.
pub async fn attach(
    db: &DatabaseConnection,
    images: &Images,
    who: &Requester,
    order_gid: &str,
    kind: ImageKind,
    file: Received,
) -> AppResult<Stored> {
    let order_id = ids::decode("orderId", Kind::Order, order_gid)?;
    let o = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found(format!("order {order_gid}")))?;
    images
        .access
        .check_upload(db, who, o.court_id, Some(&o))
        .await?;
    let file = check(file).await?;
    let staged = Staged::begin(db, images, &file).await?;
    let result = staged.add_image(o.id, kind, who, &file).await;
    let stored = staged.finish(result).await?;
    audit_upload(db, images, who, &stored).await?;
    Ok(stored)
}

/// Registers an image-only order from its index record and stores the image with it, in one
/// transaction. Returns the new order's id.
pub async fn register(
    db: &DatabaseConnection,
    images: &Images,
    who: &Requester,
    record: &ImageOnlyOrder,
    kind: ImageKind,
    file: Received,
) -> AppResult<(i32, Stored)> {
    let refs = Refs::load(db).await?;
    let new = image_only::validate_record(record, &refs, time::now())?;
    images
        .access
        .check_upload(db, who, new.court_id, None)
        .await?;
    let file = check(file).await?;
    let staged = Staged::begin(db, images, &file).await?;
    let result = async {
        let order_id = image_only::insert_record(staged.txn(), &new).await?;
        staged.add_image(order_id, kind, who, &file).await
    }
    .await;
    let stored = staged.finish(result).await?;
    audit_upload(db, images, who, &stored).await?;
    Ok((stored.image.order_id, stored))
}

async fn audit_upload(
    db: &DatabaseConnection,
    images: &Images,
    who: &Requester,
    stored: &Stored,
) -> AppResult<()> {
    images
        .access
        .audit(
            db,
            who,
            AuditEvent::Uploaded {
                image_id: stored.image.id,
                order_id: stored.image.order_id,
                deduplicated: stored.deduplicated,
            },
        )
        .await
}

/// An open upload transaction holding the content's lock, with the objects it created.
struct Staged<'a> {
    db: &'a DatabaseConnection,
    images: &'a Images,
    txn: DatabaseTransaction,
    blob: image_blob::Model,
    deduplicated: bool,
    created: Vec<Key>,
}

/// Inserts the blob row unless it exists; true when this call inserted it. Takes the lock.
async fn claim_blob(txn: &DatabaseTransaction, row: image_blob::ActiveModel) -> AppResult<bool> {
    let inserted = image_blob::Entity::insert(row)
        .on_conflict(
            OnConflict::column(image_blob::Column::Sha256)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(inserted == 1)
}

fn blob_row(file: &Checked) -> AppResult<image_blob::ActiveModel> {
    let now = chrono::Utc::now();
    Ok(image_blob::ActiveModel {
        sha256: Set(file.spooled.sha256.clone()),
        content_type: Set(file.format.content_type().to_owned()),
        size: Set(i64::try_from(file.spooled.size).map_err(AppError::internal)?),
        pages: Set(file.pages),
        preview_sha256: Set(file.preview.as_ref().map(|(_, sha)| sha.clone())),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

impl<'a> Staged<'a> {
    async fn begin(
        db: &'a DatabaseConnection,
        images: &'a Images,
        file: &Checked,
    ) -> AppResult<Self> {
        let txn = crate::db::begin_write(db).await?;
        let sha = file.spooled.sha256.clone();
        let inserted = claim_blob(&txn, blob_row(file)?).await?;
        let blob = image_blob::Entity::find_by_id(sha.clone())
            .one(&txn)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("image_blob row vanished")))?;
        let mut staged = Self {
            db,
            images,
            txn,
            blob,
            deduplicated: !inserted,
            created: Vec::new(),
        };
        if let Err(e) = staged.put_objects(file, inserted).await {
            staged.abort().await;
            return Err(e);
        }
        Ok(staged)
    }

    /// Puts what the store lacks. Objects count as ours to delete only if this upload also
    /// created the blob row; otherwise a committed row already names them (a re-put heals a loss).
    async fn put_objects(&mut self, file: &Checked, own_row: bool) -> AppResult<()> {
        let store = &self.images.store;
        let key = original_key(&file.spooled.sha256);
        if !store.exists(&key).await? {
            if own_row {
                self.created.push(key.clone());
            }
            store.put_file(&key, Path::new(&file.spooled.path)).await?;
        }
        if let Some((png, _)) = &file.preview {
            let key = preview_key(&file.spooled.sha256);
            if !store.exists(&key).await? {
                if own_row {
                    self.created.push(key.clone());
                }
                store.put_bytes(&key, png.clone()).await?;
            }
        }
        Ok(())
    }

    fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// The image row for `order_id`; an identical earlier upload (same order, content, kind)
    /// is returned instead of a second row.
    async fn add_image(
        &self,
        order_id: i32,
        kind: ImageKind,
        who: &Requester,
        file: &Checked,
    ) -> AppResult<Stored> {
        let existing = order_image::Entity::find()
            .filter(order_image::Column::OrderId.eq(order_id))
            .filter(order_image::Column::BlobSha256.eq(self.blob.sha256.as_str()))
            .filter(order_image::Column::Kind.eq(kind.as_db()))
            .one(&self.txn)
            .await?;
        let image = match existing {
            Some(row) => row,
            None => {
                let now = chrono::Utc::now();
                order_image::ActiveModel {
                    order_id: Set(order_id),
                    blob_sha256: Set(self.blob.sha256.clone()),
                    kind: Set(kind.as_db().to_owned()),
                    filename: Set(file.filename.clone()),
                    uploaded_by: Set(who.label()),
                    uploaded_at: Set(now),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&self.txn)
                .await?
            }
        };
        Ok(Stored {
            image,
            blob: self.blob.clone(),
            deduplicated: self.deduplicated,
        })
    }

    /// Commits after `result` succeeded; otherwise undoes everything.
    async fn finish(self, result: AppResult<Stored>) -> AppResult<Stored> {
        let stored = match result {
            Ok(s) => s,
            Err(e) => {
                self.abort().await;
                return Err(e);
            }
        };
        let (db, images, sha, created) = (
            self.db,
            self.images,
            self.blob.sha256.clone(),
            self.created.clone(),
        );
        if let Err(e) = self.txn.commit().await {
            cleanup_after_failed_commit(db, images, &sha, &created).await;
            return Err(e.into());
        }
        Ok(stored)
    }

    /// Deletes the objects this upload created, then rolls back (releasing the lock).
    async fn abort(self) {
        for key in &self.created {
            if let Err(e) = self.images.store.delete(key).await {
                tracing::error!(error = %e, object = %key, "could not delete the object of a failed upload");
            }
        }
        if let Err(e) = self.txn.rollback().await {
            tracing::warn!(error = %e, "rollback of a failed upload");
        }
    }
}

/// A commit that failed may still have happened. Takes the content's lock again: when no row
/// names the content, nobody relies on the objects and they go.
async fn cleanup_after_failed_commit(
    db: &DatabaseConnection,
    images: &Images,
    sha: &str,
    created: &[Key],
) {
    if created.is_empty() {
        return;
    }
    let attempt = async {
        let txn = crate::db::begin_write(db).await?;
        let now = chrono::Utc::now();
        let probe = image_blob::ActiveModel {
            sha256: Set(sha.to_owned()),
            content_type: Set(String::new()),
            size: Set(0),
            pages: Set(0),
            preview_sha256: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        if claim_blob(&txn, probe).await? {
            for key in created {
                images.store.delete(key).await?;
            }
        }
        txn.rollback().await?;
        AppResult::Ok(())
    };
    if let Err(e) = attempt.await {
        tracing::error!(error = %e, sha256 = sha, "cleanup after a failed commit; run `ccpor images verify`");
    }
}

#[cfg(test)]
mod tests {
    use super::clean_filename;

    #[test]
    fn filenames_lose_paths_and_quotes() {
        assert_eq!(
            clean_filename("C:\\scans\\order \"1\".pdf").as_deref(),
            Some("order 1.pdf")
        );
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_filename("  "), None);
    }
}
