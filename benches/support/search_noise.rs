//! The issue-21 development set: noise as it is found in court and police records, in rough
//! real proportions, each class asked with the DOB and name-only. Queries go through the same
//! readers as the API (`dobText` through `read_dob_text`).

use ccpor::domain::dob_text::read_dob_text;
use ccpor_index::{PartialDob, SearchQuery};
use chrono::Datelike;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Case, Person};

/// What a name-only query still says about its person at best: each name part exactly, as a
/// prefix, or nothing ("Unknown Garcia", "M Okafor", "J R", "Rob T"; a misspelt name says at
/// most the target's own given name and surname). Every person
/// it fits is as likely to be the one searched for as any other (the generator drew the person
/// at random), so with `k` persons fitting, no ranking can put the target in the top 10 more
/// often than `10 / k` of the time: the bench reports that bound beside the recall.
pub(super) struct Clue {
    given: Part,
    sur: Part,
}

enum Part {
    Any,
    Exact(String),
    Prefix(String),
}

impl Part {
    fn fits(&self, name: &str) -> bool {
        match self {
            Part::Any => true,
            Part::Exact(s) => name == s,
            Part::Prefix(s) => name.starts_with(s.as_str()),
        }
    }
}

impl Clue {
    /// Whether a person with these lower-case names could have produced the query (the
    /// generator only draws persons with a given name of 3+ and a surname of 4+ letters).
    pub(super) fn fits(&self, first: &str, last: &str) -> bool {
        first.chars().count() >= 3
            && last.chars().count() >= 4
            && self.given.fits(first)
            && self.sur.fits(last)
    }
}

/// Noise classes with their share of queries (weights; they need not sum to anything).
const CLASSES: &[(&str, u32)] = &[
    ("exact given + surname last letter wrong", 10),
    ("exact given + surname inner letter wrong", 10),
    ("nickname given + surname 1 typo", 5),
    ("given 1 typo + exact surname", 6),
    ("keyboard-neighbour typo", 8),
    ("ocr confusion", 5),
    ("placeholder given name", 6),
    ("placeholder surname", 4),
    ("initial given name", 6),
    ("initials only", 2),
    ("short given name (Rob T)", 2),
    ("garbled given + junk surname", 4),
    ("dob typed: day/month swapped (impossible)", 5),
    ("dob typed: wrong year", 5),
    ("dob typed: digits only / US", 6),
    ("dob typed: year only", 3),
    ("dob typed: year-month", 3),
];

const PLACEHOLDERS_GIVEN: &[&str] = &[
    "Unknown",
    "Refused",
    "None",
    "Female",
    "Male",
    "Friend",
    "Daughter",
    "Son",
    "Man of the house",
    "Desconocido",
    "UNK",
];
const PLACEHOLDERS_SUR: &[&str] = &[
    "Unknown",
    "Doe",
    "No last name",
    "Apellido",
    "Resident",
    "Occupant",
    "Owner",
    "Refused",
];

/// QWERTY neighbours of each letter.
fn neighbours(c: char) -> &'static str {
    match c {
        'q' => "wa",
        'w' => "qes",
        'e' => "wrd",
        'r' => "etf",
        't' => "ryg",
        'y' => "tuh",
        'u' => "yij",
        'i' => "uok",
        'o' => "ipl",
        'p' => "ol",
        'a' => "qsz",
        's' => "adwx",
        'd' => "sfec",
        'f' => "dgrv",
        'g' => "fhtb",
        'h' => "gjyn",
        'j' => "hkum",
        'k' => "jli",
        'l' => "kop",
        'z' => "asx",
        'x' => "zsc",
        'c' => "xdv",
        'v' => "cfb",
        'b' => "vgn",
        'n' => "bhm",
        'm' => "njk",
        _ => "",
    }
}

