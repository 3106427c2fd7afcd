//! "A date of birth plus a partial name", answered from the DOB side.
//!
//! The obvious query (DOB variants AND any name term starting with a query token) expands every
//! token into all the terms it prefixes and reads their postings: for a common name ("Garcia",
//! "Maria" and their compounds) that is tens of thousands of documents per token, each put into a
//! bitset and then intersected with the few thousand documents holding one of the DOB variants.
//! That was about a fifth of a whole search's cost at 2 M persons. Here the DOB documents are
//! read first and each prefixed term only has to be checked against them: short postings are
//! walked, long ones are skipped through with `seek`. A token also matches through its fuzzy
//! spellings, so a right DOB with a mistyped surname and another given name is still found.
//!
//! The same query answers "a surname plus an initial" ("M Okafor"): the surname's documents take
//! the place of the DOB's.

use std::ops::Bound;

use tantivy::postings::TermInfo;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// Documents with any of the `dob` terms (or other anchor terms of one field, such as a
/// surname's) and at least one term starting with one of `prefixes`.
/// Score (before boost): the best matching DOB term's weight plus 1 per matching
/// `(field, prefix)` pair.
#[derive(Debug, Clone)]
pub(crate) struct DobPrefixQuery {
    dob: Vec<(Term, Score)>,
    prefixes: Vec<NameClue>,
}

/// A query token in one name field: a document matches it with a term starting with `prefix`
/// or equal to one of `similar` (the token's fuzzy spellings found in the dictionary), so a
/// right DOB with a mistyped surname ("Imgrapen" for "Imgraben") is still a candidate.
#[derive(Debug, Clone)]
pub(crate) struct NameClue {
    pub field: Field,
    pub prefix: String,
    pub similar: Vec<String>,
}

impl DobPrefixQuery {
    /// `dob`: DOB terms (one field) with the weight of each spelling.
    pub(crate) fn new(dob: Vec<(Term, Score)>, prefixes: Vec<NameClue>) -> Self {
        Self { dob, prefixes }
    }
}

impl Query for DobPrefixQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(DobPrefixWeight {
            dob: self.dob.clone(),
            prefixes: self.prefixes.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for (term, _) in &self.dob {
            visitor(term, false);
        }
    }
}

struct DobPrefixWeight {
    dob: Vec<(Term, Score)>,
    prefixes: Vec<NameClue>,
}

