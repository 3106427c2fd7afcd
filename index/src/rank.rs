//! Re-ranking of retrieved candidates: name-part alignment, rarity weighting, graded DOB.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::PartialDob;
use crate::names::{
    Form, FormKind, MatchKind, PartKey, classify, given_key, key_from_tokens, raw_tokens,
    surname_key, title,
};
use crate::placeholder::meaningful;

/// What is stored per person for re-ranking (the index is derived data; the DB stays the truth).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct StoredPerson {
    pub person_id: i64,
    pub names: Vec<StoredName>,
    pub dob: Option<NaiveDate>,
    pub estimated_age: Option<i32>,
    pub age_as_of: Option<NaiveDate>,
    pub case_numbers: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct StoredName {
    pub last: String,
    pub first: Option<String>,
    pub middle: Option<String>,
    pub alias: bool,
}

/// One way of reading the query's name: which text is the surname, which the given names.
pub(crate) struct QueryVariant {
    pub sur: Option<(PartKey, String)>,
    pub given: Option<(PartKey, String)>,
    pub swapped: bool,
}

/// Builds every reading of the query's name: structured as given (and swapped), and for free
/// text every split of the tokens into a given-name run and a surname run, in either order.
pub(crate) fn query_variants(
    first: Option<&str>,
    last: Option<&str>,
    free: Option<&str>,
) -> Vec<QueryVariant> {
    let mut out = Vec::new();
    let sur = last
        .map(|l| (surname_key(l), l.to_owned()))
        .filter(|(k, _)| !k.is_empty());
    let giv = first
        .map(|f| (given_key(f), f.to_owned()))
        .filter(|(k, _)| !k.is_empty());
    if sur.is_some() || giv.is_some() {
        // the swapped reading: family-first names entered in the wrong fields
        out.push(QueryVariant {
            sur: giv.as_ref().map(|g| (surname_key(&g.1), g.1.clone())),
            given: sur.as_ref().map(|s| (given_key(&s.1), s.1.clone())),
            swapped: true,
        });
        out.push(QueryVariant {
            sur,
            given: giv,
            swapped: false,
        });
    }
    if let Some(free) = free {
        let mut toks = raw_tokens(free);
        toks.truncate(6);
        let n = toks.len();
        if n == 1 {
            out.push(QueryVariant {
                sur: Some((key_from_tokens(&toks, true), toks.join(" "))),
                given: None,
                swapped: false,
            });
            out.push(QueryVariant {
                sur: None,
                given: Some((key_from_tokens(&toks, false), toks.join(" "))),
                swapped: false,
            });
        }
        for i in 1..n {
            let (a, b) = toks.split_at(i);
            // given-first ("Robert Garcia") and surname-first ("GARCIA, ROBERT", "Nguyen Van Minh")
            for (g, s) in [(a, b), (b, a)] {
                let (gk, sk) = (key_from_tokens(g, false), key_from_tokens(s, true));
                if gk.is_empty() || sk.is_empty() {
                    continue;
                }
                out.push(QueryVariant {
                    sur: Some((sk, s.join(" "))),
                    given: Some((gk, g.join(" "))),
                    swapped: false,
                });
            }
        }
    }
    out
}

/// A stored spelling, tagged with whether it came from the middle name.
struct DForm<'a> {
    form: &'a Form,
    middle: bool,
}

struct UnitMatch<'a> {
    kind: MatchKind,
    score: f32,
    q: &'a str,
    d: &'a str,
    d_core: Option<usize>,
    middle: bool,
    particle: bool,
}

fn best_match<'a>(qforms: &[&'a Form], dforms: &[DForm<'a>], given: bool) -> Option<UnitMatch<'a>> {
    let mut best: Option<UnitMatch> = None;
    for qf in qforms {
        for df in dforms {
            let Some((kind, mut score)) = classify(qf, df.form, given) else {
                continue;
            };
            let particle = qf.kind == FormKind::Stripped || df.form.kind == FormKind::Stripped;
            if particle {
                score *= 0.97;
            }
            if df.middle {
                score *= 0.85;
            }
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(UnitMatch {
                    kind,
                    score,
                    q: &qf.text,
                    d: &df.form.text,
                    d_core: if df.middle { None } else { df.form.core },
                    middle: df.middle,
                    particle,
                });
            }
        }
    }
    best
}

