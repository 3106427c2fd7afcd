//! The search: normalises the query, builds the recall terms, collects the candidate lists and
//! hands their stored records to re-ranking.

use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::names::{norm_case_number, norm_county, norm_court};
use crate::rank::{KeyCache, StoredPerson, query_variants};
use crate::recall::{RecallTerms, SHORT_FORM, query_tokens};
use crate::rerank::{MIN_SCORE, Rerank, SHORT_FORM_MIN_SCORE};
use crate::{Hit, IndexError, PersonIndex, SearchQuery, collect, placeholder};

/// Candidates of the pair list and of the DOB list retrieved for re-ranking (more if the caller
/// asks for more hits, up to the cap).
pub(crate) const CANDIDATES: usize = 50;
/// Candidates of the whole name union. Small, so that its pruning threshold rises early: with
/// 100, a common name ("Wilson, Michael") scored tens of thousands of postings.
const UNION_CANDIDATES: usize = 30;
const MAX_CANDIDATES: usize = 2_000;
/// The given name's share of a two-part name's score (`rank::score_names`).
const GIVEN_SHARE: f32 = 0.45;

/// The query's name parts and case number, normalised. Placeholders ("Unknown", "Refused",
/// "Man of the house") say nothing about the person: the part counts as absent, so the other
/// part and the DOB decide.
struct QueryParts {
    free: Option<String>,
    first: Option<String>,
    last: Option<String>,
    case: Option<String>,
}

impl QueryParts {
    fn of(q: &SearchQuery) -> Self {
        Self {
            free: nonblank(&q.name).and_then(placeholder::meaningful),
            first: nonblank(&q.first_name).and_then(placeholder::meaningful),
            last: nonblank(&q.last_name).and_then(placeholder::meaningful),
            case: q
                .case_number
                .as_deref()
                .map(norm_case_number)
                .filter(|c| !c.is_empty()),
        }
    }
}

/// The candidates' stored records, with the keys of their names when names are compared.
pub(crate) struct Candidates {
    pub(crate) persons: Vec<StoredPerson>,
    pub(crate) keys: KeyCache,
}

impl PersonIndex {
    /// Ranked matches, best first, at most `limit` (at most 2 000).
    ///
    /// Retrieves candidates with recall-oriented queries (surname-and-given-name pairs; exact,
    /// phonetic and nickname terms on every name token in both surname and given-name fields,
    /// fuzzy terms in the token's own field; DOB variants combined with a name prefix; case
    /// number), then re-ranks them by name agreement, surname rarity and graded DOB agreement.
    /// Returns [`IndexError::EmptyQuery`] when there is nothing to match on.
    pub fn search(&self, q: &SearchQuery, limit: usize) -> Result<Vec<Hit>, IndexError> {
        let parts = QueryParts::of(q);
        let (free, first, last) = (
            parts.free.as_deref(),
            parts.first.as_deref(),
            parts.last.as_deref(),
        );
        let searcher = self.reader.searcher();
        // Every recall clause but "DOB plus a partial name" is a plain term, so the union is one
        // of term scorers and tantivy prunes it with block-max WAND: for common names most
        // postings blocks are never scored. Boosts of the same term add up into one clause.
        let mut recall = RecallTerms::new(&searcher);
        let tokens = query_tokens(free, first, last);
        for tok in &tokens {
            self.name_terms(&mut recall, tok)?;
        }
        let variants = query_variants(first, last, free);
        self.pair_terms(&mut recall, &variants)?;
        let dob_terms = self.dob_terms(&mut recall, q, &tokens);
        let dob_prefix = self.dob_prefix_query(&recall, &tokens, &dob_terms);
        // with a DOB, the DOB list already finds "M Okafor"
        let initials = if dob_terms.is_empty() {
            self.initial_query(&searcher, first, last)
        } else {
            None
        };
        if let Some(c) = &parts.case {
            recall.add(Term::from_field_text(self.f.case, c), 20.0);
        }
        if recall.is_empty() && dob_prefix.is_none() {
            return Err(IndexError::EmptyQuery);
        }
        let filters = self.filters(q);
        let addrs = self.candidates(&searcher, &recall, [dob_prefix, initials], &filters, limit)?;
        let candidates = self.read_candidates(&searcher, addrs, !variants.is_empty())?;
        // A name of initials and short forms only ("Rob T", "J R"), both parts given, nothing
        // else to go by: both parts matching as prefix or initial is a match.
        let short_form = first.is_some()
            && last.is_some()
            && free.is_none()
            && parts.case.is_none()
            && q.dob.is_none()
            && q.dob_partial.is_none()
            && tokens.iter().all(|t| t.text.len() <= SHORT_FORM);
        let rerank = Rerank {
            q,
            variants: &variants,
            case: parts.case.as_deref(),
            min_score: if short_form {
                SHORT_FORM_MIN_SCORE
            } else {
                MIN_SCORE
            },
        };
        let hits = rerank.hits(&searcher, self.f.sur, candidates, limit);
        if hits.iter().all(|h| h.score < rerank.min_score)
            && let (Some(_), Some(typed)) = (first, last)
            && free.is_none()
            && parts.case.is_none()
        {
            return self.without_surname(q, typed, limit);
        }
        Ok(hits)
    }

