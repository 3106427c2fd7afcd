//! Fuzzy name-term retrieval that keeps the term-dictionary walk small.
//!
//! A plain 2-edit Levenshtein automaton has to visit nearly every 1–2 letter prefix of the
//! dictionary (any two letters are within two edits of anything), which made fuzzy terms the
//! largest cost of a search and one that grows with the number of distinct surnames. Here the
//! automaton only walks the terms that share the token's first letter, and a single error in
//! the first letter ("Celly" for "Kelly") is found by looking up its few spellings exactly.
//! Only two errors one of which is in the first letter are no longer retrieved.

use std::collections::HashMap;

use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// Terms of `field` within `distance` edits (transposition = 1) of `text`, with their document
/// frequency over all segments. The caller turns them into plain term clauses, so the recall
/// union stays a union of term scorers, which tantivy can prune with block-max WAND.
pub(crate) fn expand(
    searcher: &Searcher,
    field: Field,
    text: &str,
    distance: u8,
) -> tantivy::Result<HashMap<String, u32>> {
    let mut out: HashMap<String, u32> = HashMap::new();
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Ok(out);
    };
    if distance == 0 {
        return Ok(out);
    }
    let dfa = (first < u8::MAX)
        .then(|| {
            FuzzyTermQuery::new(Term::from_field_text(field, text), distance, true).automaton()
        })
        .transpose()?;
    let edits = first_letter_edits(bytes);
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(field)?;
        let dict = index.terms();
        for spelling in &edits {
            if let Some(info) = dict.get(spelling)? {
                let text = String::from_utf8_lossy(spelling).into_owned();
                *out.entry(text).or_default() += info.doc_freq;
            }
        }
        if let Some(dfa) = &dfa {
            let mut stream = dict.search(dfa).ge([first]).lt([first + 1]).into_stream()?;
            while stream.advance() {
                let text = String::from_utf8_lossy(stream.key()).into_owned();
                *out.entry(text).or_default() += stream.value().doc_freq;
            }
        }
    }
    Ok(out)
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
