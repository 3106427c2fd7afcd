//! "A date of birth plus a partial name", answered from the DOB side.
//!
//! The obvious query (DOB variants AND any name term starting with a query token) expands every
//! token into all the terms it prefixes and reads their postings: for a common name ("Garcia",
//! "Maria" and their compounds) that is tens of thousands of documents per token, each put into a
//! bitset and then intersected with the few thousand documents holding one of the DOB variants.
//! That was about a fifth of a whole search's cost at 2 M persons. Here the DOB documents are
//! read first and each prefixed term only has to be checked against them: short postings are
//! walked, long ones are skipped through with `seek`. Scores are those of the obvious query.

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError, Term};

/// Documents with any of `dob` terms and at least one term starting with one of `prefixes`.
/// Score (before boost): the DOB terms' score plus 1 per matching `(field, prefix)` pair, as
/// `BooleanQuery[Must(dob), Must(prefix queries OR'ed)]` would give.
#[derive(Debug)]
pub(crate) struct DobPrefixQuery {
    dob: Box<dyn Query>,
    prefixes: Vec<(Field, String)>,
}

impl DobPrefixQuery {
    pub(crate) fn new(dob: Box<dyn Query>, prefixes: Vec<(Field, String)>) -> Self {
        Self { dob, prefixes }
    }
}

impl Clone for DobPrefixQuery {
    fn clone(&self) -> Self {
        Self {
            dob: self.dob.box_clone(),
            prefixes: self.prefixes.clone(),
        }
    }
}

impl Query for DobPrefixQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(DobPrefixWeight {
            dob: self.dob.weight(scoring)?,
            prefixes: self.prefixes.clone(),
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.dob.query_terms(visitor);
    }
}

struct DobPrefixWeight {
    dob: Box<dyn Weight>,
    prefixes: Vec<(Field, String)>,
}

impl Weight for DobPrefixWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut dob = self.dob.scorer(reader, boost)?;
        let mut docs: Vec<DocId> = Vec::new();
        let mut scores: Vec<Score> = Vec::new();
        let mut doc = dob.doc();
        while doc != TERMINATED {
            docs.push(doc);
            scores.push(dob.score());
            doc = dob.advance();
        }
        // Matching (field, prefix) pairs per DOB document; `seen` counts each pair once however
        // many of its terms the document holds.
        let mut matched = vec![0u16; docs.len()];
        let mut seen = vec![usize::MAX; docs.len()];
        for (pair, (field, prefix)) in self.prefixes.iter().enumerate() {
            if docs.is_empty() {
                break;
            }
            let index = reader.inverted_index(*field)?;
            let mut terms = index.terms().range().ge(prefix.as_bytes()).into_stream()?;
            while terms.advance() {
                if !terms.key().starts_with(prefix.as_bytes()) {
                    break;
                }
                let info = terms.value();
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