fn describe(part: &str, m: &UnitMatch<'_>) -> String {
    let part = if m.middle { "middle name" } else { part };
    let (q, d) = (title(m.q), title(m.d));
    match m.kind {
        MatchKind::Exact => format!("{part} exact"),
        MatchKind::Nickname => format!("{part} nickname {q}→{d}"),
        MatchKind::Phonetic => format!("{part} phonetic ({q}~{d})"),
        MatchKind::Edit1 => format!("{part} 1 edit ({q}→{d})"),
        MatchKind::Edit2 => format!("{part} 2 edits ({q}→{d})"),
        MatchKind::Prefix => format!("{part} prefix ({q}→{d})"),
        MatchKind::Initial => format!("{part} initial ({q}→{d})"),
    }
}

pub(crate) struct PartResult {
    pub score: f32,
    pub explanation: Vec<String>,
}

/// Scores one name part. Two routes, best wins: the whole glued name against any stored
/// spelling ("McDonald" vs "Mc Donald"), or token by token with rarity weights, where
/// covering the query counts more than covering the stored name (a half of a compound
/// surname still matches).
fn part_score(
    q: &PartKey,
    q_raw: &str,
    d: &PartKey,
    d_middle: Option<&PartKey>,
    d_raw: &str,
    given: bool,
    weight: &mut dyn FnMut(&str) -> f32,
) -> Option<PartResult> {
    let part = if given { "given name" } else { "surname" };
    let mut dforms: Vec<DForm<'_>> = d
        .forms
        .iter()
        .map(|form| DForm {
            form,
            middle: false,
        })
        .collect();
    if let Some(m) = d_middle {
        dforms.extend(m.forms.iter().map(|form| DForm { form, middle: true }));
    }
    if dforms.is_empty() {
        return None;
    }
    let mut best: Option<PartResult> = None;

    if q.cores.len() > 1 {
        let whole: Vec<&Form> = q.forms.iter().filter(|f| f.core.is_none()).collect();
        if let Some(m) = best_match(&whole, &dforms, given)
            && m.kind != MatchKind::Prefix
        {
            best = Some(PartResult {
                score: m.score,
                explanation: vec![describe(part, &m)],
            });
        }
    }

    let mut total_w = 0.0f32;
    let mut got = 0.0f32;
    let mut matched_d: BTreeSet<usize> = BTreeSet::new();
    let mut order: Vec<usize> = Vec::new();
    let mut expl = Vec::new();
    let mut particle = false;
    let mut matched_q: Vec<String> = Vec::new();
    for (i, core) in q.cores.iter().enumerate() {
        // rarity matters for surnames; given names weigh alike
        let w = if given { 1.0 } else { weight(core) };
        total_w += w;
        let qforms: Vec<&Form> = q.forms.iter().filter(|f| f.core == Some(i)).collect();
        if let Some(m) = best_match(&qforms, &dforms, given) {
            got += w * m.score;
            match m.d_core {
                Some(c) => {
                    matched_d.insert(c);
                    order.push(c);
                }
                None if !m.middle => matched_d.extend(0..d.cores.len()),
                None => {}
            }
            particle |= m.particle;
            matched_q.push(core.clone());
            expl.push(describe(part, &m));
        }
    }
    if total_w > 0.0 && !expl.is_empty() {
        let qcov = got / total_w;
        let dcov = if d.cores.is_empty() {
            0.0
        } else {
            matched_d.len() as f32 / d.cores.len() as f32
        };
        // A dropped second surname is routine; an unmatched extra given name less so.
        let mut score = if given {
            0.75 * qcov + 0.25 * dcov
        } else {
            0.9 * qcov + 0.1 * dcov
        };
        // The first (paternal) surname is the family identifier; matching only a later one
        // is slightly weaker.
        if !given && d.cores.len() > 1 && !matched_d.is_empty() && !matched_d.contains(&0) {
            score -= 0.02;
        }
        expl.dedup();
        if !given {
            if d.cores.len() > 1 && matched_d.len() < d.cores.len() {
                expl.push(format!(
                    "surname half of compound ({} in {d_raw})",
                    title(&matched_q.join(" "))
                ));
            } else if q.cores.len() > 1 && matched_q.len() < q.cores.len() {
                expl.push(format!(
                    "surname half of compound ({} in {q_raw})",
                    title(&d.cores.join(" "))
                ));
            }
            if order.windows(2).any(|w| w[0] > w[1]) {
                expl.push("surname parts in other order".to_owned());
            }
            if particle {
                expl.push("surname particle ignored".to_owned());
            }
        }
        if best.as_ref().is_none_or(|b| score > b.score) {
            best = Some(PartResult {
                score,
                explanation: expl,
            });
        }
    }
    best
}

/// Per-name scoring result of a candidate.
pub(crate) struct NameScore {
    pub score: f32,
    pub explanation: Vec<String>,
}

