//! Writing to the index: upserts, deletes, bulk loads and compaction.

use tantivy::Term;
use tantivy::merge_policy::{LogMergePolicy, NoMergePolicy};

use crate::{IndexError, PersonDoc, PersonIndex};

/// Segments of a size level merged together (see [`merge_policy`]).
const MERGE_MIN_SEGMENTS: usize = 4;

impl PersonIndex {
    /// Replaces the given persons (by `person_id`), commits and reloads, so the next search
    /// sees them. One commit per call: pass batches rather than single records when bulk loading.
    pub fn upsert(&self, docs: &[PersonDoc]) -> Result<(), IndexError> {
        if docs.is_empty() {
            return Ok(());
        }
        let built = docs
            .iter()
            .map(|d| self.to_document(d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        for (doc, tdoc) in docs.iter().zip(built) {
            writer.delete_term(Term::from_field_i64(self.f.pid, doc.person_id));
            writer.add_document(tdoc)?;
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes persons; commits and reloads.
    pub fn delete(&self, person_ids: &[i64]) -> Result<(), IndexError> {
        if person_ids.is_empty() {
            return Ok(());
        }
        let mut writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        for id in person_ids {
            writer.delete_term(Term::from_field_i64(self.f.pid, *id));
        }
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Starts a bulk load (a rebuild): no background merges until [`PersonIndex::compact`],
    /// which then merges everything once. Merging while loading costs the load time, and a
    /// background merge still running when `compact` merges the same segments makes the one
    /// that ends second fail: tantivy logs "couldn't find segment in SegmentManager" and drops
    /// that merge's output. No person is lost (the other merge holds them; see the tests), but
    /// the work is done twice and the warning alarms whoever runs `ccpor reindex`.
    pub fn begin_bulk_load(&self) -> Result<(), IndexError> {
        let writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        Ok(())
    }

    /// Merges all segments into one, after a bulk load or rebuild, and ends a bulk load. Every
    /// segment costs each search its own term-dictionary walks; a steady index has few, a
    /// freshly bulk-loaded one many. Waits for background merges holding segments to finish.
    pub fn compact(&self) -> Result<(), IndexError> {
        self.compact_counting_collisions().map(|_| ())
    }

    /// [`PersonIndex::compact`], returning how often its merge collided with a background
    /// merge of the same segments and had to be retried.
    pub(crate) fn compact_counting_collisions(&self) -> Result<usize, IndexError> {
        let mut writer = self.writer.lock().map_err(|_| IndexError::Poisoned)?;
        let index = self.reader.searcher().index().clone();
        let mut collisions = 0;
        for _ in 0..300 {
            let ids = index.searchable_segment_ids()?;
            if ids.len() <= 1 {
                break;
            }
            match writer.merge(&ids).wait() {
                Ok(_) => break,
                // A background merge still holds some of these segments.
                Err(_) => {
                    collisions += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        }
        writer.set_merge_policy(merge_policy());
        self.reader.reload()?;
        Ok(collisions)
    }
}

/// Merge sooner than tantivy's default (8 segments per level): every segment costs each
/// search its own term-dictionary walks, so fewer segments mean faster fuzzy terms.
pub(crate) fn merge_policy() -> Box<LogMergePolicy> {
    let mut merge = LogMergePolicy::default();
    merge.set_min_num_segments(MERGE_MIN_SEGMENTS);
    Box::new(merge)
}
