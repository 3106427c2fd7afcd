//! Latency and recall of the development set, by variant kind, on a kept index: the quick
//! A/B loop behind the figures of the root `search` bench (which stays the benchmark of record).
//!
//! ```sh
//! CCPOR_BENCH_PERSONS=2000000 CCPOR_BENCH_QUERIES=1000 CCPOR_BENCH_DUMP=/tmp/dev2m \
//!   cargo bench --bench search          # writes persons.tsv and cases.tsv, then stops
//! cargo run --release -p ccpor-index --example latency -- /tmp/dev2m [passes]
//! ```
//!
//! `CCPOR_SHOW_MISSES=1` lists the queries whose person is not in the top 10; `=2` adds the
//! target's record, its rank in the first 500 and the three best hits with their explanations.
//! `CCPOR_ONLY=<text>` runs only the kinds whose name contains it.
//! With `<dir>` holding FEBRL's `dataset4a.csv` and `dataset4b.csv` instead
//! (`scripts/fetch-febrl.sh`), it measures FEBRL 4a ← 4b.
//!
//! The index is built in `<dir>/index` on the first run and reused after. Each pass runs every
//! query once; a query's latency is its first pass and the median of all passes, so scheduler
//! noise on a shared machine can be told apart from a slow query.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "an example fails loudly on a broken setup"
)]

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use ccpor_index::{PartialDob, PersonDoc, PersonIndex, Role, SearchQuery};
use chrono::NaiveDate;

struct Case {
    kind: String,
    target: i64,
    query: SearchQuery,
}

fn lines(path: &Path) -> impl Iterator<Item = Vec<String>> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::BufReader::new(f)
        .lines()
        .map(|l| l.unwrap().split('\t').map(str::to_owned).collect())
}

/// FEBRL 4a (originals) and 4b (duplicates) CSVs as persons and cases, when `dir` holds them
/// (`scripts/fetch-febrl.sh`) instead of a dump.
fn febrl(dir: &Path) -> Option<(Vec<PersonDoc>, Vec<Case>)> {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).ok();
    let (a, b) = (read("dataset4a.csv")?, read("dataset4b.csv")?);
    type Row = (i64, String, String, Option<NaiveDate>);
    let parse = |text: &str| -> Vec<Row> {
        text.lines()
            .skip(1)
            .filter_map(|l| {
                let c: Vec<&str> = l.split(',').map(str::trim).collect();
                let id = c.first()?.split('-').nth(1)?.parse::<i64>().ok()?;
                let dob = NaiveDate::parse_from_str(c.get(9)?, "%Y%m%d").ok();
                Some((id + 1, c.get(1)?.to_string(), c.get(2)?.to_string(), dob))
            })
            .collect()
    };
    let people = parse(&a)
        .into_iter()
        .map(|(id, first, last, dob)| PersonDoc {
            person_id: id,
            last_name: last,
            first_name: Some(first),
            dob: dob.or(NaiveDate::from_ymd_opt(1900, 1, 1)),
            roles: vec![Role::Restrained],
            active: true,
            ..Default::default()
        })
        .collect();
    let cases = parse(&b)
        .into_iter()
        .filter(|(_, first, last, _)| !(first.is_empty() && last.is_empty()))
        .map(|(id, first, last, dob)| Case {
            kind: "febrl 4b duplicate".to_owned(),
            target: id,
            query: SearchQuery {
                first_name: Some(first).filter(|s| !s.is_empty()),
                last_name: Some(last).filter(|s| !s.is_empty()),
                dob,
                ..Default::default()
            },
        })
        .collect();
    Some((people, cases))
}