/// Keys of stored names, computed once per distinct spelling per search: candidates share
/// common names, and key derivation (Double Metaphone of every form) dominates re-ranking.
#[derive(Default)]
pub(crate) struct KeyCache {
    sur: HashMap<String, PartKey>,
    given: HashMap<String, PartKey>,
    empty: PartKey,
}

impl KeyCache {
    /// Derives the keys of every name of `person` not seen yet.
    pub(crate) fn add(&mut self, person: &StoredPerson) {
        for name in &person.names {
            // a stored placeholder ("Unknown") is no name: it matches nothing
            if !self.sur.contains_key(&name.last) {
                let key = surname_key(&meaningful(&name.last).unwrap_or_default());
                self.sur.insert(name.last.clone(), key);
            }
            for g in [&name.first, &name.middle].into_iter().flatten() {
                if !self.given.contains_key(g) {
                    self.given
                        .insert(g.clone(), given_key(&meaningful(g).unwrap_or_default()));
                }
            }
        }
    }

    fn sur(&self, raw: &str) -> &PartKey {
        self.sur.get(raw).unwrap_or(&self.empty)
    }

    fn given(&self, raw: &str) -> &PartKey {
        self.given.get(raw).unwrap_or(&self.empty)
    }
}

/// Best agreement between any query reading and any of the person's names (primary or alias).
/// `keys` must already hold the person's names ([`KeyCache::add`]).
pub(crate) fn score_names(
    variants: &[QueryVariant],
    person: &StoredPerson,
    keys: &KeyCache,
    weight: &mut dyn FnMut(&str) -> f32,
) -> Option<NameScore> {
    let mut best: Option<NameScore> = None;
    for name in &person.names {
        let d_sur = keys.sur(&name.last);
        let d_given = name.first.as_deref().map_or(&keys.empty, |g| keys.given(g));
        let d_middle = name.middle.as_deref().map(|g| keys.given(g));
        let d_given_raw = name.first.as_deref().unwrap_or_default();
        for v in variants {
            let s = v
                .sur
                .as_ref()
                .and_then(|(k, raw)| part_score(k, raw, d_sur, None, &name.last, false, weight));
            let g = v.given.as_ref().and_then(|(k, raw)| {
                part_score(k, raw, d_given, d_middle, d_given_raw, true, weight)
            });
            let mut score = match (&v.sur, &v.given) {
                (Some(_), Some(_)) => {
                    0.55 * s.as_ref().map_or(0.0, |r| r.score)
                        + 0.45 * g.as_ref().map_or(0.0, |r| r.score)
                }
                (Some(_), None) => s.as_ref().map_or(0.0, |r| r.score),
                (None, Some(_)) => g.as_ref().map_or(0.0, |r| r.score),
                (None, None) => 0.0,
            };
            if score <= 0.0 {
                continue;
            }
            let mut explanation = Vec::new();
            if v.swapped {
                // a lone name found in the other field is weaker evidence than a full swap
                score -= if v.sur.is_some() && v.given.is_some() {
                    0.05
                } else {
                    0.15
                };
                explanation.push("names swapped".to_owned());
            }
            if name.alias {
                score -= 0.02;
                let shown = match &name.first {
                    Some(f) => format!("{f} {}", name.last),
                    None => name.last.clone(),
                };
                explanation.push(format!("alias ({shown})"));
            }
            explanation.extend(s.into_iter().flat_map(|r| r.explanation));
            explanation.extend(g.into_iter().flat_map(|r| r.explanation));
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(NameScore { score, explanation });
            }
        }
    }
    best
}

/// Graded DOB agreement: (score, explanation). A known-but-different DOB counts against.
pub(crate) fn score_dob(
    q: NaiveDate,
    person: &StoredPerson,
    today: NaiveDate,
) -> Option<(f32, String)> {
    if let Some(d) = person.dob {
        if d == q {
            return Some((1.0, "DOB exact".into()));
        }
        if d.year() == q.year() && d.month() == q.day() && d.day() == q.month() {
            return Some((0.8, "DOB day/month swapped".into()));
        }
        let (qs, ds) = (ymd(q), ymd(d));
        let diff = qs.bytes().zip(ds.bytes()).filter(|(a, b)| a != b).count();
        if diff == 1 {
            return Some((0.7, "DOB one digit off".into()));
        }
        if strsim::osa_distance(&qs, &ds) == 1 {
            return Some((0.65, "DOB digits transposed".into()));
        }
        if d.month() == q.month() && d.day() == q.day() && (d.year() - q.year()).abs() == 1 {
            return Some((0.6, "DOB year ±1".into()));
        }
        return Some((-0.3, "DOB differs".into()));
    }
    let est = person.estimated_age?;
    let as_of = person.age_as_of.unwrap_or(today);
    let age = as_of.years_since(q).map_or(-1, |y| y as i32);
    let diff = (age - est).abs();
    if age >= 0 && diff <= 5 {
        Some((
            0.5 - 0.06 * diff as f32,
            format!("age within range (estimated {est}, DOB gives {age})"),
        ))
    } else {
        Some((-0.1, format!("age out of range (estimated {est})")))
    }
}

