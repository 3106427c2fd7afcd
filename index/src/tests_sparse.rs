//! Information-poor queries (issue 21): a name part plus an initial among many persons sharing
//! the name part, and an exact DOB with a garbled common given name and a junk surname. All
//! names are synthetic.

use super::*;

fn person(id: i64, first: &str, last: &str, dob: Option<NaiveDate>) -> PersonDoc {
    PersonDoc {
        person_id: id,
        last_name: last.to_owned(),
        first_name: Some(first.to_owned()),
        dob,
        roles: vec![Role::Restrained],
        active: true,
        ..PersonDoc::default()
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A made-up word per number, so that crowds do not share tokens.
fn word(i: usize) -> String {
    let syllables = ["ka", "lo", "ri", "ru", "te", "vo", "sa", "ni", "bo", "de"];
    [i % 10, (i / 10) % 10, (i / 100) % 10]
        .iter()
        .map(|&k| syllables[k])
        .collect()
}

pub(super) fn search(
    ix: &PersonIndex,
    first: &str,
    last: &str,
    dob: Option<NaiveDate>,
) -> Vec<Hit> {
    ix.search(
        &SearchQuery {
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            dob,
            ..SearchQuery::default()
        },
        10,
    )
    .expect("search")
}

#[test]
fn a_surname_and_an_initial_find_the_one_with_that_initial_among_hundreds() {
    // 300 Zapiens, one of them with a given name starting with M. The surname alone ties them
    // all, so the name union's best 30 are any 30 of them; the initial must pick the one.
    let mut docs: Vec<PersonDoc> = (0..300)
        .map(|i| person(100 + i as i64, &format!("Ta{}", word(i)), "Zapien", None))
        .collect();
    // last, so that ties at the name union's cut-off (in index order) do not keep them
    docs.push(person(1, "Margarita", "Zapien", None));
    // and a given name with an initial among hundreds of that given name
    docs.extend((0..300).map(|i| {
        person(
            1_000 + i as i64,
            "Leocadia",
            &format!("Pu{}", word(i)),
            None,
        )
    }));
    docs.push(person(2, "Leocadia", "Quintero", None));
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&docs).expect("upsert");
    // one segment, as a rebuilt index has (the lists' budgets are per segment)
    ix.compact().expect("compact");

    let hits = search(&ix, "M", "Zapien", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(1), "{hits:?}");
    assert!(
        hits[0]
            .explanation
            .iter()
            .any(|e| e == "given name initial (M→Margarita)"),
        "{:?}",
        hits[0].explanation
    );
    let hits = search(&ix, "Leocadia", "Q", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(2), "{hits:?}");
    assert!(
        hits[0]
            .explanation
            .iter()
            .any(|e| e == "surname initial (Q→Quintero)"),
        "{:?}",
        hits[0].explanation
    );
}

#[test]
fn an_exact_dob_and_a_garbled_common_given_name_find_the_person() {
    // "Mqrcus Qwzrt", born 1975-03-14: the surname is junk, the given name one letter off a name
    // 600 persons have, 300 of them born a day later (a DOB one keying error away). The person
    // has a middle name, so every other Marcus scores above them in the name union.
    let born = date(1975, 3, 14);
    let mut docs: Vec<PersonDoc> = (0..300)
        .map(|i| {
            person(
                100 + i as i64,
                "Marcus",
                &format!("Dro{}", word(i)),
                Some(date(1975, 3, 15)),
            )
        })
        .collect();
    docs.extend((0..300).map(|i| {
        person(
            1_000 + i as i64,
            "Marcus",
            &format!("Vel{}", word(i)),
            Some(date(
                1960 + (i % 30) as i32,
                1 + (i % 12) as u32,
                1 + (i % 28) as u32,
            )),
        )
    }));
    docs.push(PersonDoc {
        middle_name: Some("Aurelio".into()),
        ..person(1, "Marcus", "Whitcombe", Some(born))
    });
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&docs).expect("upsert");
    // one segment, as a rebuilt index has (the lists' budgets are per segment)
    ix.compact().expect("compact");
    for last in ["Qwzrt", "Xx", "Unknown", "LNU"] {
        let hits = search(&ix, "Mqrcus", last, Some(born));
        assert_eq!(
            hits.first().map(|h| h.person_id),
            Some(1),
            "{last}: {hits:?}"
        );
        let e = &hits[0].explanation;
        assert!(e.iter().any(|e| e == "DOB exact"), "{last}: {e:?}");
        assert!(
            e.iter().any(|e| e == "given name 1 edit (Mqrcus→Marcus)"),
            "{last}: {e:?}"
        );
    }
}

