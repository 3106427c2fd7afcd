//! Name normalisation, nickname and phonetic equivalence, and token-level match grading.

use std::collections::HashMap;
use std::sync::LazyLock;

use rphonetic::DoubleMetaphone;

/// Generational suffixes: never needed for a match, often misplaced into the surname field.
const SUFFIXES: &[&str] = &[
    "jr", "jnr", "sr", "snr", "ii", "iii", "iv", "2nd", "3rd", "4th",
];

/// Surname particles. A token is only treated as a particle when a non-particle follows it,
/// so a bare "Le" or "Da" (common Vietnamese/Italian surnames) stays a surname.
const PARTICLES: &[&str] = &[
    "de", "del", "dela", "della", "delos", "delas", "la", "las", "los", "le", "van", "von", "der",
    "den", "ter", "da", "das", "di", "do", "dos", "du", "st", "ste", "y",
];

/// Particles that are often written glued to the surname ("Delacruz", "Vanhorn"); longest first.
const PARTICLE_PREFIXES: &[&str] = &["delos", "delas", "della", "dela", "del", "van", "von", "de"];

/// English list (carltonnorthern/nicknames, Apache-2.0) plus the project's Spanish list.
static NICKNAMES: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for csv in [
        include_str!("../data/nicknames_en.csv"),
        include_str!("../data/nicknames_es.csv"),
    ] {
        for line in csv.lines().skip(1) {
            let mut parts = line.split(',');
            let (Some(a), Some(rel), Some(b)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if rel.trim() != "has_nickname" {
                continue;
            }
            let (a, b) = (fold(a.trim()), fold(b.trim()));
            if a.is_empty() || b.is_empty() || a == b {
                continue;
            }
            map.entry(a.clone()).or_default().push(b.clone());
            map.entry(b).or_default().push(a);
        }
    }
    for v in map.values_mut() {
        v.sort();
        v.dedup();
    }
    map
});

/// Lower-case ASCII with accents folded ("Núñez" → "nunez").
pub(crate) fn fold(raw: &str) -> String {
    deunicode::deunicode(raw).to_lowercase()
}

/// Normalised tokens: folded, apostrophes dropped (O'Brien → obrien), split on anything else
/// that is not a letter or digit, suffixes removed.
pub(crate) fn raw_tokens(raw: &str) -> Vec<String> {
    let folded: String = fold(raw)
        .chars()
        .filter(|c| *c != '\'' && *c != '`')
        .collect();
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty() && !SUFFIXES.contains(t))
        .map(str::to_owned)
        .collect()
}

fn is_particle(t: &str) -> bool {
    PARTICLES.contains(&t)
}

/// How a searchable form was derived from the written name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormKind {
    /// A name token as written.
    Core,
    /// Particles glued to the following token ("de la Cruz" → "delacruz").
    Particle,
    /// A glued particle removed ("Delacruz" → "cruz").
    Stripped,
    /// All tokens glued ("Garcia Lopez" → "garcialopez", "Mary Ann" → "maryann").
    Joined,
}

/// One searchable spelling of (part of) a name.
#[derive(Clone, Debug)]
pub(crate) struct Form {
    pub text: String,
    pub kind: FormKind,
    /// Index of the core token this form stands for; `None` for the whole-name join.
    pub core: Option<usize>,
    /// Double Metaphone codes, computed once per form rather than per comparison.
    pub codes: Vec<String>,
}

/// A name part (surname or given names) as cores plus every derived spelling.
#[derive(Clone, Debug, Default)]
pub(crate) struct PartKey {
    pub cores: Vec<String>,
    pub forms: Vec<Form>,
}

impl PartKey {
    pub(crate) fn is_empty(&self) -> bool {
        self.cores.is_empty()
    }
}

pub(crate) fn surname_key(raw: &str) -> PartKey {
    key_from_tokens(&raw_tokens(raw), true)
}

pub(crate) fn given_key(raw: &str) -> PartKey {
    key_from_tokens(&raw_tokens(raw), false)
}

pub(crate) fn key_from_tokens(toks: &[String], surname: bool) -> PartKey {
    let mut key = PartKey::default();
    let mut run = String::new();
    for (i, tok) in toks.iter().enumerate() {
        let particle = is_particle(tok) && toks[i + 1..].iter().any(|t| !is_particle(t));
        if particle {
            run.push_str(tok);
            continue;
        }
        let ci = key.cores.len();
        key.cores.push(tok.clone());
        push_form(&mut key.forms, tok.clone(), FormKind::Core, Some(ci));
        if !run.is_empty() {
            push_form(
                &mut key.forms,
                format!("{run}{tok}"),
                FormKind::Particle,
                Some(ci),
            );
            run.clear();
        }
        if surname && let Some(rest) = strip_particle_prefix(tok) {
            push_form(&mut key.forms, rest, FormKind::Stripped, Some(ci));
        }
    }
    if toks.len() > 1 {
        push_form(&mut key.forms, toks.concat(), FormKind::Joined, None);
        if key.cores.len() > 1 {
            push_form(&mut key.forms, key.cores.concat(), FormKind::Joined, None);
        }
    }
    key
}

fn push_form(forms: &mut Vec<Form>, text: String, kind: FormKind, core: Option<usize>) {
    if !forms.iter().any(|f| f.text == text) {
        let codes = if text.len() >= 3 {
            phonetic_codes(&text)
        } else {
            Vec::new()
        };
        forms.push(Form {
            text,
            kind,
            core,
            codes,
        });
    }
}

