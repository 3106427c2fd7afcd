//! Person-name search index of the protective-order registry.
//!
//! Answers "does this person already have orders anywhere in the state?" despite typos,
//! nicknames, accents, compound and particle surnames, swapped name order, aliases and
//! inexact dates of birth. Retrieval is a tantivy query built in code (never from user
//! syntax); ranking is done here because tantivy scores every fuzzy expansion alike.
//! The index is derived data: the database stays the source of truth.

mod collect;
mod dob_prefix;
mod fuzzy;
mod listing;
mod names;
mod placeholder;
mod rank;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use chrono::{Datelike, NaiveDate};
use tantivy::directory::MmapDirectory;
use tantivy::merge_policy::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, Term,
};

pub use listing::person_ids_in_dir;

use dob_prefix::{DobPrefixQuery, NameClue};
use names::{
    PartKey, given_key, nicknames, norm_case_number, norm_county, norm_court, phonetic_codes,
    raw_tokens, surname_key,
};
use rank::{
    KeyCache, StoredName, StoredPerson, dob_variants, partial_dob_dates, query_variants, score_dob,
    score_names, score_partial_dob, ymd,
};

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

#[derive(Clone, Copy)]
struct Fields {
    pid: Field,
    sur: Field,
    given: Field,
    sur_ph: Field,
    given_ph: Field,
    dob: Field,
    case: Field,
    role: Field,
    court: Field,
    county: Field,
    flags: Field,
    blob: Field,
    pair: Field,
}

