//! Person search, measured: accuracy on a labelled development set (noisy variants of a
//! synthetic California population, and FEBRL 4a/4b), and latency side by side with PostgreSQL
//! pg_trgm on the same data and queries. Prints markdown tables; results go in BENCHMARKS.md.
//!
//!   CCPOR_BENCH_PERSONS=1000000 CCPOR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   CCPOR_FEBRL_DIR=$(bash scripts/fetch-febrl.sh) cargo bench --bench search
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark fails loudly on a broken setup"
)]

use std::io::Write;
use std::time::Instant;

use ccpor::demo::names::Names;
use ccpor::domain::codes::Sex;
use ccpor_index::{PersonDoc, PersonIndex, Role, SearchQuery};
use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sea_orm::{ConnectionTrait, Statement};

#[path = "support/search_noise.rs"]
mod noise;

struct Person {
    id: i64,
    last: String,
    first: String,
    middle: Option<String>,
    dob: NaiveDate,
}

struct Case {
    kind: String,
    target: i64,
    query: SearchQuery,
    /// The same query as one string for pg_trgm.
    text: String,
    /// For an information-poor name-only query: which persons it fits equally well.
    clue: Option<noise::Clue>,
    /// The DOB as a client would type it (`dobText` over HTTP), when the query has one.
    dob_typed: Option<String>,
}

fn population(n: usize, rng: &mut ChaCha8Rng) -> Vec<Person> {
    let names = Names::load();
    (0..n)
        .map(|i| {
            let sex = if rng.random_bool(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let d = names.draw(rng, sex);
            let dob = NaiveDate::from_ymd_opt(
                rng.random_range(1940..2008),
                rng.random_range(1..=12),
                rng.random_range(1..=28),
            )
            .unwrap();
            Person {
                id: i as i64 + 1,
                last: d.last,
                first: d.first,
                middle: d.middle,
                dob,
            }
        })
        .collect()
}

fn typo(s: &str, rng: &mut ChaCha8Rng, edits: usize) -> String {
    let mut c: Vec<char> = s.chars().collect();
    for _ in 0..edits {
        if c.len() < 3 {
            break;
        }
        let i = rng.random_range(1..c.len());
        match rng.random_range(0..3) {
            0 => c[i] = (b'a' + rng.random_range(0..26u8)) as char,
            1 => {
                c.remove(i);
            }
            _ => c.insert(i, (b'a' + rng.random_range(0..26u8)) as char),
        }
    }
    c.into_iter().collect()
}

fn phonetic(s: &str) -> String {
    let l = s.to_lowercase();
    for (a, b) in [
        ("ph", "f"),
        ("ck", "k"),
        ("th", "t"),
        ("y", "i"),
        ("ie", "y"),
        ("z", "s"),
        ("c", "k"),
        ("ou", "u"),
        ("ee", "ea"),
        ("v", "b"),
    ] {
        if l.contains(a) {
            return l.replacen(a, b, 1);
        }
    }
    format!("{l}e")
}

fn dob_error(d: NaiveDate, rng: &mut ChaCha8Rng) -> (NaiveDate, &'static str) {
    match rng.random_range(0..3) {
        0 if d.day() <= 12 && d.day() != d.month() => (
            NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()).unwrap_or(d),
            "dob day/month swapped",
        ),
        1 => (d.with_year(d.year() + 1).unwrap_or(d), "dob year +1"),
        _ => (
            d.with_day(if d.day() < 20 {
                d.day() + 1
            } else {
                d.day() - 1
            })
            .unwrap_or(d),
            "dob one digit",
        ),
    }
}