pub(crate) fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Birth years a keying-error variant of a DOB may have.
const PLAUSIBLE_BIRTH_YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// DOB spellings that a keying error could have produced, for candidate retrieval.
pub(crate) fn dob_variants(q: NaiveDate, wide: bool) -> Vec<String> {
    let mut out = vec![ymd(q)];
    if let Some(s) = NaiveDate::from_ymd_opt(q.year(), q.day(), q.month()) {
        out.push(ymd(s));
    }
    if wide {
        for dy in [-1, 1] {
            if let Some(s) = NaiveDate::from_ymd_opt(q.year() + dy, q.month(), q.day()) {
                out.push(ymd(s));
            }
        }
        let base: Vec<u8> = ymd(q).into_bytes();
        let mut cands: Vec<Vec<u8>> = Vec::new();
        for i in 0..base.len() {
            for digit in b'0'..=b'9' {
                if digit != base[i] {
                    let mut c = base.clone();
                    c[i] = digit;
                    cands.push(c);
                }
            }
            if i + 1 < base.len() && base[i] != base[i + 1] {
                let mut c = base.clone();
                c.swap(i, i + 1);
                cands.push(c);
            }
        }
        for c in cands {
            // A wrong first or second year digit gives years like 0994 or 1194: valid dates,
            // but nobody in the registry was born then, and each costs the DOB clause its
            // postings.
            if let Ok(s) = String::from_utf8(c)
                && let Ok(d) = NaiveDate::parse_from_str(&s, "%Y%m%d")
                && PLAUSIBLE_BIRTH_YEARS.contains(&d.year())
            {
                out.push(s);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Agreement of a partial DOB (see [`crate::PartialDob`]): weaker than a whole date's, and a
/// known part that differs counts against.
pub(crate) fn score_partial_dob(q: &PartialDob, person: &StoredPerson) -> Option<(f32, String)> {
    let d = person.dob?;
    let year = q.year.map(|y| y == d.year());
    let month = q.month.map(|m| m == d.month());
    let day = q.day.map(|x| x == d.day());
    match (year, month, day) {
        (Some(true), Some(true), Some(true)) => Some((1.0, "DOB exact".into())),
        (Some(true), Some(true), None) => Some((0.6, "DOB year and month match".into())),
        (Some(true), None, None) => Some((0.4, "DOB year matches".into())),
        (None, Some(true), Some(true)) => Some((0.6, "DOB month and day match".into())),
        (None, Some(false), Some(false))
            if q.month == Some(d.day()) && q.day == Some(d.month()) =>
        {
            Some((0.45, "DOB month and day match, swapped".into()))
        }
        (Some(false), None, None) if q.year.is_some_and(|y| (y - d.year()).abs() == 1) => {
            Some((0.2, "DOB year ±1".into()))
        }
        (Some(true), Some(false), None) => Some((0.15, "DOB year matches, month differs".into())),
        (None, None, None) => None,
        _ => Some((-0.2, "DOB differs".into())),
    }
}

/// Every date a partial DOB allows (`YYYYMMDD`), for the DOB-plus-name candidate list: a year
/// gives its days, a year and month the month's days, a month and day that day in every
/// plausible birth year.
pub(crate) fn partial_dob_dates(q: &PartialDob) -> Vec<String> {
    let years: Vec<i32> = match q.year {
        Some(y) => vec![y],
        None if q.month.is_some() && q.day.is_some() => PLAUSIBLE_BIRTH_YEARS
            .filter(|y| *y <= chrono::Utc::now().year())
            .collect(),
        None => return Vec::new(),
    };
    let months: Vec<u32> = q.month.map_or_else(|| (1..=12).collect(), |m| vec![m]);
    let mut out = Vec::new();
    for y in years {
        for &m in &months {
            let days: Vec<u32> = q.day.map_or_else(|| (1..=31).collect(), |d| vec![d]);
            out.extend(
                days.into_iter()
                    .filter_map(|d| NaiveDate::from_ymd_opt(y, m, d))
                    .map(ymd),
            );
        }
    }
    out
}
