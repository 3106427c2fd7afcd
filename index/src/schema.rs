//! What the index holds: its fields, how each is indexed, and the doc-store settings.

use tantivy::IndexSettings;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use crate::IndexError;

/// Doc-store block size of new indexes (see [`index_settings`]).
const DOCSTORE_BLOCK_BYTES: usize = 2_048;

/// The index's fields, looked up once.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) pid: Field,
    pub(crate) sur: Field,
    pub(crate) given: Field,
    pub(crate) sur_ph: Field,
    pub(crate) given_ph: Field,
    pub(crate) dob: Field,
    pub(crate) case: Field,
    pub(crate) role: Field,
    pub(crate) court: Field,
    pub(crate) county: Field,
    pub(crate) flags: Field,
    pub(crate) blob: Field,
    pub(crate) pair: Field,
}

impl Fields {
    pub(crate) fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let f = Fields {
            pid: b.add_i64_field("pid", INDEXED | STORED | FAST),
            sur: b.add_text_field("sur", scored().set_fast("raw")),
            given: b.add_text_field("given", scored().set_fast("raw")),
            sur_ph: b.add_text_field("sur_ph", scored()),
            given_ph: b.add_text_field("given_ph", scored()),
            dob: b.add_text_field("dob", scored()),
            case: b.add_text_field("case", scored()),
            role: b.add_text_field("role", STRING),
            court: b.add_text_field("court", STRING),
            county: b.add_text_field("county", STRING),
            flags: b.add_text_field("flags", STRING),
            blob: b.add_text_field("blob", STORED),
            pair: b.add_text_field("pair", scored()),
        };
        (b.build(), f)
    }

    pub(crate) fn from_schema(schema: &Schema) -> Result<Fields, IndexError> {
        let get = |name: &str| schema.get_field(name);
        Ok(Fields {
            pid: get("pid")?,
            sur: get("sur")?,
            given: get("given")?,
            sur_ph: get("sur_ph")?,
            given_ph: get("given_ph")?,
            dob: get("dob")?,
            case: get("case")?,
            role: get("role")?,
            court: get("court")?,
            county: get("county")?,
            flags: get("flags")?,
            blob: get("blob")?,
            pair: get("pair")?,
        })
    }
}

/// Indexed untokenised with term frequencies: block-max WAND needs them (a name's frequency
/// is always 1, so they cost almost nothing).
fn scored() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// Small doc-store blocks: re-ranking reads ~200 scattered records per search, and each read
/// decompresses a whole block (16 KiB by default). Applies to indexes created from now on.
pub(crate) fn index_settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..IndexSettings::default()
    }
}
