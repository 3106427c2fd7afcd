//! Opening an index: on disk (created if missing, refused if outdated) or in memory.

use std::path::Path;
use std::sync::Mutex;

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexWriter, ReloadPolicy, TantivyDocument};

use crate::schema::{Fields, index_settings};
use crate::writer::merge_policy;
use crate::{IndexError, PersonIndex};

/// Writer heap shared by the indexing threads; batches of thousands fit comfortably.
const WRITER_MEMORY_BYTES: usize = 50_000_000;

impl PersonIndex {
    /// Opens the index in `dir`, creating the directory and index if missing.
    /// [`IndexError::Outdated`] if it holds an index of an earlier version.
    pub fn create_in_dir(dir: &Path) -> Result<Self, IndexError> {
        std::fs::create_dir_all(dir)?;
        if Self::is_outdated(dir)? {
            return Err(IndexError::Outdated);
        }
        let (schema, _) = Fields::schema();
        let index = Index::builder()
            .schema(schema)
            .settings(index_settings())
            .open_or_create(MmapDirectory::open(dir)?)?;
        Self::from_index(index)
    }

    /// Whether `dir` holds an index whose fields differ from this version's, so it must be
    /// rebuilt before it can be opened. A missing or empty directory is not outdated.
    pub fn is_outdated(dir: &Path) -> Result<bool, IndexError> {
        if !dir.join("meta.json").exists() {
            return Ok(false);
        }
        let index = Index::open(MmapDirectory::open(dir)?)?;
        Ok(index.schema() != Fields::schema().0)
    }

    /// A RAM-only index, for tests and throwaway use.
    pub fn in_memory() -> Result<Self, IndexError> {
        let (schema, _) = Fields::schema();
        Self::from_index(
            Index::builder()
                .schema(schema)
                .settings(index_settings())
                .create_in_ram()?,
        )
    }

    fn from_index(index: Index) -> Result<Self, IndexError> {
        let f = Fields::from_schema(&index.schema())?;
        let writer: IndexWriter<TantivyDocument> = index.writer(WRITER_MEMORY_BYTES)?;
        writer.set_merge_policy(merge_policy());
        // Writes reload explicitly: a clerk who just entered an order must find it on the next
        // search. The reader also follows later index versions by itself, so that segments merged
        // in the background replace their many small parts (each segment costs every search a
        // term-dictionary walk) even when no write follows.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(Self {
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }
}
