//! Surname-and-given-name pair terms: the pairs a document is indexed under and the exact,
//! phonetic and fuzzy pairs a query looks up.

use std::collections::{BTreeSet, HashMap};

use tantivy::Term;
use tantivy::schema::Field;

use crate::names::{self, PartKey, nicknames};
use crate::rank::QueryVariant;
use crate::recall::RecallTerms;
use crate::schema::Fields;
use crate::{IndexError, PersonIndex};

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

/// Pair terms of a surname and given names: every surname spelling with every given-name
/// spelling (and `extra_given` ones, the query's nicknames), and every surname code with every
/// given-name code.
pub(crate) fn name_pairs(sur: &PartKey, given: &PartKey, extra_given: &[&str]) -> Vec<String> {
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

impl PersonIndex {
    /// Surname-and-given-name pairs: a person matching both parts outranks every person
    /// matching one. For common names that lets block-max WAND skip the long single-name
    /// postings ("Garcia", "Maria") once enough pair matches are collected. Needs the fuzzy
    /// spellings [`PersonIndex::name_terms`] found.
    pub(crate) fn pair_terms(
        &self,
        recall: &mut RecallTerms<'_>,
        variants: &[QueryVariant],
    ) -> Result<(), IndexError> {
        let f = &self.f;
        // Ordered sets: the pair clauses' scores are f32 sums, and a hash set's order changes
        // from set to set, so ties at the candidate cut-off would too.
        let mut pair_terms: BTreeSet<String> = BTreeSet::new();
        let mut fuzzy_pairs: BTreeSet<String> = BTreeSet::new();
        for v in variants {
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
                (text, score, false)
            })
            .chain(fuzzy_pairs.into_iter().map(|t| (t, PAIR_FUZZY_SCORE, true)));
        for (text, score, fuzzy) in pair_scores {
            let term = Term::from_field_text(f.pair, &text);
            let df = recall.searcher.doc_freq(&term)? as u32;
            if df > 0 {
                recall.add_flat(term.clone(), df, score);
                if fuzzy {
                    recall.fuzzy_pairs.push(term);
                } else {
                    recall.pairs.push(term);
                }
            }
        }
        Ok(())
    }
}
