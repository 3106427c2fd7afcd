//! Person-name search index of the protective-order registry.
//!
//! Answers "does this person already have orders anywhere in the state?" despite typos,
//! nicknames, accents, compound and particle surnames, swapped name order, aliases and
//! inexact dates of birth. Retrieval is a tantivy query built in code (never from user
//! syntax); ranking is done here because tantivy scores every fuzzy expansion alike.
//! The index is derived data: the database stays the source of truth.

mod collect;
mod dob_prefix;
mod document;
mod fuzzy;
mod listing;
mod names;
mod open;
mod pairs;
mod placeholder;
mod rank;
mod recall;
mod rerank;
mod schema;
mod search;
mod writer;

use std::sync::Mutex;

use chrono::NaiveDate;
use tantivy::{IndexReader, IndexWriter, TantivyDocument};

pub use listing::person_ids_in_dir;

use schema::Fields;

/// Errors of the index; tantivy and I/O failures are passed through.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed (I/O, schema mismatch with an existing index, writer lock held elsewhere).
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index directory could not be opened.
    #[error("opening index directory: {0}")]
    OpenDirectory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// The index directory could not be created.
    #[error("index directory: {0}")]
    Io(#[from] std::io::Error),
    /// A stored record could not be (de)serialised; rebuild the index from the database.
    #[error("stored person record is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The index on disk was written by an earlier version of this crate with other fields;
    /// rebuild it from the database ([`PersonIndex::is_outdated`] tells beforehand).
    #[error("search index was built by an earlier version; rebuild it (ccpor reindex)")]
    Outdated,
    /// An earlier writer panicked mid-write; reopen the index.
    #[error("index writer lock poisoned by an earlier panic")]
    Poisoned,
    /// The query has no name, DOB or case number, so there is nothing to match on.
    #[error("query needs a name, a date of birth or a case number")]
    EmptyQuery,
}

/// Party role in an order; used as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Restrained,
    Protected,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::Restrained => "restrained",
            Role::Protected => "protected",
        }
    }
}

/// Another name the person is known by (AKA, maiden or married name).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AliasName {
    pub last_name: String,
    pub first_name: Option<String>,
}

/// A person as indexed: names as written (normalisation happens inside), DOB or an estimated
/// age, and the facets searches filter on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PersonDoc {
    pub person_id: i64,
    /// As written; may be compound ("García López"), with particles ("de la Cruz") or hyphenated.
    pub last_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub aliases: Vec<AliasName>,
    pub dob: Option<NaiveDate>,
    /// Used when `dob` is unknown (order forms allow an estimate).
    pub estimated_age: Option<i32>,
    /// When `estimated_age` was estimated; today if unknown.
    pub age_as_of: Option<NaiveDate>,
    /// Already normalised: upper-case letters and digits only.
    pub case_numbers: Vec<String>,
    /// Court codes such as "SC19".
    pub courts: Vec<String>,
    /// County names such as "Los Angeles".
    pub counties: Vec<String>,
    pub roles: Vec<Role>,
    /// Has an active order.
    pub active: bool,
}

/// A search. Every criterion is optional; at least a name, DOB or case number is needed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    /// Free-text full name in any order ("Bob Garcia", "GARCIA, ROBERT").
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<NaiveDate>,
    /// Raw; normalised here (upper-case letters and digits only).
    pub case_number: Option<String>,
    pub role: Option<Role>,
    pub court: Option<String>,
    pub county: Option<String>,
    pub active_only: bool,
    /// What could be read of a DOB typed as text when it is no whole date (year only, year and
    /// month, month and day under an impossible year). Used when `dob` is `None`.
    pub dob_partial: Option<PartialDob>,
    /// How a typed DOB was read ("DOB 1988-23-04 read as 1988-04-23"); added to the
    /// explanation of every hit whose DOB was compared.
    pub dob_note: Option<String>,
}

/// The known parts of a date of birth. Month and day are 1-based; a part is `None` when it
/// was not given or cannot be trusted (a year such as 2088 or 8198).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartialDob {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

/// A ranked match with the reasons it matched, for the clerk to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub person_id: i64,
    pub score: f32,
    pub explanation: Vec<String>,
}

/// Person search index. `Send + Sync`: share it behind an `Arc` and call from async code;
/// writes serialise on an internal lock, reads never block.
pub struct PersonIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    f: Fields,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_sparse;
#[cfg(test)]
mod tests_typos;