fn cases(people: &[Person], n: usize, rng: &mut ChaCha8Rng) -> Vec<Case> {
    let kinds = [
        "exact",
        "typo 1 edit",
        "typo 2 edits",
        "phonetic",
        "nickname",
        "swapped",
        "compound half",
        "dob error",
        "no dob",
        "accents dropped",
    ];
    let mut out = Vec::new();
    while out.len() < n {
        let p = &people[rng.random_range(0..people.len())];
        let kind = kinds[out.len() % kinds.len()];
        let (mut first, mut last, mut dob) = (p.first.clone(), p.last.clone(), Some(p.dob));
        let mut kind_name = kind;
        match kind {
            "typo 1 edit" => last = typo(&last, rng, 1),
            "typo 2 edits" => last = typo(&last, rng, 2),
            "phonetic" => last = phonetic(&last),
            "nickname" => match nicknamer::nicknames(&first.to_lowercase()).first() {
                Some(nick) => first = nick.clone(),
                None => continue,
            },
            "swapped" => std::mem::swap(&mut first, &mut last),
            "compound half" => match last.split_once(' ') {
                Some((a, b)) => {
                    last = if rng.random_bool(0.5) {
                        a.to_owned()
                    } else {
                        b.to_owned()
                    }
                }
                None => continue,
            },
            "dob error" => {
                let (d, k) = dob_error(p.dob, rng);
                dob = Some(d);
                kind_name = k;
            }
            "no dob" => dob = None,
            "accents dropped" => {
                let folded = deunicode::deunicode(&last);
                if folded == last {
                    continue;
                }
                last = folded;
            }
            _ => {}
        }
        let text = format!("{last} {first}");
        out.push(Case {
            kind: kind_name.to_owned(),
            target: p.id,
            query: SearchQuery {
                first_name: Some(first),
                last_name: Some(last),
                dob,
                ..Default::default()
            },
            text,
            clue: None,
            dob_typed: dob.map(|d| d.to_string()),
        });
    }
    out
}

#[derive(Default, Clone)]
struct Score {
    n: usize,
    at1: usize,
    at10: usize,
    rr: f64,
}

impl Score {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        if let Some(r) = rank {
            if r == 0 {
                self.at1 += 1;
            }
            if r < 10 {
                self.at10 += 1;
            }
            self.rr += 1.0 / (r as f64 + 1.0);
        }
    }
    fn row(&self) -> String {
        let n = self.n.max(1) as f64;
        format!(
            "{} | {:.3} | {:.3} | {:.3}",
            self.n,
            self.at1 as f64 / n,
            self.at10 as f64 / n,
            self.rr / n
        )
    }
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn dir_size(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn doc(p: &Person) -> PersonDoc {
    PersonDoc {
        person_id: p.id,
        last_name: p.last.clone(),
        first_name: Some(p.first.clone()),
        middle_name: p.middle.clone(),
        aliases: Vec::new(),
        dob: Some(p.dob),
        estimated_age: None,
        age_as_of: None,
        case_numbers: Vec::new(),
        courts: Vec::new(),
        counties: Vec::new(),
        roles: vec![Role::Restrained],
        active: true,
    }
}

/// Writes the population and development set as TSV for `ccpor-index`'s `latency` example,
/// which re-runs the latency part alone in a few seconds of build instead of minutes.
fn dump(dir: &std::path::Path, people: &[Person], dev: &[Case]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("persons.tsv")).unwrap());
    for p in people {
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}",
            p.id,
            p.last,
            p.first,
            p.dob,
            p.middle.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("cases.tsv")).unwrap());
    for c in dev {
        let q = &c.query;
        let part = |x: Option<String>| x.unwrap_or_default();
        let partial = q.dob_partial.as_ref().map_or(String::new(), |p| {
            format!(
                "{}-{}-{}",
                part(p.year.map(|y| y.to_string())),
                part(p.month.map(|m| m.to_string())),
                part(p.day.map(|d| d.to_string()))
            )
        });
        writeln!(
            w,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.kind,
            c.target,
            q.last_name.as_deref().unwrap_or(""),
            q.first_name.as_deref().unwrap_or(""),
            q.dob.map(|d| d.to_string()).unwrap_or_default(),
            partial,
            q.dob_note.as_deref().unwrap_or(""),
            c.dob_typed.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    println!(
        "wrote {} persons and {} cases to {}",
        people.len(),
        dev.len(),
        dir.display()
    );
}

fn febrl(dir: &str) -> Option<(Vec<Person>, Vec<Case>)> {
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).ok();
    let (a, b) = (read("dataset4a.csv")?, read("dataset4b.csv")?);
    let parse = |text: &str| -> Vec<(i64, String, String, Option<NaiveDate>)> {
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
        .map(|(id, first, last, dob)| Person {
            id,
            first,
            last,
            middle: None,
            dob: dob.unwrap_or_else(|| NaiveDate::from_ymd_opt(1900, 1, 1).unwrap()),
        })
        .collect();
    let cases = parse(&b)
        .into_iter()
        .filter(|(_, first, last, _)| !(first.is_empty() && last.is_empty()))
        .map(|(id, first, last, dob)| Case {
            kind: "febrl 4b duplicate".to_owned(),
            target: id,
            text: format!("{last} {first}"),
            clue: None,
            dob_typed: dob.map(|d| d.to_string()),
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

async fn pg_side(
    url: &str,
    people: &[Person],
    cases: &[Case],
    tmp: &std::path::Path,
) -> Option<(Vec<Option<usize>>, Vec<f64>)> {
    let (admin, _) = ccpor::db::connect(url).await.ok()?;
    admin
        .execute_unprepared("DROP DATABASE IF EXISTS ccpor_bench_search")
        .await
        .ok()?;
    admin
        .execute_unprepared("CREATE DATABASE ccpor_bench_search")
        .await
        .ok()?;
    let db_url = format!("{}/ccpor_bench_search", url.rsplit_once('/')?.0);
    let (db, _) = ccpor::db::connect(&db_url).await.ok()?;
    db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        .await
        .ok()?;
    db.execute_unprepared(
        "CREATE TABLE bench_person (id bigint primary key, full_name text not null, dob date)",
    )
    .await
    .ok()?;
    let csv = tmp.join("people.csv");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).ok()?);
        for p in people {
            let name = format!("{} {}", p.last, p.first).replace('"', "");
            writeln!(f, "{},\"{}\",{}", p.id, name, p.dob).ok()?;
        }
    }
    let t = Instant::now();
    let status = std::process::Command::new("psql")
        .arg(&db_url)
        .arg("-qc")
        .arg(format!("\\copy bench_person FROM '{}' CSV", csv.display()))
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    db.execute_unprepared(
        "CREATE INDEX bench_person_trgm ON bench_person USING gin (full_name gin_trgm_ops)",
    )
    .await
    .ok()?;
    db.execute_unprepared("ANALYZE bench_person").await.ok()?;
    println!(
        "pg_trgm: loaded and indexed {} rows in {:.1}s",
        people.len(),
        t.elapsed().as_secs_f64()
    );
    let mut ranks = Vec::with_capacity(cases.len());
    let mut lat = Vec::new();
    let backend = db.get_database_backend();
    for c in cases {
        let t = Instant::now();
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT id FROM bench_person WHERE full_name % $1 \
                 ORDER BY similarity(full_name, $1) + CASE WHEN dob = $2 THEN 0.3 ELSE 0 END DESC LIMIT 10",
                [c.text.clone().into(), c.query.dob.into()],
            ))
            .await
            .ok()?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        let ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.try_get::<i64>("", "id").ok())
            .collect();
        ranks.push(ids.iter().position(|&i| i == c.target));
    }
    db.close().await.ok();
    admin
        .execute_unprepared("DROP DATABASE IF EXISTS ccpor_bench_search")
        .await
        .ok();
    Some((ranks, lat))
}

