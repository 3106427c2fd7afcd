//! `ccpor images verify`: re-hashes every stored object named in the database and reports the
//! missing and the corrupted (content no longer matching its SHA-256).
use entities::image_blob;
use indicatif::ProgressBar;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::error::AppResult;
use crate::images::store::{ImageStore, original_key, preview_key};

/// Rows read per page.
const PAGE: u64 = 500;

/// What is wrong with one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing {
        object: String,
    },
    Corrupted {
        object: String,
        actual_sha256: String,
    },
}

/// Outcome of a verification run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Objects re-hashed (originals and previews).
    pub checked: usize,
    pub problems: Vec<Problem>,
}

/// Checks each object against the digest recorded for it.
pub async fn verify(
    db: &DatabaseConnection,
    store: &ImageStore,
    progress: Option<&ProgressBar>,
) -> AppResult<Report> {
    let mut report = Report::default();
    if let Some(p) = progress {
        p.set_length(image_blob::Entity::find().count(db).await?);
    }
    let mut after = String::new();
    loop {
        let rows = image_blob::Entity::find()
            .filter(image_blob::Column::Sha256.gt(after.as_str()))
            .order_by_asc(image_blob::Column::Sha256)
            .limit(PAGE)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.sha256.clone();
        for blob in &rows {
            let mut objects = vec![(original_key(&blob.sha256), blob.sha256.clone())];
            if let Some(p) = &blob.preview_sha256 {
                objects.push((preview_key(&blob.sha256), p.clone()));
            }
            for (key, expected) in objects {
                report.checked += 1;
                let object = key.to_string();
                match store.digest(&key).await? {
                    None => report.problems.push(Problem::Missing { object }),
                    Some((actual, _)) if actual != expected => {
                        report.problems.push(Problem::Corrupted {
                            object,
                            actual_sha256: actual,
                        })
                    }
                    Some(_) => {}
                }
            }
            if let Some(p) = progress {
                p.inc(1);
            }
        }
    }
    Ok(report)
}