#[test]
fn a_short_form_and_an_initial_find_the_names_they_start() {
    // "Rob T": every name starting with Rob, with a surname starting with T. Hundreds of Roberts
    // with other surnames fill the name union; two persons fit.
    let mut docs: Vec<PersonDoc> = (0..300)
        .map(|i| person(100 + i as i64, "Robert", &format!("Pu{}", word(i)), None))
        .collect();
    docs.push(person(1, "Roberto", "Tavira", None));
    docs.push(person(2, "Robyn", "Teague", None));
    docs.push(person(3, "Ramona", "Tavira", None));
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&docs).expect("upsert");
    ix.compact().expect("compact");
    let hits = search(&ix, "Rob", "T", None);
    // the two fitting both parts first; Roberts matching the given name alone may follow
    let mut ids: Vec<i64> = hits.iter().take(2).map(|h| h.person_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, vec![1, 2], "{hits:?}");
    assert!(
        hits.iter()
            .skip(2)
            .all(|h| h.person_id >= 100 && h.score < hits[1].score)
    );
    for h in hits.iter().take(2) {
        assert!(
            h.explanation
                .iter()
                .any(|e| e.starts_with("surname initial (T→")),
            "{h:?}"
        );
        // "Rob" is also a nickname of Robert's family of names
        assert!(
            h.explanation
                .iter()
                .any(|e| e.starts_with("given name prefix (Rob→")
                    || e.starts_with("given name nickname Rob→")),
            "{h:?}"
        );
    }
}

#[test]
fn a_year_of_birth_alone_still_picks_the_person_of_a_common_name() {
    // 120 Maria Garcias born 1950-1969 and the one born 1988. The pair list holds 50 of them,
    // in index order; only reading the year's persons finds her. A rare name (the pair list
    // holds all its persons) skips that read, and is still found.
    let mut docs: Vec<PersonDoc> = (0..120u32)
        .map(|i| {
            person(
                100 + i64::from(i),
                "Maria",
                "Garcia",
                Some(date(1950 + (i % 20) as i32, 1 + i % 12, 1 + i % 28)),
            )
        })
        .collect();
    docs.push(person(1, "Maria", "Garcia", Some(date(1988, 4, 23))));
    docs.extend((0..3i32).map(|i| {
        person(
            10 + i64::from(i),
            "Ottilie",
            "Zapien",
            Some(date(1960 + i, 2, 3)),
        )
    }));
    docs.push(person(2, "Ottilie", "Zapien", Some(date(1991, 7, 9))));
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&docs).expect("upsert");
    let year = |first: &str, last: &str, y| SearchQuery {
        first_name: Some(first.to_owned()),
        last_name: Some(last.to_owned()),
        dob_partial: Some(PartialDob {
            year: Some(y),
            month: None,
            day: None,
        }),
        ..SearchQuery::default()
    };
    let hits = ix
        .search(&year("Maria", "Garcia", 1988), 10)
        .expect("search");
    assert_eq!(hits.first().map(|h| h.person_id), Some(1), "{hits:?}");
    let hits = ix
        .search(&year("Ottilie", "Zapien", 1991), 10)
        .expect("search");
    assert_eq!(hits.first().map(|h| h.person_id), Some(2), "{hits:?}");
}