impl Fields {
    fn schema() -> (Schema, Fields) {
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

    fn from_schema(schema: &Schema) -> Result<Fields, IndexError> {
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

/// Writer heap shared by the indexing threads; batches of thousands fit comfortably.
const WRITER_MEMORY_BYTES: usize = 50_000_000;
/// Candidates of the pair list and of the DOB list retrieved for re-ranking (more if the caller
/// asks for more hits, up to the cap).
const CANDIDATES: usize = 50;
/// Candidates of the whole name union. Small, so that its pruning threshold rises early: with
/// 100, a common name ("Wilson, Michael") scored tens of thousands of postings.
const UNION_CANDIDATES: usize = 30;
const MAX_CANDIDATES: usize = 2_000;
/// Segments of a size level merged together (see [`PersonIndex::from_index`]).
const MERGE_MIN_SEGMENTS: usize = 4;
/// Doc-store block size of new indexes (see [`index_settings`]).
const DOCSTORE_BLOCK_BYTES: usize = 2_048;
/// Retrieval score of a surname-and-given-name pair match (exact or nickname spelling): above
/// what any one name part's terms can add up to, so pair matches fill the candidates first.
const PAIR_SCORE: f32 = 10_000.0;
/// The same for a pair of Double Metaphone codes.
const PAIR_PHONETIC_SCORE: f32 = 5_000.0;
/// The same for a pair with one part misspelt (a fuzzy spelling of it found in the index).
/// Without these, "Stephen Clemenx" relied on the union, where the exact given name of every
/// other Stephen (BM25 favours one without a middle name) outscored the target's given name
/// plus a one-edit surname: once a registry holds more such Stephens than the union is deep,
/// the target was lost.
const PAIR_FUZZY_SCORE: f32 = 2_500.0;
/// At most this many fuzzy pair terms are looked up per search (a short, common token's
/// 2-edit spellings times the other part's spellings could be thousands).
const MAX_FUZZY_PAIRS: usize = 600;
/// Marks phonetic pair terms (codes are upper-case, spellings lower-case; this keeps them apart
/// even so).
const PHONETIC_PAIR: &str = "~";
/// Hits scoring below this are noise: a given name alone (0.45 at best) is not a match, a
/// surname alone (0.55), an exact DOB alone (0.5) or a case number (1.0) is.
const MIN_SCORE: f32 = 0.5;

/// Person search index. `Send + Sync`: share it behind an `Arc` and call from async code;
/// writes serialise on an internal lock, reads never block.
pub struct PersonIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    f: Fields,
}

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
    fn compact_counting_collisions(&self) -> Result<usize, IndexError> {
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

    /// Number of persons visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn to_document(&self, p: &PersonDoc) -> Result<TantivyDocument, IndexError> {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.pid, p.person_id);
        let mut sur: HashSet<String> = HashSet::new();
        let mut given: HashSet<String> = HashSet::new();
        let mut sur_ph: HashSet<String> = HashSet::new();
        let mut given_ph: HashSet<String> = HashSet::new();
        let mut pairs: HashSet<String> = HashSet::new();
        let mut names = vec![StoredName {
            last: p.last_name.clone(),
            first: p.first_name.clone(),
            middle: p.middle_name.clone(),
            alias: false,
        }];
        names.extend(p.aliases.iter().map(|a| StoredName {
            last: a.last_name.clone(),
            first: a.first_name.clone(),
            middle: None,
            alias: true,
        }));
        for n in &names {
            // placeholders are not searchable (see `placeholder`)
            let sk = surname_key(&placeholder::meaningful(&n.last).unwrap_or_default());
            for form in &sk.forms {
                sur.insert(form.text.clone());
                if form.core.is_some() {
                    sur_ph.extend(form.codes.iter().cloned());
                }
            }
            for (i, part) in [&n.first, &n.middle].into_iter().enumerate() {
                let Some(part) = part.as_deref().and_then(placeholder::meaningful) else {
                    continue;
                };
                let gk = given_key(&part);
                if i == 0 {
                    // pairs of the surname with the first given name only
                    pairs.extend(name_pairs(&sk, &gk, &[]));
                }
                for form in &gk.forms {
                    given.insert(form.text.clone());
                    if form.kind == names::FormKind::Core {
                        given_ph.extend(form.codes.iter().cloned());
                    }
                }
            }
        }
        let add_all = |doc: &mut TantivyDocument, field: Field, values: HashSet<String>| {
            for v in values {
                doc.add_text(field, v);
            }
        };
        add_all(&mut doc, f.sur, sur);
        add_all(&mut doc, f.given, given);
        add_all(&mut doc, f.sur_ph, sur_ph);
        add_all(&mut doc, f.given_ph, given_ph);
        add_all(&mut doc, f.pair, pairs);
        if let Some(d) = p.dob {
            doc.add_text(f.dob, ymd(d));
        }
        for c in &p.case_numbers {
            doc.add_text(f.case, norm_case_number(c));
        }
        for r in &p.roles {
            doc.add_text(f.role, r.key());
        }
        for c in &p.courts {
            doc.add_text(f.court, norm_court(c));
        }
        for c in &p.counties {
            doc.add_text(f.county, norm_county(c));
        }
        if p.active {
            doc.add_text(f.flags, "active");
        }
        let stored = StoredPerson {
            person_id: p.person_id,
            names,
            dob: p.dob,
            estimated_age: p.estimated_age,
            age_as_of: p.age_as_of,
            case_numbers: p.case_numbers.iter().map(|c| norm_case_number(c)).collect(),
        };
        doc.add_text(f.blob, serde_json::to_string(&stored)?);
        Ok(doc)
    }

    /// Ranked matches, best first, at most `limit` (at most 2 000).
    ///
    /// Retrieves candidates with recall-oriented queries (surname-and-given-name pairs; exact,
    /// phonetic and nickname terms on every name token in both surname and given-name fields,
    /// fuzzy terms in the token's own field; DOB variants combined with a name prefix; case
    /// number), then re-ranks them by name agreement, surname rarity and graded DOB agreement.
    /// Returns [`IndexError::EmptyQuery`] when there is nothing to match on.
    pub fn search(&self, q: &SearchQuery, limit: usize) -> Result<Vec<Hit>, IndexError> {
        let f = &self.f;
        // Placeholders ("Unknown", "Refused", "Man of the house") say nothing about the person:
        // the part counts as absent, so the other part and the DOB decide.
        let (free, first, last) = (
            nonblank(&q.name).and_then(placeholder::meaningful),
            nonblank(&q.first_name).and_then(placeholder::meaningful),
            nonblank(&q.last_name).and_then(placeholder::meaningful),
        );
        let (free, first, last) = (free.as_deref(), first.as_deref(), last.as_deref());
        let case = q
            .case_number
            .as_deref()
            .map(norm_case_number)
            .filter(|c| !c.is_empty());

        let searcher = self.reader.searcher();
        // Every recall clause but "DOB plus a partial name" is a plain term, so the union is one
        // of term scorers and tantivy prunes it with block-max WAND: for common names most
        // postings blocks are never scored. Boosts of the same term add up into one clause.
        let mut recall = RecallTerms::new(&searcher);
        // Raw tokens get fuzzy clauses in their main field(s); derived glued/particle forms only
        // exact and phonetic ones (fuzzing long glued forms costs much and adds little).
        let mut tokens: Vec<Tok> = Vec::new();
        let mut push_tokens = |raw: &str, sur: f32, given: f32, fuzzy: bool| {
            for text in raw_tokens(raw) {
                if !tokens.iter().any(|t| t.text == text) {
                    tokens.push(Tok {
                        text,
                        sur,
                        given,
                        fuzzy,
                    });
                }
            }
        };
        if let Some(free) = free {
            push_tokens(free, 1.0, 1.0, true);
        }
        if let Some(last) = last {
            push_tokens(last, 1.0, 0.5, true);
        }
        if let Some(first) = first {
            push_tokens(first, 0.5, 1.0, true);
        }
        if let Some(last) = last {
            for form in surname_key(last).forms {
                push_tokens(&form.text, 1.0, 0.5, false);
            }
        }
        if let Some(first) = first {
            // glued forms ("Mary Ann" → "maryann", "José María" → "josemaria")
            for form in given_key(first).forms {
                push_tokens(&form.text, 0.5, 1.0, false);
            }
        }
        if let Some(free) = free {
            // glued particle and compound forms ("de la Cruz" → "delacruz", "cruz")
            for form in surname_key(free).forms {
                push_tokens(&form.text, 1.0, 0.5, false);
            }
        }
        tokens.truncate(16);
        for tok in &tokens {
            self.name_terms(&mut recall, tok)?;
        }
        // Surname-and-given-name pairs: a person matching both parts outranks every person
        // matching one. For common names that lets block-max WAND skip the long single-name
        // postings ("Garcia", "Maria") once enough pair matches are collected.
        let variants = query_variants(first, last, free);
        let mut pair_terms: HashSet<String> = HashSet::new();
        let mut fuzzy_pairs: HashSet<String> = HashSet::new();
        for v in &variants {
            if let (Some((sk, _)), Some((gk, _))) = (&v.sur, &v.given) {
                let nicks: Vec<&str> = gk
                    .cores
                    .iter()
                    .flat_map(|c| nicknames(c))
                    .map(String::as_str)
                    .collect();
                pair_terms.extend(name_pairs(sk, gk, &nicks));
                fuzzy_pairs.extend(fuzzy_name_pairs(&recall.similar, f, sk, gk, &nicks));
            }
        }
        for text in &fuzzy_pairs {
            pair_terms.remove(text);
        }
        let pair_scores = pair_terms
            .into_iter()
            .map(|text| {
                let score = if text.starts_with(PHONETIC_PAIR) {
                    PAIR_PHONETIC_SCORE
                } else {
                    PAIR_SCORE
                };
                (text, score)
            })
            .chain(fuzzy_pairs.into_iter().map(|t| (t, PAIR_FUZZY_SCORE)));
        for (text, score) in pair_scores {
            let term = Term::from_field_text(f.pair, &text);
            let df = searcher.doc_freq(&term)? as u32;
            if df > 0 {
                recall.add_flat(term.clone(), df, score);
                recall.pairs.push(term);
            }
        }
        // DOB plus a partial name: the name may be just a prefix ("Gar") or an initial. Looked
        // up from the DOB side (see [`DobPrefixQuery`]) and retrieved as a second candidate list.
        let mut dob_prefix: Option<Box<dyn Query>> = None;
        let mut dob_terms: Vec<(String, f32)> = Vec::new();
        if let Some(dob) = q.dob {
            let variants = dob_variants(dob, !tokens.is_empty());
            if tokens.is_empty() {
                for v in &variants {
                    recall.add(Term::from_field_text(f.dob, v), 1.0);
                }
            } else {
                // graded like the re-ranking's DOB agreement, so the DOB entered ranks first
                let exact = ymd(dob);
                let swapped = NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month()).map(ymd);
                dob_terms = variants
                    .into_iter()
                    .map(|v| {
                        let w = if v == exact {
                            1.0
                        } else if Some(&v) == swapped.as_ref() {
                            0.8
                        } else {
                            0.6
                        };
                        (v, w)
                    })
                    .collect();
            }
        } else if let Some(p) = &q.dob_partial
            && !tokens.is_empty()
        {
            // every date the partial DOB allows; never on its own (a year is thousands of people)
            dob_terms = partial_dob_dates(p).into_iter().map(|d| (d, 0.7)).collect();
        }
        if !dob_terms.is_empty() {
            let prefixes: Vec<NameClue> = tokens
                .iter()
                .flat_map(|tok| [f.sur, f.given].map(|field| (field, tok)))
                .map(|(field, tok)| NameClue {
                    field,
                    prefix: tok.text.clone(),
                    similar: recall
                        .similar
                        .get(&(field, tok.text.clone()))
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            let weighted: Vec<(Term, f32)> = dob_terms
                .iter()
                .map(|(v, w)| (Term::from_field_text(f.dob, v), *w))
                .collect();
            dob_prefix = Some(Box::new(BoostQuery::new(
                Box::new(DobPrefixQuery::new(weighted, prefixes)),
                3.0,
            )));
        }
        if let Some(c) = &case {
            recall.add(Term::from_field_text(f.case, c), 20.0);
        }
        if recall.is_empty() && dob_prefix.is_none() {
            return Err(IndexError::EmptyQuery);
        }

        let mut filters: Vec<Term> = Vec::new();
        if let Some(r) = q.role {
            filters.push(Term::from_field_text(f.role, r.key()));
        }
        if let Some(c) = nonblank(&q.court) {
            filters.push(Term::from_field_text(f.court, &norm_court(c)));
        }
        if let Some(c) = nonblank(&q.county) {
            filters.push(Term::from_field_text(f.county, &norm_county(c)));
        }
        if q.active_only {
            filters.push(Term::from_field_text(f.flags, "active"));
        }
        let filtered = |query: Box<dyn Query>| -> Box<dyn Query> {
            if filters.is_empty() {
                return query;
            }
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
            for t in &filters {
                let tq: Box<dyn Query> =
                    Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
                clauses.push((Occur::Must, tq));
            }
            Box::new(BooleanQuery::new(clauses))
        };
        let wanted = CANDIDATES.max(limit).min(MAX_CANDIDATES);
        let mut addrs: Vec<DocAddress> = Vec::new();
        if !recall.is_empty() {
            // Three candidate lists, re-ranked together: the best pair matches; the best of the
            // whole union (pairs and single name parts), which is where a person matching no
            // pair comes from; and DOB plus a partial name. Pair matches are searched first:
            // if there are enough of them, the m-th bounds the union's m-th from below, and the
            // union prunes from its first block instead of scoring every "Garcia".
            let m = UNION_CANDIDATES.max(limit).min(MAX_CANDIDATES);
            let mut floor = 0.0;
            if !recall.pairs.is_empty() {
                let pairs = recall.query_of(&recall.pairs);
                let top = collect::top_k(&searcher, filtered(pairs).as_ref(), wanted, 0.0)?;
                if top.len() >= m
                    && let Some((kth, _)) = top.get(m - 1)
                {
                    // a little below: scores are f32 sums, and ties must still be collected
                    floor = kth * 0.999;
                }
                addrs.extend(top.into_iter().map(|(_, a)| a));
            }
            let all: Vec<Term> = recall.boosts.keys().cloned().collect();
            let union = recall.query_of(&all);
            let top = collect::top_k(&searcher, filtered(union).as_ref(), m, floor)?;
            addrs.extend(top.into_iter().map(|(_, a)| a));
        }
        if let Some(dp) = dob_prefix {
            let top = collect::top_k(&searcher, filtered(dp).as_ref(), wanted, 0.0)?;
            addrs.extend(top.into_iter().map(|(_, a)| a));
        }

        let n_docs = searcher.num_docs().max(1) as f32;
        let mut idf_cache: HashMap<String, f32> = HashMap::new();
        let mut weight = |tok: &str| -> f32 {
            if let Some(w) = idf_cache.get(tok) {
                return *w;
            }
            let df = searcher
                .doc_freq(&Term::from_field_text(f.sur, tok))
                .unwrap_or(0) as f32;
            let w = (1.0 + n_docs / (df + 1.0)).ln().max(0.05);
            idf_cache.insert(tok.to_owned(), w);
            w
        };
        let today = chrono::Utc::now().date_naive();

        // Stored records in index order: neighbours share doc-store blocks.
        addrs.sort_unstable();
        addrs.dedup();
        let mut persons = Vec::with_capacity(addrs.len());
        let mut keys = KeyCache::default();
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(blob) = doc.get_first(f.blob).and_then(|v| v.as_str()) else {
                continue;
            };
            let person: StoredPerson = serde_json::from_str(blob)?;
            if !variants.is_empty() {
                keys.add(&person);
            }
            persons.push(person);
        }

        let mut hits = Vec::with_capacity(persons.len());
        for person in persons {
            let mut score = 0.0f32;
            let mut explanation = Vec::new();
            if !variants.is_empty()
                && let Some(ns) = score_names(&variants, &person, &keys, &mut weight)
            {
                score += ns.score;
                explanation.extend(ns.explanation);
            }
            let dob_score = match (q.dob, &q.dob_partial) {
                (Some(qd), _) => score_dob(qd, &person, today),
                (None, Some(p)) => score_partial_dob(p, &person),
                (None, None) => None,
            };
            if let Some((s, e)) = dob_score {
                score += 0.5 * s;
                explanation.push(e);
                // how a DOB typed as text was read, so the clerk can judge the match
                if let Some(note) = &q.dob_note {
                    explanation.push(note.clone());
                }
            }
            if let Some(c) = &case
                && person.case_numbers.iter().any(|pc| pc == c)
            {
                score += 1.0;
                explanation.push("case number exact".to_owned());
            }
            if score >= MIN_SCORE {
                hits.push(Hit {
                    person_id: person.person_id,
                    score,
                    explanation,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.person_id.cmp(&b.person_id))
        });
        hits.truncate(limit);
        Ok(hits)
    }

    /// Recall terms for one normalised token: exact, nickname, phonetic and fuzzy terms, in
    /// the surname and given-name fields with the token's boosts. Fuzzy terms only go to the
    /// token's main field(s): they dominate query cost.
    fn name_terms(&self, out: &mut RecallTerms<'_>, tok: &Tok) -> Result<(), IndexError> {
        let f = &self.f;
        let t = tok.text.as_str();
        // codes of 1–2 letter tokens (particles, initials) match far too much
        let codes = if t.len() >= 3 {
            phonetic_codes(t)
        } else {
            Vec::new()
        };
        let distance = match t.chars().count() {
            0..=3 => 0,
            4..=5 => 1,
            _ => 2,
        };
        for (field, ph_field, boost, given) in [
            (f.sur, f.sur_ph, tok.sur, false),
            (f.given, f.given_ph, tok.given, true),
        ] {
            out.add(Term::from_field_text(field, t), boost * 4.0);
            if given {
                for alt in nicknames(t) {
                    out.add(Term::from_field_text(field, alt), boost * 3.0);
                }
            }
            for code in &codes {
                out.add(Term::from_field_text(ph_field, code), boost * 2.0);
            }
            if distance > 0 && tok.fuzzy && boost >= 1.0 {
                // Every fuzzy match scores the same (1.5 × boost), whatever its rarity.
                let expanded = fuzzy::expand(out.searcher, field, t, distance)?;
                let mut similar = Vec::with_capacity(expanded.len());
                for (text, df) in expanded {
                    out.add_flat(Term::from_field_text(field, &text), df, boost * 1.5);
                    similar.push(text);
                }
                // closest first, so that capped uses of the list keep the best spellings
                similar.sort_by_cached_key(|s| (strsim::osa_distance(s, t), s.clone()));
                out.similar.insert((field, t.to_owned()), similar);
            }
        }
        Ok(())
    }
}

/// The recall union's terms with their summed boosts.
struct RecallTerms<'s> {
    searcher: &'s tantivy::Searcher,
    boosts: HashMap<Term, f32>,
    /// The surname-and-given-name pair terms among them.
    pairs: Vec<Term>,
    /// Fuzzy spellings found for a query token in a name field.
    similar: HashMap<(Field, String), Vec<String>>,
}

impl<'s> RecallTerms<'s> {
    fn new(searcher: &'s tantivy::Searcher) -> Self {
        Self {
            searcher,
            boosts: HashMap::new(),
            pairs: Vec::new(),
            similar: HashMap::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.boosts.is_empty()
    }

    /// A term scored by BM25 (rare terms weigh more), times `boost`.
    fn add(&mut self, term: Term, boost: f32) {
        *self.boosts.entry(term).or_default() += boost;
    }

    /// A term whose match should score about `score` whatever its rarity: the boost cancels
    /// BM25's idf (`doc_freq` is the term's document count).
    fn add_flat(&mut self, term: Term, doc_freq: u32, score: f32) {
        let n = self.searcher.num_docs() as f32;
        let df = doc_freq as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05);
        self.add(term, score / idf);
    }