fn strip_particle_prefix(tok: &str) -> Option<String> {
    PARTICLE_PREFIXES.iter().find_map(|p| {
        tok.strip_prefix(p)
            .filter(|rest| rest.len() >= 4)
            .map(str::to_owned)
    })
}

/// Alternate given names (both directions: "bob" ↔ "robert").
pub(crate) fn nicknames(token: &str) -> &'static [String] {
    NICKNAMES.get(token).map(Vec::as_slice).unwrap_or(&[])
}

pub(crate) fn is_nickname(a: &str, b: &str) -> bool {
    nicknames(a).iter().any(|n| n == b)
}

/// Double Metaphone primary and alternate codes; codes longer than the usual 4 keep long
/// names ("Hernandez"/"Hernando") apart.
pub(crate) fn phonetic_codes(token: &str) -> Vec<String> {
    if token.len() < 2 || !token.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Vec::new();
    }
    let result = DoubleMetaphone::new(Some(6)).double_metaphone(token);
    let mut codes = vec![result.primary()];
    let alt = result.alternate();
    if alt != codes[0] {
        codes.push(alt);
    }
    codes.retain(|c| !c.is_empty());
    codes
}

/// How well a query token matches a stored token, best first by score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MatchKind {
    Exact,
    Nickname,
    Phonetic,
    Edit1,
    Edit2,
    Prefix,
    Initial,
}

/// Base score of a phonetic match two or more edits away: below [`MatchKind::Edit1`]'s (its
/// Jaro-Winkler spread is the same 0.04), above [`MatchKind::Edit2`]'s.
const PHONETIC_FAR_BASE: f32 = 0.6;

impl MatchKind {
    fn base(self) -> f32 {
        match self {
            MatchKind::Exact => 1.0,
            MatchKind::Nickname => 0.8,
            MatchKind::Phonetic => 0.65,
            MatchKind::Edit1 => 0.65,
            MatchKind::Edit2 => 0.5,
            MatchKind::Prefix => 0.3,
            MatchKind::Initial => 0.25,
        }
    }
}

/// Grades a token pair. Edit distance is computed here because tantivy scores every fuzzy
/// expansion alike; Jaro-Winkler breaks ties within a grade.
pub(crate) fn classify(qf: &Form, df: &Form, given: bool) -> Option<(MatchKind, f32)> {
    let (q, d) = (qf.text.as_str(), df.text.as_str());
    if q == d {
        return Some((MatchKind::Exact, 1.0));
    }
    // Jaro-Winkler is only computed for pairs that can match: most candidate pairs do not.
    let mut jw = None;
    let mut jaro = || *jw.get_or_insert_with(|| strsim::jaro_winkler(q, d) as f32);
    // Double Metaphone alone over-matches consonant skeletons (Garcia ~ Cruz); demand some
    // spelling similarity too.
    let kind = if given && is_nickname(q, d) {
        MatchKind::Nickname
    } else if qf.codes.iter().any(|c| df.codes.contains(c)) && jaro() >= 0.75 {
        MatchKind::Phonetic
    } else {
        let min_len = q.len().min(d.len());
        // the edit grades need 3+ (1 edit) or 5+ (2 edits) letters; lengths further apart
        // than 2 cannot be within 2 edits, so the distance is only computed when it can count
        let edits = if min_len >= 3 && q.len().abs_diff(d.len()) <= 2 {
            strsim::osa_distance(q, d)
        } else {
            usize::MAX
        };
        match edits {
            1 if min_len >= 3 => MatchKind::Edit1,
            2 if min_len >= 5 => MatchKind::Edit2,
            _ if q.len() >= 2 && d.len() > q.len() && d.starts_with(q) => MatchKind::Prefix,
            // an initial typed for a name ("J R", "M Okafor", "Rob T") or stored for one
            _ if q.len() == 1 && d.starts_with(q) => MatchKind::Initial,
            _ if d.len() == 1 && q.starts_with(d) => MatchKind::Initial,
            _ => return None,
        }
    };
    let jw = jaro();
    // A sound-alike two or more edits away ("Ramiyes"~"Ramos", "Alldn"~"Alden") is weaker
    // evidence of a typed name than a spelling one edit away ("Ramires", "Allen"): it ranks
    // below every 1-edit match and above every 2-edit one.
    if kind == MatchKind::Phonetic && strsim::osa_distance(q, d) >= 2 {
        return Some((kind, PHONETIC_FAR_BASE + 0.04 * jw));
    }
    // Jaro-Winkler orders matches within a grade; phonetic matches spread wider because the
    // codes are coarse (Garsia~Garcia should beat Garsia~Garza).
    let spread = if kind == MatchKind::Phonetic {
        0.2
    } else {
        0.04
    };
    Some((kind, kind.base() + spread * jw))
}

/// "garcai" → "Garcai", for explanations.
pub(crate) fn title(t: &str) -> String {
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// County names compare folded, single-spaced.
pub(crate) fn norm_county(raw: &str) -> String {
    raw_tokens(raw).join(" ")
}

/// Court codes compare upper-case without spaces.
pub(crate) fn norm_court(raw: &str) -> String {
    norm_case_number(raw)
}

/// Case numbers compare as upper-case letters and digits only.
pub(crate) fn norm_case_number(raw: &str) -> String {
    raw.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