    /// A surname as typed that matches no one ("Ovvner", "Lcenjoder"; pg_trgm would still rank
    /// the given name's persons) leaves the given name and the DOB to go by: their matches,
    /// weighed as the given name's share of a whole name and marked so.
    fn without_surname(
        &self,
        q: &SearchQuery,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let given_only = SearchQuery {
            last_name: None,
            ..q.clone()
        };
        let mut hits = self.search(&given_only, limit)?;
        for h in &mut hits {
            h.score *= GIVEN_SHARE;
            h.explanation.insert(
                0,
                format!("surname {typed:?} matched no one; searched without it"),
            );
            // under the match threshold, as every hit of a given name alone
            if h.explanation.last().is_none_or(|e| e != "weak match") {
                h.explanation.push("weak match".to_owned());
            }
        }
        Ok(hits)
    }

    /// Number of persons visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Terms every candidate must have: role, court, county, active.
    fn filters(&self, q: &SearchQuery) -> Vec<Term> {
        let f = &self.f;
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
        filters
    }

    /// Candidate lists, re-ranked together: the best pair matches; the best pairs with one part
    /// misspelt; the best of the whole
    /// union (pairs and single name parts), which is where a person matching no pair comes
    /// from; and the side lists: DOB plus a partial name, a name part plus initials. Pair matches are searched first: if there are enough
    /// of them, the m-th bounds the union's m-th from below, and the union prunes from its first
    /// block instead of scoring every "Garcia".
    fn candidates(
        &self,
        searcher: &Searcher,
        recall: &RecallTerms<'_>,
        side: [Option<Box<dyn Query>>; 2],
        filters: &[Term],
        limit: usize,
    ) -> Result<Vec<DocAddress>, IndexError> {
        let wanted = CANDIDATES.max(limit).min(MAX_CANDIDATES);
        let mut addrs: Vec<DocAddress> = Vec::new();
        if !recall.is_empty() {
            let m = UNION_CANDIDATES.max(limit).min(MAX_CANDIDATES);
            let mut floor: f32 = 0.0;
            for list in [&recall.pairs, &recall.fuzzy_pairs] {
                if list.is_empty() {
                    continue;
                }
                let pairs = recall.query_of(list);
                let top = collect::top_k(searcher, filtered(pairs, filters).as_ref(), wanted, 0.0)?;
                if top.len() >= m
                    && let Some((kth, _)) = top.get(m - 1)
                {
                    // a little below: scores are f32 sums, and ties must still be collected
                    floor = floor.max(kth * 0.999);
                }
                addrs.extend(top.into_iter().map(|(_, a)| a));
            }
            // In a fixed order: the clauses' scores are f32 sums, and a map's order changes
            // from run to run, so ties at the cut-off would too.
            let mut all: Vec<Term> = recall.boosts.keys().cloned().collect();
            all.sort_unstable();
            let union = recall.query_of(&all);
            let top = collect::top_k(searcher, filtered(union, filters).as_ref(), m, floor)?;
            addrs.extend(top.into_iter().map(|(_, a)| a));
        }
        for list in side.into_iter().flatten() {
            let top = collect::top_k(searcher, filtered(list, filters).as_ref(), wanted, 0.0)?;
            addrs.extend(top.into_iter().map(|(_, a)| a));
        }
        Ok(addrs)
    }

    /// The candidates' stored records, read once each in index order (neighbours share
    /// doc-store blocks); with their names' keys when `with_keys`.
    fn read_candidates(
        &self,
        searcher: &Searcher,
        mut addrs: Vec<DocAddress>,
        with_keys: bool,
    ) -> Result<Candidates, IndexError> {
        addrs.sort_unstable();
        addrs.dedup();
        let mut persons = Vec::with_capacity(addrs.len());
        let mut keys = KeyCache::default();
        for addr in addrs {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(blob) = doc.get_first(self.f.blob).and_then(|v| v.as_str()) else {
                continue;
            };
            let person: StoredPerson = serde_json::from_str(blob)?;
            if with_keys {
                keys.add(&person);
            }
            persons.push(person);
        }
        Ok(Candidates { persons, keys })
    }
}

/// `query`, restricted to documents having every filter term.
fn filtered(query: Box<dyn Query>, filters: &[Term]) -> Box<dyn Query> {
    if filters.is_empty() {
        return query;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, query)];
    for t in filters {
        let tq: Box<dyn Query> = Box::new(TermQuery::new(t.clone(), IndexRecordOption::Basic));
        clauses.push((Occur::Must, tq));
    }
    Box::new(BooleanQuery::new(clauses))
}

fn nonblank(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.trim().is_empty())
}
