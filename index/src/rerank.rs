//! Re-ranks candidate records into hits: name agreement weighted by surname rarity, graded DOB
//! agreement and the case number, with the reasons each hit matched.

use std::collections::HashMap;

use tantivy::schema::Field;
use tantivy::{Searcher, Term};

use chrono::NaiveDate;

use crate::rank::{
    KeyCache, QueryVariant, StoredPerson, score_dob, score_names, score_partial_dob,
};
use crate::search::Candidates;
use crate::{Hit, SearchQuery};

/// Hits scoring below this are noise: a given name alone (0.45 at best) is not a match, a
/// surname alone (0.55), an exact DOB alone (0.5) or a case number (1.0) is.
pub(crate) const MIN_SCORE: f32 = 0.5;

/// The threshold for a name given only as initials and short forms ("Rob T", "J R") and nothing
/// else: both parts matching as prefix or initial score about 0.4 (a prefix or initial of one
/// part alone at most 0.25; a given-name nickname alone, "Rob" for Robert, about 0.4, after
/// them). With [`MIN_SCORE`] such a query could match no one at all.
pub(crate) const SHORT_FORM_MIN_SCORE: f32 = 0.3;

/// Below `min_score`, candidates down to this still fill a page that has room: a
/// family member's record with the surname exact and another DOB (0.40), a given name alone
/// (0.45). Marked "weak match", after every match.
pub(crate) const FILL_FLOOR: f32 = 0.35;

/// What each candidate is compared with.
pub(crate) struct Rerank<'a> {
    pub(crate) q: &'a SearchQuery,
    /// The readings of the query's name (none without a name).
    pub(crate) variants: &'a [QueryVariant],
    /// The normalised case number.
    pub(crate) case: Option<&'a str>,
    /// Hits scoring below this are left out ([`MIN_SCORE`] or [`SHORT_FORM_MIN_SCORE`]).
    pub(crate) min_score: f32,
}

impl Rerank<'_> {
    /// The candidates scoring at least `min_score`, best first (ties by person id), then, while
    /// there is room within `limit`, those down to [`FILL_FLOOR`], marked "weak match". Surname
    /// rarity is read from `sur`'s document frequencies.
    pub(crate) fn hits(
        &self,
        searcher: &Searcher,
        sur: Field,
        candidates: Candidates,
        limit: usize,
    ) -> Vec<Hit> {
        let n_docs = searcher.num_docs().max(1) as f32;
        let mut idf_cache: HashMap<String, f32> = HashMap::new();
        let mut weight = |tok: &str| -> f32 {
            if let Some(w) = idf_cache.get(tok) {
                return *w;
            }
            let df = searcher
                .doc_freq(&Term::from_field_text(sur, tok))
                .unwrap_or(0) as f32;
            let w = (1.0 + n_docs / (df + 1.0)).ln().max(0.05);
            idf_cache.insert(tok.to_owned(), w);
            w
        };
        let today = chrono::Utc::now().date_naive();
        let Candidates { persons, keys } = candidates;
        let mut hits: Vec<Hit> = persons
            .iter()
            .filter_map(|person| self.hit(person, &keys, &mut weight, today))
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.person_id.cmp(&b.person_id))
        });
        hits.truncate(limit);
        for h in hits.iter_mut().filter(|h| h.score < self.min_score) {
            h.explanation.push("weak match".to_owned());
        }
        hits
    }

    /// `person` as a hit, if it scores at least `min_score`. `keys` must hold its names.
    fn hit(
        &self,
        person: &StoredPerson,
        keys: &KeyCache,
        weight: &mut dyn FnMut(&str) -> f32,
        today: NaiveDate,
    ) -> Option<Hit> {
        let mut score = 0.0f32;
        let mut explanation = Vec::new();
        if !self.variants.is_empty()
            && let Some(ns) = score_names(self.variants, person, keys, weight)
        {
            score += ns.score;
            explanation.extend(ns.explanation);
        }
        let dob_score = match (self.q.dob, &self.q.dob_partial) {
            (Some(qd), _) => score_dob(qd, person, today),
            (None, Some(p)) => score_partial_dob(p, person),
            (None, None) => None,
        };
        if let Some((s, e)) = dob_score {
            score += 0.5 * s;
            explanation.push(e);
            // how a DOB typed as text was read, so the clerk can judge the match
            if let Some(note) = &self.q.dob_note {
                explanation.push(note.clone());
            }
        }
        if let Some(c) = self.case
            && person.case_numbers.iter().any(|pc| pc == c)
        {
            score += 1.0;
            explanation.push("case number exact".to_owned());
        }
        (score >= self.min_score.min(FILL_FLOOR)).then_some(Hit {
            person_id: person.person_id,
            score,
            explanation,
        })
    }
}