fn letters(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn substitute(s: &str, i: usize, rng: &mut ChaCha8Rng) -> String {
    let mut c = letters(s);
    if i < c.len() {
        let old = c[i].to_ascii_lowercase();
        let mut new = old;
        while new == old {
            new = (b'a' + rng.random_range(0..26u8)) as char;
        }
        c[i] = new;
    }
    c.into_iter().collect()
}

fn keyboard(s: &str, rng: &mut ChaCha8Rng) -> String {
    let mut c = letters(s);
    if c.len() < 3 {
        return s.to_owned();
    }
    let i = rng.random_range(1..c.len());
    let n = neighbours(c[i].to_ascii_lowercase());
    if let Some(k) = n.chars().nth(rng.random_range(0..n.len().max(1))) {
        c[i] = k;
    }
    c.into_iter().collect()
}

fn ocr(s: &str, rng: &mut ChaCha8Rng) -> String {
    let lower = s.to_lowercase();
    // after the first letter, which may be more than one byte ("Ángel")
    let first = lower.chars().next().map_or(0, char::len_utf8);
    let rest = &lower[first..];
    let mut options: Vec<(&str, &str)> = [
        ("m", "rn"),
        ("o", "0"),
        ("l", "1"),
        ("s", "5"),
        ("i", "1"),
        ("b", "8"),
    ]
    .into_iter()
    .filter(|(a, _)| rest.contains(a))
    .collect();
    if options.is_empty() {
        options.push(("", ""));
    }
    let (a, b) = options[rng.random_range(0..options.len())];
    if a.is_empty() {
        return s.to_owned();
    }
    // the first occurrence after the first letter (lower-casing these names keeps byte offsets)
    let at = rest.find(a).map(|pos| pos + first);
    match at.and_then(|at| Some((s.get(..at)?, s.get(at + a.len()..)?))) {
        Some((head, tail)) => format!("{head}{b}{tail}"),
        None => s.to_owned(),
    }
}

fn pick<'a>(list: &[&'a str], rng: &mut ChaCha8Rng) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// `q` noisy queries of persons drawn from `people`.
pub(super) fn cases(people: &[Person], q: usize, rng: &mut ChaCha8Rng) -> Vec<Case> {
    let total: u32 = CLASSES.iter().map(|(_, w)| w).sum();
    let today = chrono::Utc::now().date_naive();
    let mut out = Vec::with_capacity(q);
    while out.len() < q {
        let p = &people[rng.random_range(0..people.len())];
        if p.last.chars().count() < 4 || p.first.chars().count() < 3 {
            continue;
        }
        let mut r = rng.random_range(0..total);
        let class = CLASSES
            .iter()
            .find(|(_, w)| {
                if r < *w {
                    true
                } else {
                    r -= w;
                    false
                }
            })
            .map_or(CLASSES[0].0, |(c, _)| c);
        let (mut first, mut last) = (p.first.clone(), p.last.clone());
        let mut dob_text: Option<String> = None;
        let d = p.dob;
        match class {
            "exact given + surname last letter wrong" => {
                last = substitute(&last, last.chars().count() - 1, rng)
            }
            "exact given + surname inner letter wrong" => {
                let n = last.chars().count();
                last = substitute(&last, rng.random_range(1..n - 1), rng);
            }
            "nickname given + surname 1 typo" => {
                match nicknamer::nicknames(&first.to_lowercase()).first() {
                    Some(n) => first = n.clone(),
                    None => continue,
                }
                let n = last.chars().count();
                last = substitute(&last, rng.random_range(1..n), rng);
            }
            "given 1 typo + exact surname" => {
                let n = first.chars().count();
                first = substitute(&first, rng.random_range(1..n), rng);
            }
            "keyboard-neighbour typo" => {
                if rng.random_bool(0.5) {
                    last = keyboard(&last, rng);
                } else {
                    first = keyboard(&first, rng);
                }
            }
            "ocr confusion" => {
                if rng.random_bool(0.5) {
                    last = ocr(&last, rng);
                } else {
                    first = ocr(&first, rng);
                }
            }
            "placeholder given name" => first = pick(PLACEHOLDERS_GIVEN, rng).to_owned(),
            "placeholder surname" => last = pick(PLACEHOLDERS_SUR, rng).to_owned(),
            "initial given name" => first = first.chars().take(1).collect(),
            "initials only" => {
                first = first.chars().take(1).collect();
                last = last.chars().take(1).collect();
            }
            "short given name (Rob T)" => {
                first = first.chars().take(3).collect();
                last = last.chars().take(1).collect();
            }
            "garbled given + junk surname" => {
                let n = first.chars().count();
                first = substitute(&first, rng.random_range(1..n), rng);
                last = pick(&["Xx", "Unknown", "Qwzrt", "Lnu"], rng).to_owned();
            }
            "dob typed: day/month swapped (impossible)" => {
                if d.day() <= 12 {
                    continue;
                }
                dob_text = Some(format!("{}-{:02}-{:02}", d.year(), d.day(), d.month()));
            }
            "dob typed: wrong year" => {
                let y = match rng.random_range(0..3) {
                    0 => d.year() + 100,
                    1 => d.year() - 400,
                    _ => {
                        let y = d.year().to_string();
                        let mut c: Vec<char> = y.chars().collect();
                        c.swap(0, 2);
                        c.into_iter().collect::<String>().parse().unwrap_or(8198)
                    }
                };
                dob_text = Some(format!("{y}-{:02}-{:02}", d.month(), d.day()));
            }
            "dob typed: digits only / US" => {
                dob_text = Some(if rng.random_bool(0.5) {
                    d.format("%Y%m%d").to_string()
                } else {
                    d.format("%m/%d/%Y").to_string()
                })
            }
            "dob typed: year only" => dob_text = Some(d.year().to_string()),
            "dob typed: year-month" => dob_text = Some(format!("{}-{:02}", d.year(), d.month())),
            _ => {}
        }
        let dob_class = class.starts_with("dob typed") || class == "garbled given + junk surname";
        let with_dob = dob_class || rng.random_bool(0.5);
        let (lf, ll) = (first.to_lowercase(), last.to_lowercase());
        let clue = match class {
            _ if with_dob => None,
            "placeholder given name" => Some((Part::Any, Part::Exact(ll))),
            "placeholder surname" => Some((Part::Exact(lf), Part::Any)),
            "initial given name" => Some((Part::Prefix(lf), Part::Exact(ll))),
            "initials only" | "short given name (Rob T)" => {
                Some((Part::Prefix(lf), Part::Prefix(ll)))
            }
            // A misspelt name fits the persons of the target's own name at best: with several
            // of them (common names at statewide size), no ranking tells them apart unasked.
            _ => Some((
                Part::Exact(p.first.to_lowercase()),
                Part::Exact(p.last.to_lowercase()),
            )),
        }
        .map(|(given, sur)| Clue { given, sur });
        let mut query = SearchQuery {
            first_name: Some(first.clone()),
            last_name: Some(last.clone()),
            ..Default::default()
        };
        let mut dob_typed = None;
        if with_dob {
            let text = dob_text.unwrap_or_else(|| d.to_string());
            let read = read_dob_text("dobText", &text, today).expect("generated DOB text reads");
            dob_typed = Some(text);
            match read.date() {
                Some(date) => query.dob = Some(date),
                None => {
                    query.dob_partial = Some(PartialDob {
                        year: read.year,
                        month: read.month,
                        day: read.day,
                    })
                }
            }
            query.dob_note = read.note;
        }
        let label = format!(
            "{class}, {}",
            if with_dob { "with DOB" } else { "name-only" }
        );
        out.push(Case {
            kind: label,
            target: p.id,
            text: format!("{last} {first}"),
            query,
            clue,
            dob_typed,
        });
    }
    out
}
