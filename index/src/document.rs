//! Turns a person into an index document: normalised name forms, phonetic codes, name pairs,
//! facets and the stored record re-ranking reads.

use std::collections::HashSet;

use tantivy::TantivyDocument;

use crate::names::{self, given_key, norm_case_number, norm_county, norm_court, surname_key};
use crate::pairs::name_pairs;
use crate::placeholder;
use crate::rank::{StoredName, StoredPerson, ymd};
use crate::{IndexError, PersonDoc, PersonIndex};

impl PersonIndex {
    /// The document of `p`.
    pub(crate) fn to_document(&self, p: &PersonDoc) -> Result<TantivyDocument, IndexError> {
        let f = &self.f;
        let mut doc = TantivyDocument::default();
        doc.add_i64(f.pid, p.person_id);
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
        let terms = NameTerms::of(&names);
        for (field, values) in [
            (f.sur, terms.sur),
            (f.given, terms.given),
            (f.sur_ph, terms.sur_ph),
            (f.given_ph, terms.given_ph),
            (f.pair, terms.pairs),
        ] {
            for v in values {
                doc.add_text(field, v);
            }
        }
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
}

/// A person's name terms, by field: surname and given-name spellings, their phonetic codes,
/// and surname-and-first-given-name pairs.
#[derive(Default)]
struct NameTerms {
    sur: HashSet<String>,
    given: HashSet<String>,
    sur_ph: HashSet<String>,
    given_ph: HashSet<String>,
    pairs: HashSet<String>,
}

impl NameTerms {
    fn of(names: &[StoredName]) -> Self {
        let mut t = Self::default();
        for n in names {
            // placeholders are not searchable (see `placeholder`)
            let sk = surname_key(&placeholder::meaningful(&n.last).unwrap_or_default());
            for form in &sk.forms {
                t.sur.insert(form.text.clone());
                if form.core.is_some() {
                    t.sur_ph.extend(form.codes.iter().cloned());
                }
            }
            for (i, part) in [&n.first, &n.middle].into_iter().enumerate() {
                let Some(part) = part.as_deref().and_then(placeholder::meaningful) else {
                    continue;
                };
                let gk = given_key(&part);
                if i == 0 {
                    // pairs of the surname with the first given name only
                    t.pairs.extend(name_pairs(&sk, &gk, &[]));
                }
                for form in &gk.forms {
                    t.given.insert(form.text.clone());
                    if form.kind == names::FormKind::Core {
                        t.given_ph.extend(form.codes.iter().cloned());
                    }
                }
            }
        }
        t
    }
}
