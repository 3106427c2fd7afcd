//! Latency sanity check for the person index (not a timed test).
//!
//! Builds an on-disk index of `CCPOR_BENCH_PERSONS` synthetic persons (default 100 000), runs a
//! fixed mixed query set and prints build rate, index size and p50/p99 latency as markdown.
//!
//! `CARGO_TARGET_DIR=/root/.cache/ccpor-target cargo bench -p ccpor-index --bench search`

#![expect(
    clippy::expect_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::time::{Duration, Instant};

use ccpor_index::{PersonDoc, PersonIndex, Role, SearchQuery};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ONSETS: &[&str] = &[
    "b", "br", "c", "ch", "d", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "r", "s", "st",
    "t", "tr", "v", "w", "z",
];
const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ou"];
const CODAS: &[&str] = &["", "", "n", "r", "s", "l", "m", "nd", "rt", "z", "x"];
/// Given names with well-known nicknames, so nickname queries have something to find.
const NICKNAMED: &[(&str, &str)] = &[
    ("Robert", "Bob"),
    ("William", "Bill"),
    ("Elizabeth", "Liz"),
    ("Margaret", "Peggy"),
    ("Jose", "Pepe"),
    ("Jesus", "Chuy"),
    ("Francisco", "Paco"),
    ("Guadalupe", "Lupe"),
];

fn syllable(rng: &mut ChaCha8Rng) -> String {
    let o = ONSETS[rng.random_range(0..ONSETS.len())];
    let v = VOWELS[rng.random_range(0..VOWELS.len())];
    let c = CODAS[rng.random_range(0..CODAS.len())];
    format!("{o}{v}{c}")
}

fn word(rng: &mut ChaCha8Rng, syllables: usize) -> String {
    let w: String = (0..syllables).map(|_| syllable(rng)).collect();
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => w,
    }
}

/// Skewed pick: a few names are very common, most are rare (like real surname lists).
fn skewed<'a>(rng: &mut ChaCha8Rng, pool: &'a [String]) -> &'a str {
    let u: f64 = rng.random();
    &pool[((u * u * u) * pool.len() as f64) as usize % pool.len()]
}

/// One edit in the middle of a name (substitution by a consonant unlikely to sound alike).
fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() < 4 {
        return s.to_owned();
    }
    let i = rng.random_range(1..chars.len() - 1);
    chars[i] = if chars[i] == 'q' { 'x' } else { 'q' };
    chars.into_iter().collect()
}