impl Weight for DobPrefixWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        // The DOB documents: a few dozen short postings read straight into a sorted list (a
        // union scorer would sweep the whole doc-id space window by window to merge them).
        let mut dob_hits: Vec<(DocId, Score)> = Vec::new();
        if let Some((first, _)) = self.dob.first() {
            let index = reader.inverted_index(first.field())?;
            for (term, weight) in &self.dob {
                let Some(info) = index.get_term_info(term)? else {
                    continue;
                };
                let mut postings =
                    index.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic)?;
                loop {
                    let block = postings.docs();
                    if block.is_empty() {
                        break;
                    }
                    dob_hits.extend(block.iter().map(|&d| (d, *weight * boost)));
                    postings.advance();
                }
            }
        }
        // best weight first within a document, then one entry per document
        dob_hits.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        dob_hits.dedup_by_key(|h| h.0);
        let (docs, scores): (Vec<DocId>, Vec<Score>) = dob_hits.into_iter().unzip();
        // Matching (field, prefix) pairs per DOB document; `seen` counts each pair once however
        // many of its terms the document holds.
        let mut matched = vec![0u16; docs.len()];
        // The documents with the best-weighted DOB spelling (the DOB as entered), in doc order.
        let top = scores.iter().copied().fold(f32::MIN, f32::max);
        let best: Vec<usize> = (0..docs.len()).filter(|&i| scores[i] >= top).collect();
        let mut seen = vec![usize::MAX; docs.len()];
        // A short prefix covering many terms ("ma", "de") is checked from the documents' side: each
        // DOB document's few name ordinals against the prefix's ordinal range in the field's
        // fast-field dictionary. Walking every such term's postings cost up to 9 ms a search.
        let doc_side: Vec<bool> = self
            .prefixes
            .iter()
            .map(|c| c.prefix.len() <= DOC_SIDE_MAX_PREFIX)
            .collect();
        if !docs.is_empty() {
            let mut fields: Vec<Field> = self
                .prefixes
                .iter()
                .zip(&doc_side)
                .filter(|(_, d)| **d)
                .map(|(c, _)| c.field)
                .collect();
            fields.sort();
            fields.dedup();
            for field in fields {
                let name = reader.schema().get_field_name(field);
                let Some(column) = reader.fast_fields().str(name)? else {
                    continue;
                };
                let (dict, ords) = column.into_parts();
                let mut ranges: Vec<(usize, u64, u64)> = Vec::new();
                for (pair, clue) in self.prefixes.iter().enumerate() {
                    if clue.field != field || !doc_side[pair] {
                        continue;
                    }
                    let (lo, hi) = ord_range(&dict, clue.prefix.as_bytes())?;
                    if lo < hi {
                        ranges.push((pair, lo, hi));
                    }
                }
                if ranges.is_empty() {
                    continue;
                }
                for (i, &doc) in docs.iter().enumerate() {
                    // each (field, prefix) pair counts once however many of its terms match
                    let mut counted: Vec<usize> = Vec::new();
                    for ord in ords.values_for_doc(doc) {
                        for &(pair, lo, hi) in &ranges {
                            if (lo..hi).contains(&ord) && !counted.contains(&pair) {
                                counted.push(pair);
                                matched[i] += 1;
                            }
                        }
                    }
                }
            }
        }
        for (pair, clue) in self.prefixes.iter().enumerate() {
            if docs.is_empty() {
                break;
            }
            if doc_side[pair] {
                continue;
            }
            let index = reader.inverted_index(clue.field)?;
            let prefix = clue.prefix.as_bytes();
            let mut infos: Vec<TermInfo> = Vec::new();
            let mut terms = index.terms().range().ge(prefix).into_stream()?;
            while terms.advance() {
                if !terms.key().starts_with(prefix) {
                    break;
                }
                infos.push(terms.value().clone());
            }
            // Spellings too common to check against every DOB document are checked against
            // the best-matching ones (the DOB as entered), when those are few.
            let mut best_only: Vec<TermInfo> = Vec::new();
            for similar in &clue.similar {
                // Only spellings that are cheap to check (a short postings list to walk, or few
                // DOB documents to seek to); a common one ("Garza" for "Garsia") with thousands
                // of DOB documents is left to the name lists, but for the exact DOB.
                if similar.as_bytes().starts_with(prefix) {
                    continue;
                }
                let Some(info) = index.terms().get(similar.as_bytes())? else {
                    continue;
                };
                if (info.doc_freq as usize).min(docs.len()) <= SIMILAR_CHECK_BUDGET {
                    infos.push(info);
                } else if best.len() <= SIMILAR_CHECK_BUDGET && best_only.len() < BEST_DOB_SPELLINGS
                {
                    best_only.push(info);
                }
            }
            for info in &best_only {
                let mut postings =
                    index.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                for &i in &best {
                    let mut d = postings.doc();
                    if d < docs[i] {
                        d = postings.seek(docs[i]);
                    }
                    if d == TERMINATED {
                        break;
                    }
                    if d == docs[i] && seen[i] != pair {
                        seen[i] = pair;
                        matched[i] += 1;
                    }
                }
            }
            for info in &infos {
                let mut postings =
                    index.read_postings_from_terminfo(info, IndexRecordOption::Basic)?;
                let mut mark = |i: usize| {
                    if seen[i] != pair {
                        seen[i] = pair;
                        matched[i] += 1;
                    }
                };
                if (info.doc_freq as usize) <= docs.len() {
                    // short postings: walk them, find each in the sorted DOB documents
                    let mut from = 0;
                    let mut d = postings.doc();
                    while d != TERMINATED && from < docs.len() {
                        from += docs[from..].partition_point(|&x| x < d);
                        if docs.get(from) == Some(&d) {
                            mark(from);
                        }
                        d = postings.advance();
                    }
                } else {
                    // long postings: skip through them to each DOB document
                    for (i, &target) in docs.iter().enumerate() {
                        let mut d = postings.doc();
                        if d < target {
                            d = postings.seek(target);
                        }
                        if d == TERMINATED {
                            break;
                        }
                        if d == target {
                            mark(i);
                        }
                    }
                }
            }
        }
        let mut hits = Vec::new();
        for ((doc, score), n) in docs.into_iter().zip(scores).zip(matched) {
            if n > 0 {
                hits.push((doc, score + f32::from(n) * boost));
            }
        }
        Ok(Box::new(ListScorer { hits, pos: 0 }))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new("DobPrefix", scorer.score()))
        } else {
            Err(TantivyError::InvalidArgument(
                "document does not match".to_owned(),
            ))
        }
    }
}

/// Most postings entries (or DOB-document seeks) spent on checking one fuzzy spelling.
const SIMILAR_CHECK_BUDGET: usize = 256;

/// Most common fuzzy spellings (closest first) of one token checked against the documents of
/// the DOB as entered: "Mqrcus" with the exact DOB must find Marcus however many Marcuses
/// there are, and a garbled token has a handful of close common spellings.
const BEST_DOB_SPELLINGS: usize = 8;

/// Prefixes this short (initials, "de", "ma") cover thousands of terms; they are checked from
/// the documents' side.
const DOC_SIDE_MAX_PREFIX: usize = 2;

/// Ordinals `[lo, hi)` of the terms of `dict` starting with `prefix`.
fn ord_range(dict: &tantivy::columnar::Dictionary, prefix: &[u8]) -> std::io::Result<(u64, u64)> {
    let mut end = prefix.to_vec();
    // the first key after every key starting with `prefix`
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            break;
        }
    }
    let upper = if end.is_empty() {
        Bound::Unbounded
    } else {
        Bound::Excluded(end.as_slice())
    };
    let (lo, hi) = dict.term_bounds_to_ord(Bound::Included(prefix), upper)?;
    let n = dict.num_terms() as u64;
    let lo = match lo {
        Bound::Included(o) => o,
        Bound::Excluded(o) => o.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let hi = match hi {
        Bound::Included(o) => o.saturating_add(1),
        Bound::Excluded(o) => o,
        Bound::Unbounded => n,
    };
    Ok((lo.min(n), hi.min(n)))
}

/// Precomputed, doc-sorted hits.
struct ListScorer {
    hits: Vec<(DocId, Score)>,
    pos: usize,
}

impl DocSet for ListScorer {
    fn advance(&mut self) -> DocId {
        if self.pos < self.hits.len() {
            self.pos += 1;
        }
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.pos += self.hits[self.pos..].partition_point(|&(d, _)| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.hits.get(self.pos).map_or(TERMINATED, |&(d, _)| d)
    }

    fn size_hint(&self) -> u32 {
        (self.hits.len() - self.pos) as u32
    }
}

impl Scorer for ListScorer {
    fn score(&mut self) -> Score {
        self.hits.get(self.pos).map_or(0.0, |&(_, s)| s)
    }
}
