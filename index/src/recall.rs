//! The recall query: the terms a search retrieves candidates by (each query token's exact,
//! nickname, phonetic and fuzzy spellings, the DOB with a partial name, the case number) and
//! their summed boosts.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use crate::dob_prefix::{DobPrefixQuery, NameClue};
use crate::names::{given_key, nicknames, phonetic_codes, raw_tokens, surname_key};
use crate::rank::{dob_variants, partial_dob_dates, ymd};
use crate::search::CANDIDATES;
use crate::{IndexError, PersonIndex, SearchQuery, fuzzy};

/// A surname held by more persons than this is not looked up with an initial: reading its
/// documents would cost milliseconds, and so many persons share it and the initial (a tenth of
/// them or more) that the list could only return an arbitrary few anyway.
const MAX_INITIAL_ANCHOR_DOCS: u64 = 20_000;

/// Tokens this short are taken as short forms (prefixes) of a name when paired with initials.
pub(crate) const SHORT_FORM: usize = 3;

/// Most names a short form may stand for in the initials list.
const MAX_SHORT_FORM_TERMS: usize = 64;

/// The terms of `field` starting with `prefix` in any segment; `None` if there are more than
/// [`MAX_SHORT_FORM_TERMS`] or a dictionary cannot be read.
fn prefixed_terms(searcher: &Searcher, field: Field, prefix: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(field).ok()?;
        let mut terms = index
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .into_stream()
            .ok()?;
        while terms.advance() {
            if !terms.key().starts_with(prefix.as_bytes()) {
                break;
            }
            let t = String::from_utf8_lossy(terms.key()).into_owned();
            if !out.contains(&t) {
                out.push(t);
                if out.len() > MAX_SHORT_FORM_TERMS {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// At most this many query tokens are looked up.
const MAX_TOKENS: usize = 16;

/// A normalised query token with its boosts in the surname and given-name fields.
pub(crate) struct Tok {
    pub(crate) text: String,
    sur: f32,
    given: f32,
    fuzzy: bool,
}

/// The query's name tokens with their boosts. Raw tokens get fuzzy clauses in their main
/// field(s); derived glued/particle forms only exact and phonetic ones (fuzzing long glued forms
/// costs much and adds little).
pub(crate) fn query_tokens(
    free: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
) -> Vec<Tok> {
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
    tokens.truncate(MAX_TOKENS);
    tokens
}

impl PersonIndex {
    /// Recall terms for one normalised token: exact, nickname, phonetic and fuzzy terms, in
    /// the surname and given-name fields with the token's boosts. Fuzzy terms only go to the
    /// token's main field(s): they dominate query cost.
    pub(crate) fn name_terms(
        &self,
        out: &mut RecallTerms<'_>,
        tok: &Tok,
    ) -> Result<(), IndexError> {
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

    /// The DOB's terms for the "DOB plus a partial name" list, weighted. With no name token the
    /// DOB variants go straight into the union instead and none are returned.
    pub(crate) fn dob_terms(
        &self,
        recall: &mut RecallTerms<'_>,
        q: &SearchQuery,
        tokens: &[Tok],
    ) -> Vec<(String, f32)> {
        let f = &self.f;
        if let Some(dob) = q.dob {
            let variants = dob_variants(dob, !tokens.is_empty());
            if tokens.is_empty() {
                for v in &variants {
                    recall.add(Term::from_field_text(f.dob, v), 1.0);
                }
                return Vec::new();
            }
            // graded like the re-ranking's DOB agreement, so the DOB entered ranks first
            let exact = ymd(dob);
            let swapped = NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month()).map(ymd);
            return variants
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
        match &q.dob_partial {
            // A year alone is some 25,000 persons at statewide size; reading them all cost 5 to
            // 7 ms a search at 2 M. Not needed when the pair list already holds every person of
            // the name as typed; needed for a common name ("Maria Garcia", born 1988) or a
            // garbled one.
            Some(p) if p.month.is_none() && p.day.is_none() && self.name_is_rare(recall, q) => {
                Vec::new()
            }
            // every date the partial DOB allows; never on its own (a year is thousands of people)
            Some(p) if !tokens.is_empty() => {
                partial_dob_dates(p).into_iter().map(|d| (d, 0.7)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whether the pair list holds every person of the whole name as typed (surname and given
    /// name each glued whole, as indexed): at most [`CANDIDATES`] of them.
    fn name_is_rare(&self, recall: &RecallTerms<'_>, q: &SearchQuery) -> bool {
        let whole = |raw: &Option<String>| {
            let t = raw_tokens(raw.as_deref()?);
            (!t.is_empty()).then(|| t.concat())
        };
        let (Some(given), Some(sur)) = (whole(&q.first_name), whole(&q.last_name)) else {
            return false;
        };
        let term = Term::from_field_text(self.f.pair, &format!("{sur}|{given}"));
        let persons = recall.searcher.doc_freq(&term).unwrap_or(u64::MAX);
        persons > 0 && persons <= CANDIDATES as u64
    }

    /// DOB plus a partial name: the name may be just a prefix ("Gar") or an initial. Looked up
    /// from the DOB side (see [`DobPrefixQuery`]) and retrieved as a second candidate list.
    pub(crate) fn dob_prefix_query(
        &self,
        recall: &RecallTerms<'_>,
        tokens: &[Tok],
        dob_terms: &[(String, f32)],
    ) -> Option<Box<dyn Query>> {
        if dob_terms.is_empty() {
            return None;
        }
        let f = &self.f;
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
        Some(Box::new(BoostQuery::new(
            Box::new(DobPrefixQuery::new(weighted, prefixes)),
            3.0,
        )))
    }
}

impl PersonIndex {
    /// A surname plus initials ("M Okafor"), or a given name plus a surname initial ("Rob T":
    /// a short form stands for every name it starts), without a DOB: the persons with the full part who have a name starting with the initial, looked
    /// up from the full part's side like the DOB list (see [`DobPrefixQuery`]). The union
    /// retrieves the full part alone, which holds hundreds of persons with a common surname, so
    /// its best 30 rarely hold the one with the right initial. Not for a name part held by
    /// more than [`MAX_INITIAL_ANCHOR_DOCS`] persons.
    pub(crate) fn initial_query(
        &self,
        searcher: &Searcher,
        first: Option<&str>,
        last: Option<&str>,
    ) -> Option<Box<dyn Query>> {
        let f = &self.f;
        let (given, sur) = (raw_tokens(first?), raw_tokens(last?));
        let initials = |t: &[String]| !t.is_empty() && t.iter().all(|x| x.len() == 1);
        let (anchor_field, anchors, clue_field, clues) = if initials(&given) && !initials(&sur) {
            (f.sur, sur, f.given, given)
        } else if initials(&sur) && !initials(&given) {
            (f.given, given, f.sur, sur)
        } else {
            return None;
        };
        let mut terms: Vec<String> = Vec::new();
        for t in anchors.iter().filter(|t| t.len() >= 2) {
            if t.len() <= SHORT_FORM {
                // a short form ("Rob T"): every name it starts
                terms.extend(prefixed_terms(searcher, anchor_field, t)?);
            } else {
                terms.push(t.clone());
            }
        }
        let anchors: Vec<(Term, f32)> = terms
            .iter()
            .map(|t| (Term::from_field_text(anchor_field, t), 1.0))
            .collect();
        let docs: u64 = anchors
            .iter()
            .map(|(t, _)| searcher.doc_freq(t).unwrap_or(0))
            .sum();
        if anchors.is_empty() || docs > MAX_INITIAL_ANCHOR_DOCS {
            return None;
        }
        let clues = clues
            .into_iter()
            .map(|prefix| NameClue {
                field: clue_field,
                prefix,
                similar: Vec::new(),
            })
            .collect();
        Some(Box::new(DobPrefixQuery::new(anchors, clues)))
    }
}

/// The recall union's terms with their summed boosts.
pub(crate) struct RecallTerms<'s> {
    pub(crate) searcher: &'s Searcher,
    pub(crate) boosts: HashMap<Term, f32>,
    /// The surname-and-given-name pair terms among them (exact, nickname and phonetic).
    pub(crate) pairs: Vec<Term>,
    /// The pair terms with one part misspelt: a list of their own, so that a common name's
    /// phonetic pairs cannot fill the candidates ahead of the one-typo spelling of the person.
    pub(crate) fuzzy_pairs: Vec<Term>,
    /// Fuzzy spellings found for a query token in a name field.
    pub(crate) similar: HashMap<(Field, String), Vec<String>>,
}

impl<'s> RecallTerms<'s> {
    pub(crate) fn new(searcher: &'s Searcher) -> Self {
        Self {
            searcher,
            boosts: HashMap::new(),
            pairs: Vec::new(),
            fuzzy_pairs: Vec::new(),
            similar: HashMap::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.boosts.is_empty()
    }

    /// A term scored by BM25 (rare terms weigh more), times `boost`.
    pub(crate) fn add(&mut self, term: Term, boost: f32) {
        *self.boosts.entry(term).or_default() += boost;
    }

    /// A term whose match should score about `score` whatever its rarity: the boost cancels
    /// BM25's idf (`doc_freq` is the term's document count).
    pub(crate) fn add_flat(&mut self, term: Term, doc_freq: u32, score: f32) {
        let n = self.searcher.num_docs() as f32;
        let df = doc_freq as f32;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05);
        self.add(term, score / idf);
    }

    /// A union of `terms` with their summed boosts.
    pub(crate) fn query_of(&self, terms: &[Term]) -> Box<dyn Query> {
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
