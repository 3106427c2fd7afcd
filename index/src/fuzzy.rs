//! Fuzzy name-term retrieval that keeps the term-dictionary walk small.
//!
//! A plain 2-edit Levenshtein automaton has to visit nearly every 1–2 letter prefix of the
//! dictionary (any two letters are within two edits of anything), which made fuzzy terms the
//! largest cost of a search and one that grows with the number of distinct surnames. Here the
//! automaton only walks the terms that share the token's first letter, and a single error in
//! the first letter ("Celly" for "Kelly") is found by looking up its few spellings exactly.
//! Only two errors one of which is in the first letter are no longer retrieved.

use tantivy::postings::TermInfo;
use tantivy::query::{
    BitSetDocSet, ConstScorer, DfaWrapper, EnableScoring, Explanation, FuzzyTermQuery, Query,
    Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::termdict::TermDictionary;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, Term};

/// Terms of `field` within `distance` edits (transposition = 1) of `text`; every match scores
/// the boost alone, as [`FuzzyTermQuery`] does.
#[derive(Clone, Debug)]
pub(crate) struct NameFuzzyQuery {
    field: Field,
    text: String,
    distance: u8,
}

impl NameFuzzyQuery {
    pub(crate) fn new(field: Field, text: &str, distance: u8) -> Self {
        Self {
            field,
            text: text.to_owned(),
            distance,
        }
    }
}

impl Query for NameFuzzyQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let term = Term::from_field_text(self.field, &self.text);
        let bytes = self.text.as_bytes();
        let anchored = match bytes.first() {
            Some(&first) if first < u8::MAX && self.distance > 0 => Some((
                FuzzyTermQuery::new(term, self.distance, true).automaton()?,
                first,
            )),
            _ => None,
        };
        Ok(Box::new(NameFuzzyWeight {
            field: self.field,
            anchored,
            first_letter_edits: if self.distance > 0 {
                first_letter_edits(bytes)
            } else {
                Vec::new()
            },
        }))
    }
}

/// Every spelling one edit away from `text` in which that edit involves the first letter
/// (substituted, dropped, preceded by another letter, swapped with the second); normalised
/// tokens are ASCII.
fn first_letter_edits(text: &[u8]) -> Vec<Vec<u8>> {
    let Some((&first, rest)) = text.split_first() else {
        return Vec::new();
    };
    // letters only: a digit in a name is rare enough not to pay for on every segment
    let alphabet = b'a'..=b'z';
    let mut out: Vec<Vec<u8>> = Vec::new();
    for c in alphabet {
        if c != first {
            let mut sub = vec![c];
            sub.extend_from_slice(rest);
            out.push(sub);
        }
        let mut ins = vec![c];
        ins.extend_from_slice(text);
        out.push(ins);
    }
    if !rest.is_empty() {
        out.push(rest.to_vec());
    }
    if let Some(&second) = rest.first()
        && second != first
    {
        let mut swapped = text.to_vec();
        swapped.swap(0, 1);
        out.push(swapped);
    }
    out.sort();
    out.dedup();
    out
}

struct NameFuzzyWeight {
    field: Field,
    /// The full distance, among terms starting with the given byte (the token's first letter).
    anchored: Option<(DfaWrapper, u8)>,
    /// Exact spellings for a single error in the first letter.
    first_letter_edits: Vec<Vec<u8>>,
}

impl Weight for NameFuzzyWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut docs = BitSet::with_max_value(reader.max_doc());
        let index = reader.inverted_index(self.field)?;
        let dict: &TermDictionary = index.terms();
        let mut add = |info: &TermInfo| -> tantivy::Result<()> {
            let mut postings =
                index.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
            loop {
                let block = postings.docs();
                if block.is_empty() {
                    break;
                }
                for &doc in block {
                    docs.insert(doc);
                }
                postings.advance();
            }
            Ok(())
        };
        for spelling in &self.first_letter_edits {
            if let Some(info) = dict.get(spelling)? {
                add(&info)?;
            }
        }
        if let Some((dfa, first)) = &self.anchored {
            let mut stream = dict
                .search(dfa)
                .ge([*first])
                .lt([*first + 1])
                .into_stream()?;
            while stream.advance() {
                add(stream.value())?;
            }
        }
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(docs), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("NameFuzzy", 1.0))
        } else {
            Err(TantivyError::InvalidArgument(
                "document does not match".to_owned(),
            ))
        }
    }
}