/// `year-month-day` with empty parts for what the typed DOB did not give.
fn partial_dob(s: &str) -> Option<PartialDob> {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    Some(PartialDob {
        year: y.parse().ok(),
        month: m.parse().ok(),
        day: d.parse().ok(),
    })
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: latency <dump dir> [passes]");
    let passes: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(3);
    let dir = Path::new(&dir);
    let index_dir = dir.join("index");
    let fresh = !index_dir.exists();
    let index = PersonIndex::create_in_dir(&index_dir).unwrap();
    let febrl = febrl(dir);
    if let Some((people, _)) = &febrl
        && fresh
    {
        index.upsert(people).unwrap();
    } else if fresh {
        let t = Instant::now();
        let docs: Vec<PersonDoc> = lines(&dir.join("persons.tsv"))
            .map(|c| PersonDoc {
                person_id: c[0].parse().unwrap(),
                last_name: c[1].clone(),
                first_name: Some(c[2].clone()),
                middle_name: c.get(4).filter(|m| !m.is_empty()).cloned(),
                dob: Some(c[3].parse::<NaiveDate>().unwrap()),
                roles: vec![Role::Restrained],
                active: true,
                ..Default::default()
            })
            .collect();
        for chunk in docs.chunks(50_000) {
            index.upsert(chunk).unwrap();
        }
        index.compact().unwrap();
        println!(
            "built {} persons in {:.1} s",
            docs.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let cases: Vec<Case> = match febrl {
        Some((_, cases)) => cases,
        None => lines(&dir.join("cases.tsv"))
            .map(|c| Case {
                kind: c[0].clone(),
                target: c[1].parse().unwrap(),
                query: SearchQuery {
                    last_name: Some(c[2].clone()).filter(|s| !s.is_empty()),
                    first_name: Some(c[3].clone()).filter(|s| !s.is_empty()),
                    dob: c[4].parse().ok(),
                    dob_partial: c.get(5).and_then(|p| partial_dob(p)),
                    dob_note: c.get(6).filter(|n| !n.is_empty()).cloned(),
                    ..Default::default()
                },
            })
            .collect(),
    };
    // `CCPOR_ONLY=<text>`: only the kinds containing it (to profile one kind).
    let cases: Vec<Case> = match std::env::var("CCPOR_ONLY") {
        Ok(only) => cases
            .into_iter()
            .filter(|c| c.kind.contains(&only))
            .collect(),
        Err(_) => cases,
    };

    let mut times = vec![Vec::with_capacity(passes); cases.len()];
    let mut ranks = vec![None; cases.len()];
    for _ in 0..passes.max(1) {
        for (i, c) in cases.iter().enumerate() {
            let t = Instant::now();
            let hits = index.search(&c.query, 10).unwrap();
            times[i].push(t.elapsed().as_secs_f64() * 1000.0);
            ranks[i] = hits.iter().position(|h| h.person_id == c.target);
        }
    }
    if let Ok(show) = std::env::var("CCPOR_SHOW_MISSES") {
        // `2`: also the target's own record, its rank in the first 500 and the top hits.
        let names: std::collections::HashMap<i64, String> = if show == "2" {
            lines(&dir.join("persons.tsv"))
                .map(|c| (c[0].parse().unwrap(), c[1..].join(" / ")))
                .collect()
        } else {
            Default::default()
        };
        for (i, c) in cases.iter().enumerate() {
            if ranks[i].is_none() {
                println!(
                    "miss {} {:?} {:?} {:?} [{}]",
                    c.target, c.query.last_name, c.query.first_name, c.query.dob, c.kind
                );
                if show == "2" {
                    let deep = index.search(&c.query, 500).unwrap();
                    let at = deep.iter().position(|h| h.person_id == c.target);
                    println!(
                        "  target {} rank {at:?} {:?}",
                        names.get(&c.target).map_or("?", String::as_str),
                        at.map(|r| (&deep[r].score, &deep[r].explanation))
                    );
                    for h in deep.iter().take(3) {
                        println!(
                            "  hit {} {:.3} {:?} {}",
                            h.person_id,
                            h.score,
                            h.explanation,
                            names.get(&h.person_id).map_or("?", String::as_str)
                        );
                    }
                }
            }
        }
    }
    let first: Vec<f64> = times.iter().map(|t| t[0]).collect();
    let median: Vec<f64> = times.iter().map(|t| pct(t, 0.5)).collect();

    let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        kinds.entry(&c.kind).or_default().push(i);
    }
    println!(
        "| set | queries | recall@1 | recall@10 | first pass p50 / p99 ms | median p50 / p99 ms | slowest ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let all: Vec<usize> = (0..cases.len()).collect();
    for (kind, idx) in kinds
        .iter()
        .map(|(k, v)| (*k, v))
        .chain([("**all**", &all)])
    {
        let n = idx.len() as f64;
        let at1 = idx.iter().filter(|&&i| ranks[i] == Some(0)).count() as f64 / n;
        let at10 = idx.iter().filter(|&&i| ranks[i].is_some()).count() as f64 / n;
        let f: Vec<f64> = idx.iter().map(|&i| first[i]).collect();
        let m: Vec<f64> = idx.iter().map(|&i| median[i]).collect();
        println!(
            "| {kind} | {} | {at1:.3} | {at10:.3} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} |",
            idx.len(),
            pct(&f, 0.5),
            pct(&f, 0.99),
            pct(&m, 0.5),
            pct(&m, 0.99),
            pct(&m, 1.0)
        );
    }
    let mut slow: Vec<usize> = all.clone();
    slow.sort_by(|&a, &b| median[b].total_cmp(&median[a]));
    // For a profiler: repeat the slowest queries only (`CCPOR_REPEAT_SLOWEST=30`).
    if let Some(n) = std::env::var("CCPOR_REPEAT_SLOWEST")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
    {
        for _ in 0..50 {
            for &i in slow.iter().take(n) {
                index.search(&cases[i].query, 10).unwrap();
            }
        }
    }
    println!("\nslowest (median ms): ");
    for &i in slow.iter().take(12) {
        let q = &cases[i].query;
        println!(
            "  {:.2}  {}  {:?} {:?} {:?}",
            median[i],
            cases[i].kind,
            q.last_name.as_deref().unwrap_or(""),
            q.first_name.as_deref().unwrap_or(""),
            q.dob
        );
    }
}