/// A spelling variant Double Metaphone considers equal: change a non-initial vowel.
fn sound_alike(s: &str) -> String {
    let mut done = false;
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if !done && i > 0 && "aeiou".contains(c) {
                done = true;
                if c == 'a' { 'e' } else { 'a' }
            } else {
                c
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::var("CCPOR_BENCH_PERSONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let surnames: Vec<String> = (0..(n / 5).max(100))
        .map(|_| {
            let k = rng.random_range(2..4);
            word(&mut rng, k)
        })
        .collect();
    let givens: Vec<String> = (0..2_000)
        .map(|_| {
            let k = rng.random_range(2..4);
            word(&mut rng, k)
        })
        .collect();
    let counties = [
        "Los Angeles",
        "San Diego",
        "Orange",
        "Riverside",
        "Kern",
        "Fresno",
    ];

    let people: Vec<PersonDoc> = (0..n)
        .map(|i| {
            let first = if rng.random_range(0..10) == 0 {
                NICKNAMED[rng.random_range(0..NICKNAMED.len())].0.to_owned()
            } else {
                skewed(&mut rng, &givens).to_owned()
            };
            let mut last = skewed(&mut rng, &surnames).to_owned();
            if rng.random_range(0..8) == 0 {
                last = format!("{last} {}", skewed(&mut rng, &surnames));
            }
            let dob = if rng.random_range(0..5) == 0 {
                None
            } else {
                NaiveDate::from_ymd_opt(
                    rng.random_range(1940..2008),
                    rng.random_range(1..13),
                    rng.random_range(1..29),
                )
            };
            PersonDoc {
                person_id: i as i64,
                last_name: last,
                first_name: Some(first),
                middle_name: None,
                aliases: Vec::new(),
                estimated_age: if dob.is_none() {
                    Some(rng.random_range(18..70))
                } else {
                    None
                },
                age_as_of: None,
                dob,
                case_numbers: vec![format!("SC{:02}FL{:06}", i % 58, i)],
                courts: vec![format!("SC{:02}", i % 58)],
                counties: vec![counties[i % counties.len()].to_owned()],
                roles: vec![if i % 2 == 0 {
                    Role::Restrained
                } else {
                    Role::Protected
                }],
                active: i % 3 != 0,
            }
        })
        .collect();

    let dir = tempfile::tempdir().expect("tempdir");
    let ix = PersonIndex::create_in_dir(dir.path()).expect("index");
    let start = Instant::now();
    for batch in people.chunks(10_000) {
        ix.upsert(batch).expect("upsert");
    }
    let build = start.elapsed();
    let size = dir_size(dir.path());

    // Fixed mixed query set, drawn from persons that exist.
    let nicknamed: Vec<&PersonDoc> = people
        .iter()
        .filter(|p| {
            p.dob.is_some()
                && NICKNAMED
                    .iter()
                    .any(|(f, _)| Some(*f) == p.first_name.as_deref())
        })
        .collect();
    let mut sets: Vec<(&str, Vec<(SearchQuery, i64)>)> = vec![
        ("exact first+last", Vec::new()),
        ("typo surname (1 edit)", Vec::new()),
        ("nickname given name", Vec::new()),
        ("phonetic surname", Vec::new()),
        ("free text name", Vec::new()),
        ("DOB + partial surname", Vec::new()),
        ("case number only", Vec::new()),
    ];
    let mut qrng = ChaCha8Rng::seed_from_u64(7);
    let mut picked = 0;
    while picked < 200 {
        let p = &people[qrng.random_range(0..n)];
        if p.dob.is_none() {
            continue;
        }
        picked += 1;
        let id = p.person_id;
        let first = p.first_name.clone();
        let last = Some(p.last_name.clone());
        sets[0].1.push((
            SearchQuery {
                first_name: first.clone(),
                last_name: last.clone(),
                ..SearchQuery::default()
            },
            id,
        ));
        sets[1].1.push((
            SearchQuery {
                first_name: first.clone(),
                last_name: Some(typo(&mut qrng, &p.last_name)),
                ..SearchQuery::default()
            },
            id,
        ));
        let np = nicknamed[qrng.random_range(0..nicknamed.len())];
        let nick = NICKNAMED
            .iter()
            .find(|(full, _)| Some(*full) == np.first_name.as_deref())
            .map_or("", |(_, nick)| nick);
        sets[2].1.push((
            SearchQuery {
                first_name: Some(nick.to_owned()),
                last_name: Some(np.last_name.clone()),
                ..SearchQuery::default()
            },
            np.person_id,
        ));
        sets[3].1.push((
            SearchQuery {
                first_name: first.clone(),
                last_name: Some(sound_alike(&p.last_name)),
                ..SearchQuery::default()
            },
            id,
        ));
        sets[4].1.push((
            SearchQuery {
                name: Some(format!(
                    "{} {}",
                    p.last_name,
                    first.clone().unwrap_or_default()
                )),
                ..SearchQuery::default()
            },
            id,
        ));
        sets[5].1.push((
            SearchQuery {
                name: Some(p.last_name.chars().take(3).collect()),
                dob: p.dob,
                ..SearchQuery::default()
            },
            id,
        ));
        sets[6].1.push((
            SearchQuery {
                case_number: Some(p.case_numbers[0].clone()),
                ..SearchQuery::default()
            },
            id,
        ));
    }

    println!("## ccpor-index search bench\n");
    println!("| persons | build | build rate | index size | bytes/person |\n|---|---|---|---|---|");
    println!(
        "| {n} | {:.1} s | {:.0} persons/s | {:.1} MB | {:.0} |\n",
        build.as_secs_f64(),
        n as f64 / build.as_secs_f64(),
        size as f64 / 1e6,
        size as f64 / n as f64
    );
    println!(
        "| query kind | queries | p50 | p99 | mean hits | target in top 20 (or tied) |\n|---|---|---|---|---|---|"
    );
    for (label, queries) in &sets {
        // warm-up pass, then the timed pass
        for (q, _) in queries.iter().take(20) {
            let _ = ix.search(q, 20);
        }
        let mut times = Vec::with_capacity(queries.len());
        let mut hits = 0usize;
        let mut found = 0usize;
        for (q, target) in queries {
            let t = Instant::now();
            let res = ix.search(q, 20).expect("search");
            times.push(t.elapsed());
            hits += res.len();
            // Common synthetic names repeat: a top 20 of equal scores without the target is a
            // tie, not a miss.
            let tied = res.len() == 20 && res[19].score >= res[0].score - 1e-6;
            found += usize::from(tied || res.iter().any(|h| h.person_id == *target));
        }
        times.sort();
        println!(
            "| {label} | {} | {:.2} ms | {:.2} ms | {:.1} | {:.0} % |",
            times.len(),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            hits as f64 / queries.len() as f64,
            100.0 * found as f64 / queries.len() as f64
        );
    }
}
