//! One typo in a name among crowds that sound like it (issue 21, at statewide size): a
//! misspelt surname must still find its person when many others share the query's Double
//! Metaphone codes, and a spelling one edit away must outrank a sound-alike further away. All
//! names are synthetic.

use super::tests::person;
use super::tests_sparse::search;
use super::*;

#[test]
fn a_one_typo_surname_is_found_past_a_crowd_of_sound_alike_pairs() {
    // "Rosie Arroto" for Rosie Arroyo. 120 Rosa Aratas share both parts' phonetic codes (a
    // pair match each) without being within two edits; before the misspelt pairs had a list of
    // their own, they filled the pair candidates and the union's floor shut Rosie Arroyo out.
    let mut docs: Vec<PersonDoc> = (0..120).map(|i| person(100 + i, "Rosa", "Arata")).collect();
    docs.extend((0..40).map(|i| person(1_000 + i, "Rosie", "Quennell")));
    docs.push(person(1, "Rosie", "Arroyo"));
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&docs).expect("upsert");
    let hits = search(&ix, "Rosie", "Arroto", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(1), "{hits:?}");
    assert!(
        hits[0]
            .explanation
            .iter()
            .any(|e| e == "surname 1 edit (Arroto→Arroyo)"),
        "{:?}",
        hits[0].explanation
    );
}

#[test]
fn a_spelling_one_edit_away_outranks_a_sound_alike_further_away() {
    // "Ramiyes" is one edit from Ramires and three from Ramos, which sounds the same (RMS).
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&[
        person(10, "Rosalba", "Ramos"),
        person(11, "Rosalba", "Ramos"),
        person(12, "Rosalba", "Ramos"),
        person(1, "Rosalba", "Ramires"),
    ])
    .expect("upsert");
    let hits = search(&ix, "Rosalba", "Ramiyes", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(1), "{hits:?}");
    // the sound-alike is still a match, and says so
    let ramos = hits
        .iter()
        .find(|h| h.person_id == 10)
        .expect("Ramos found");
    assert!(
        ramos
            .explanation
            .iter()
            .any(|e| e == "surname phonetic (Ramiyes~Ramos)"),
        "{:?}",
        ramos.explanation
    );
    // and an exact sound-alike one edit away keeps its phonetic rank ("Smyth" for Smith)
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&[person(2, "Ada", "Smith"), person(3, "Ada", "Smit")])
        .expect("upsert");
    let hits = search(&ix, "Ada", "Smyth", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(2), "{hits:?}");
}

#[test]
fn a_surname_matching_no_one_leaves_the_given_name_to_go_by() {
    // "Lcenjoder" (three errors in Icenhower) and the placeholder-like "Ovvner" match no
    // surname at all; the given name still finds its few persons, marked as found without it.
    let ix = PersonIndex::in_memory().expect("index");
    ix.upsert(&[
        person(1, "Carolyn", "Icenhower"),
        person(2, "Carolyn", "Whitfield"),
        person(3, "Marcus", "Icenhower"),
    ])
    .expect("upsert");
    for typed in ["Lcenjoder", "Ovvner"] {
        let hits = search(&ix, "Carolyn", typed, None);
        let ids: Vec<i64> = hits.iter().map(|h| h.person_id).collect();
        assert!(
            ids.contains(&1) && ids.contains(&2) && !ids.contains(&3),
            "{typed}: {hits:?}"
        );
        assert!(
            hits.iter().all(|h| h.score < rerank::MIN_SCORE
                && h.explanation[0]
                    == format!("surname {typed:?} matched no one; searched without it")),
            "{typed}: {hits:?}"
        );
    }
    // a surname that matches someone keeps the usual answer: no fallback
    let hits = search(&ix, "Carolyn", "Icenhowr", None);
    assert_eq!(hits.first().map(|h| h.person_id), Some(1), "{hits:?}");
    assert!(
        hits.iter()
            .all(|h| !h.explanation[0].contains("matched no one")),
        "{hits:?}"
    );
}

#[test]
fn a_page_with_room_shows_weaker_records_after_the_matches() {
    // "Winiarski, Soh, 2016-04-10": one match (surname exact, DOB swapped); the other
    // Winiarski's record (surname exact, another DOB) scores under the threshold and used to
    // be left out of a page with nine free places.
    let dob = |s: &str| s.parse::<chrono::NaiveDate>().ok();
    let ix = PersonIndex::in_memory().expect("index");
    let mut laniya = person(1, "Laniya", "Winiarski");
    laniya.dob = dob("2016-10-04");
    let mut ryleigh = person(2, "Ryleigh", "Winiarski");
    ryleigh.dob = dob("2011-04-07");
    ix.upsert(&[laniya, ryleigh]).expect("upsert");
    let hits = search(&ix, "Soh", "Winiarski", dob("2016-04-10"));
    let ids: Vec<i64> = hits.iter().map(|h| h.person_id).collect();
    assert_eq!(ids, [1, 2], "{hits:?}");
    assert!(hits[0].score >= rerank::MIN_SCORE, "{hits:?}");
    assert!(
        hits[1].score < rerank::MIN_SCORE
            && hits[1].explanation.last().map(String::as_str) == Some("weak match"),
        "{hits:?}"
    );
    // a page already full of matches takes no weak record
    let hits = ix
        .search(
            &SearchQuery {
                first_name: Some("Soh".into()),
                last_name: Some("Winiarski".into()),
                dob: dob("2016-04-10"),
                ..Default::default()
            },
            1,
        )
        .expect("search");
    assert_eq!(hits.iter().map(|h| h.person_id).collect::<Vec<_>>(), [1]);
}