    /// A union of `terms` with their summed boosts.
    fn query_of(&self, terms: &[Term]) -> Box<dyn Query> {
        Box::new(BooleanQuery::new(
            terms
                .iter()
                .map(|term| {
                    let boost = self.boosts.get(term).copied().unwrap_or(0.0);
                    let q: Box<dyn Query> = Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        boost,
                    ));
                    (Occur::Should, q)
                })
                .collect(),
        ))
    }
}

/// Merge sooner than tantivy's default (8 segments per level): every segment costs each
/// search its own term-dictionary walks, so fewer segments mean faster fuzzy terms.
fn merge_policy() -> Box<LogMergePolicy> {
    let mut merge = LogMergePolicy::default();
    merge.set_min_num_segments(MERGE_MIN_SEGMENTS);
    Box::new(merge)
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
fn index_settings() -> IndexSettings {
    IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..IndexSettings::default()
    }
}

/// A normalised query token with its boosts in the surname and given-name fields.
struct Tok {
    text: String,
    sur: f32,
    given: f32,
    fuzzy: bool,
}

/// Pair terms of a surname and given names: every surname spelling with every given-name
/// spelling (and `extra_given` ones, the query's nicknames), and every surname code with every
/// given-name code.
fn name_pairs(sur: &PartKey, given: &PartKey, extra_given: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let given_texts = given
        .forms
        .iter()
        .map(|g| g.text.as_str())
        .chain(extra_given.iter().copied());
    for g in given_texts {
        for s in &sur.forms {
            out.push(format!("{}|{g}", s.text));
        }
    }
    let given_codes: Vec<&String> = given
        .forms
        .iter()
        .filter(|g| g.kind == names::FormKind::Core)
        .flat_map(|g| &g.codes)
        .collect();
    for s in sur.forms.iter().filter(|s| s.core.is_some()) {
        for sc in &s.codes {
            for gc in &given_codes {
                out.push(format!("{PHONETIC_PAIR}{sc}|{gc}"));
            }
        }
    }
    out
}

/// Pair terms with one part replaced by one of its fuzzy spellings found in the index
/// (`similar`, filled by [`PersonIndex::name_terms`]): every misspelt surname token with every
/// given-name spelling (and the query's nicknames), every misspelt given token with every
/// surname spelling. The exact part must be right; typos in both parts are left to the DOB
/// list and the union.
fn fuzzy_name_pairs(
    similar: &HashMap<(Field, String), Vec<String>>,
    f: &Fields,
    sur: &PartKey,
    given: &PartKey,
    extra_given: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    let given_texts: Vec<&str> = given
        .forms
        .iter()
        .map(|g| g.text.as_str())
        .chain(extra_given.iter().copied())
        .collect();
    for s in &sur.forms {
        for alt in similar.get(&(f.sur, s.text.clone())).into_iter().flatten() {
            for g in &given_texts {
                out.push(format!("{alt}|{g}"));
            }
        }
    }
    for g in &given.forms {
        for alt in similar
            .get(&(f.given, g.text.clone()))
            .into_iter()
            .flatten()
        {
            for s in &sur.forms {
                out.push(format!("{}|{alt}", s.text));
            }
        }
    }
    out.truncate(MAX_FUZZY_PAIRS);
    out
}

fn nonblank(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests;
