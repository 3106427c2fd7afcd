//! Read-only listing of an index's persons, for the consistency check (`ccpor check`), which
//! runs beside a live server holding the index's writer lock.
use std::path::Path;

use tantivy::directory::MmapDirectory;
use tantivy::{Index, ReloadPolicy};

use crate::IndexError;

/// The `person_id` of every live document of the index in `dir`, without taking its writer
/// lock. Ids may repeat if the index holds a person twice (itself an inconsistency).
pub fn person_ids_in_dir(dir: &Path) -> Result<Vec<i64>, IndexError> {
    let index = Index::open(MmapDirectory::open(dir)?)?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let mut ids = Vec::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        let pid = segment.fast_fields().i64("pid")?;
        for doc in segment.doc_ids_alive() {
            ids.extend(pid.values_for_doc(doc));
        }
    }
    Ok(ids)
}