/// Time from a committed write to the person being searchable, through the outbox indexer.
async fn freshness(tmp: &std::path::Path) -> Vec<f64> {
    use sea_orm::TransactionTrait;
    let url = format!("sqlite://{}?mode=rwc", tmp.join("fresh.db").display());
    let (db, _) = ccpor::db::connect(&url).await.unwrap();
    ccpor::db::migrate(&db).await.unwrap();
    let search = ccpor::search::Search::open(&tmp.join("fresh-search")).unwrap();
    search
        .clone()
        .spawn_indexer(db.clone(), ccpor::space::Space::default());
    let refs = ccpor::service::refs::Refs::load(&db).await.unwrap();
    let mut out = Vec::new();
    for i in 0..100 {
        let last = format!(
            "Freshcheck{}{}",
            (b'a' + (i % 26) as u8) as char,
            "x".repeat(i / 26)
        );
        let issued = chrono::Utc::now() - chrono::Duration::days(1);
        let line = serde_json::json!({
            "courtCode": "SC19", "caseNumber": format!("26FL9{i:05}"), "family": "DV", "formNumber": "DV-110",
            "issuedAt": issued.to_rfc3339(), "expiresAt": (issued + chrono::Duration::days(20)).to_rfc3339(),
            "parties": [
                { "role": "RESTRAINED", "person": { "lastName": last, "firstName": "Probe" } },
                { "role": "PROTECTED", "person": { "lastName": "Other", "firstName": "Party" } }
            ]
        })
        .to_string();
        let order = ccpor::import::parse_line(&line, &refs).unwrap();
        let t = Instant::now();
        let txn = db.begin().await.unwrap();
        ccpor::service::orders::insert_batch(&txn, &[order])
            .await
            .unwrap();
        txn.commit().await.unwrap();
        search.wake();
        let q = SearchQuery {
            last_name: Some(last.clone()),
            first_name: Some("Probe".into()),
            ..Default::default()
        };
        loop {
            let hits = search.index().unwrap().search(&q, 1).unwrap();
            // Earlier probes match by a letter's edit; only an exact surname is this one.
            if hits
                .first()
                .is_some_and(|h| h.explanation.iter().any(|e| e == "surname exact"))
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

/// Name-only queries against the best any ranking could do: `k` persons fit the query equally
/// well (see [`noise::Clue`]), so at most `min(1, 10 / k)` of such queries can find their
/// person in the top 10.
fn ties(people: &[Person], dev: &[Case], ranks: &[Option<usize>]) {
    let lower: Vec<(String, String)> = people
        .iter()
        .map(|p| (p.first.to_lowercase(), p.last.to_lowercase()))
        .collect();
    // per class: queries, found, bound sum, tied counts
    let mut by: std::collections::BTreeMap<&str, (usize, usize, f64, Vec<usize>)> =
        Default::default();
    let (mut rest_n, mut rest_found) = (0usize, 0usize);
    let (mut all_n, mut all_bound) = (0usize, 0.0f64);
    for (c, r) in dev.iter().zip(ranks) {
        if !c.kind.ends_with(", name-only") {
            continue;
        }
        all_n += 1;
        let Some(clue) = &c.clue else {
            rest_n += 1;
            rest_found += usize::from(r.is_some_and(|r| r < 10));
            all_bound += 1.0;
            continue;
        };
        let k = lower.iter().filter(|(f, l)| clue.fits(f, l)).count().max(1);
        let bound = (10.0 / k as f64).min(1.0);
        all_bound += bound;
        let e = by.entry(c.kind.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(r.is_some_and(|r| r < 10));
        e.2 += bound;
        e.3.push(k);
    }
    println!(
        "\n| name-only class (tantivy) | queries | recall@10 | best possible recall@10 | persons tied with the target: median / max |\n|---|---:|---:|---:|---:|"
    );
    for (kind, (n, found, bound, mut ks)) in by {
        ks.sort_unstable();
        let nf = n.max(1) as f64;
        println!(
            "| {kind} | {n} | {:.3} | {:.3} | {} / {} |",
            found as f64 / nf,
            bound / nf,
            ks[ks.len() / 2],
            ks[ks.len() - 1]
        );
    }
    if rest_n > 0 {
        println!(
            "| name-only, every other class | {rest_n} | {:.3} | 1.000 | — |",
            rest_found as f64 / rest_n.max(1) as f64
        );
    }
    println!(
        "| **name-only, all** | {all_n} | — | {:.3} | — |",
        all_bound / all_n.max(1) as f64
    );
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CCPOR_BENCH_PERSONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let q: usize = std::env::var("CCPOR_BENCH_QUERIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let people = population(n, &mut rng);
    let mut dev = cases(&people, q, &mut rng);
    // issue 21: the noisy classes of real records, each with and without a DOB
    dev.extend(noise::cases(&people, q, &mut rng));
    if let Ok(dir) = std::env::var("CCPOR_BENCH_DUMP") {
        dump(std::path::Path::new(&dir), &people, &dev);
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let index_dir = tmp.path().join("index");

    let t = Instant::now();
    let index = PersonIndex::create_in_dir(&index_dir).unwrap();
    index.begin_bulk_load().unwrap();
    for chunk in people.chunks(50_000) {
        let docs: Vec<PersonDoc> = chunk.iter().map(doc).collect();
        index.upsert(&docs).unwrap();
    }
    index.compact().unwrap();
    let build = t.elapsed().as_secs_f64();
    println!("## {n} persons\n");
    println!("| measure | value |\n|---|---:|");
    println!(
        "| index build | {build:.1} s ({:.0} persons/s) |",
        n as f64 / build
    );
    println!(
        "| index size | {:.1} MB |",
        dir_size(&index_dir) as f64 / 1e6
    );
    println!("| peak RSS after build | {:.0} MB |", rss_mb());

    let mut by_kind: std::collections::BTreeMap<&str, Score> = Default::default();
    let mut lat_by_kind: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut all = Score::default();
    let mut lat = Vec::new();
    let mut ranks = Vec::with_capacity(dev.len());
    for c in &dev {
        let t = Instant::now();
        let hits = index.search(&c.query, 10).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        lat.push(ms);
        lat_by_kind.entry(c.kind.as_str()).or_default().push(ms);
        let rank = hits.iter().position(|h| h.person_id == c.target);
        ranks.push(rank);
        by_kind.entry(c.kind.as_str()).or_default().add(rank);
        all.add(rank);
    }
    let groups = |ranks: &[Option<usize>]| -> [Score; 3] {
        let mut g: [Score; 3] = Default::default();
        for (c, r) in dev.iter().zip(ranks) {
            if c.kind.ends_with(", with DOB") {
                g[0].add(*r);
            } else if c.kind.ends_with(", name-only") {
                g[1].add(*r);
            } else {
                g[2].add(*r);
            }
        }
        g
    };
    println!(
        "| tantivy p50 / p99 latency | {:.2} / {:.2} ms |",
        pct(lat.clone(), 0.5),
        pct(lat.clone(), 0.99)
    );
    println!(
        "\n| set (tantivy) | queries | recall@1 | recall@10 | MRR | p50 / p99 / max ms |\n|---|---:|---:|---:|---:|---:|"
    );
    for (k, s) in &by_kind {
        let l = lat_by_kind.get(k).cloned().unwrap_or_default();
        println!(
            "| {k} | {} | {:.2} / {:.2} / {:.2} |",
            s.row(),
            pct(l.clone(), 0.5),
            pct(l.clone(), 0.99),
            pct(l, 1.0)
        );
    }
    println!(
        "| **all** | {} | {:.2} / {:.2} / {:.2} |",
        all.row(),
        pct(lat.clone(), 0.5),
        pct(lat.clone(), 0.99),
        pct(lat.clone(), 1.0)
    );
    let tg = groups(&ranks);
    println!(
        "\n| group (tantivy) | queries | recall@1 | recall@10 | MRR |\n|---|---:|---:|---:|---:|"
    );
    for (label, s) in [
        "noisy set, with DOB",
        "noisy set, name-only",
        "original set",
    ]
    .iter()
    .zip(&tg)
    {
        println!("| {label} | {} |", s.row());
    }

    ties(&people, &dev, &ranks);

    if let Ok(url) = std::env::var("CCPOR_BENCH_POSTGRES_URL") {
        match pg_side(&url, &people, &dev, tmp.path()).await {
            Some((pg_ranks, pl)) => {
                let mut s = Score::default();
                for r in &pg_ranks {
                    s.add(*r);
                }
                let pg = groups(&pg_ranks);
                println!("\n| group | tantivy recall@10 | pg_trgm recall@10 |\n|---|---:|---:|");
                for (label, (t, p)) in [
                    "noisy set, with DOB",
                    "noisy set, name-only",
                    "original set",
                ]
                .iter()
                .zip(tg.iter().zip(&pg))
                {
                    let r10 = |x: &Score| x.at10 as f64 / x.n.max(1) as f64;
                    println!("| {label} | {:.3} | {:.3} |", r10(t), r10(p));
                }
                println!(
                    "\n| engine | recall@1 | recall@10 | MRR | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|"
                );
                let n = all.n.max(1) as f64;
                println!(
                    "| tantivy (ccpor-index) | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} |",
                    all.at1 as f64 / n,
                    all.at10 as f64 / n,
                    all.rr / n,
                    pct(lat.clone(), 0.5),
                    pct(lat.clone(), 0.99)
                );
                let m = s.n.max(1) as f64;
                println!(
                    "| PostgreSQL pg_trgm (GIN, similarity + DOB boost) | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} |",
                    s.at1 as f64 / m,
                    s.at10 as f64 / m,
                    s.rr / m,
                    pct(pl.clone(), 0.5),
                    pct(pl, 0.99)
                );
            }
            None => println!("\npg_trgm side failed (is PostgreSQL reachable at {url}?)"),
        }
    }

    let fresh = freshness(tmp.path()).await;
    println!(
        "\n| write → searchable (SQLite, outbox indexer) | p50 {:.0} ms | p99 {:.0} ms | max {:.0} ms |\n|---|---|---|---|",
        pct(fresh.clone(), 0.5),
        pct(fresh.clone(), 0.99),
        pct(fresh, 1.0)
    );

    if let Ok(dir) = std::env::var("CCPOR_FEBRL_DIR") {
        match febrl(&dir) {
            Some((people, cases)) => {
                let idx = PersonIndex::in_memory().unwrap();
                idx.upsert(&people.iter().map(doc).collect::<Vec<_>>())
                    .unwrap();
                let mut s = Score::default();
                for c in &cases {
                    let hits = idx.search(&c.query, 10).unwrap();
                    s.add(hits.iter().position(|h| h.person_id == c.target));
                }
                println!(
                    "\n| FEBRL 4a (5,000 originals) ← 4b duplicates | queries | recall@1 | recall@10 | MRR |\n|---|---:|---:|---:|---:|"
                );
                println!("| tantivy | {} |", s.row());
            }
            None => println!("\nFEBRL files not found in {dir}"),
        }
    }
}
