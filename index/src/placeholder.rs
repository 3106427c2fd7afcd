//! Placeholder and junk names: what is typed into a name field when the name is unknown or was
//! refused ("Unknown", "Refused", "Doe", "Man of the house", "Desconocido"). They carry no
//! information about the person, so a query ignores them (the other name part and the DOB
//! decide) and the index does not make them searchable terms (a stored "Unknown" would otherwise
//! pair every placeholder query with every placeholder record).
//!
//! The list is data (`data/placeholder_names.csv`): `strong` entries are dropped wherever they
//! appear; `weak` ones are also real names or ordinary words ("Son", "Doe", "Friend"), so they
//! only count when the whole name part consists of placeholders.

use std::sync::LazyLock;

use crate::names::raw_tokens;

struct Phrases {
    /// Token sequences, longest first.
    strong: Vec<Vec<String>>,
    weak: Vec<Vec<String>>,
}

static PHRASES: LazyLock<Phrases> = LazyLock::new(|| {
    let mut p = Phrases {
        strong: Vec::new(),
        weak: Vec::new(),
    };
    for line in include_str!("../data/placeholder_names.csv")
        .lines()
        .skip(1)
    {
        let Some((phrase, strength)) = line.split_once(',') else {
            continue;
        };
        let toks = raw_tokens(phrase);
        if toks.is_empty() {
            continue;
        }
        match strength.trim() {
            "strong" => p.strong.push(toks),
            _ => p.weak.push(toks),
        }
    }
    for list in [&mut p.strong, &mut p.weak] {
        list.sort_by_key(|t| std::cmp::Reverse(t.len()));
    }
    p
});

/// Length of the longest phrase of `list` starting at `toks[i]`, if any.
fn phrase_at(list: &[Vec<String>], toks: &[String], i: usize) -> Option<usize> {
    list.iter().find(|p| toks[i..].starts_with(p)).map(Vec::len)
}

/// The name part without its placeholders, as normalised tokens joined by spaces; `None` when
/// nothing meaningful is left. A part without placeholders is returned as written.
pub(crate) fn meaningful(raw: &str) -> Option<String> {
    let toks = raw_tokens(raw);
    let p = &*PHRASES;
    let mut kept: Vec<String> = Vec::with_capacity(toks.len());
    let mut dropped = false;
    let mut i = 0;
    while i < toks.len() {
        if let Some(n) = phrase_at(&p.strong, &toks, i) {
            i += n;
            dropped = true;
        } else {
            kept.push(toks[i].clone());
            i += 1;
        }
    }
    if kept.is_empty() {
        return None;
    }
    // all that is left is weak placeholders ("Man of the house", "Son")
    let mut j = 0;
    while j < kept.len() {
        match phrase_at(&p.weak, &kept, j).or_else(|| phrase_at(&p.strong, &kept, j)) {
            Some(n) => j += n,
            None => break,
        }
    }
    if j == kept.len() {
        return None;
    }
    Some(if dropped {
        kept.join(" ")
    } else {
        raw.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::meaningful;

    #[test]
    fn placeholders_alone_are_no_name() {
        for junk in [
            "Unknown",
            "UNK",
            "None",
            "Refused",
            "Doe",
            "Occupant",
            "Resident",
            "Owner",
            "Friend",
            "Daughter",
            "Son",
            "Female",
            "Male",
            "Man of the house",
            "No last name",
            "Apellido",
            "Desconocido",
            "n/a",
            "Baby Girl",
            "Unk.",
            "UNKN",
            "N/A",
            "NLN",
            "FNU",
            "LNU",
            "Jane Doe",
            "JOHN DOE",
            // census-style entries for a person not named on the form
            "Of The House",
            "Man In The",
            "Lady Of House",
            "Mr",
            "Mrs.",
            "Gentleman",
            "Adult Male",
            "Householder",
            "Respondent",
            "Dont Know",
            "Don't know",
            "De La Casa",
            "  ",
        ] {
            assert_eq!(meaningful(junk), None, "{junk}");
        }
    }

    #[test]
    fn real_names_stay() {
        for name in [
            "Garcia",
            "Son Nguyen",
            "Doe Smith",
            "de la Cruz",
            "Manson",
            "Nonez",
            "Child",
            "Minor",
            "Nina",
            "No",
        ] {
            assert_eq!(meaningful(name).as_deref(), Some(name), "{name}");
        }
        // a strong placeholder is dropped from a real name; a weak one stays
        assert_eq!(meaningful("Unknown Garcia").as_deref(), Some("garcia"));
        assert_eq!(meaningful("Maria (refused)").as_deref(), Some("maria"));
        assert_eq!(meaningful("Friend Maria").as_deref(), Some("Friend Maria"));
        assert_eq!(meaningful("Mr John").as_deref(), Some("john"));
    }
}
