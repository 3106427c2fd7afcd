//! What a token check costs on a cache miss, and how fast a crafted token is refused (issue 22,
//! item 2; BENCHMARKS.md). `cargo run --release --example token_checks [iterations]`.
#![expect(
    clippy::unwrap_used,
    reason = "an example fails loudly on a broken setup"
)]
use std::time::{Duration, Instant};

use ccpor::auth::keys::KeyFile;
use ccpor::auth::token::{Claims, Narrowing, attenuate, mint};
use ccpor::auth::{Operation, Role, shape, verify};

fn check(ring: &ccpor::auth::keys::KeyRing, token: &str, counties: &[&str]) -> bool {
    let now = chrono::Utc::now();
    let Ok(t) = verify::parse(ring, token, now) else {
        return false;
    };
    let Ok(s) = shape::inspect(&t) else {
        return false;
    };
    verify::authorize(&t, &s, Operation::Read, false, counties, String::new()).is_ok()
}

fn time(label: &str, n: u32, mut f: impl FnMut() -> bool) {
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed()
        })
        .collect();
    samples.sort();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{label:<44} p50 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let mut keys = KeyFile::default();
    keys.rotate(chrono::Utc::now(), chrono::Utc::now());
    let ring = keys.key_ring().unwrap();
    let claims = Claims {
        role: Role::Analyst,
        user: "bench".into(),
        court: None,
        agency: None,
    };
    let minted = mint(
        &keys.signing_key().unwrap(),
        &claims,
        Duration::from_secs(600),
    )
    .unwrap()
    .token;
    let narrowed = attenuate(
        &minted,
        &Narrowing {
            county: Some("Fresno".into()),
            read_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let mut crafted: String = (0..60).map(|i| format!("f({i});")).collect();
    crafted.push_str("check if f($a), f($b), f($c), f($d), $a + $b + $c + $d == -1;");
    let crafted = biscuit_auth::UnverifiedBiscuit::from_base64(&minted)
        .unwrap()
        .append(biscuit_auth::macros::block!("").code(&crafted).unwrap())
        .unwrap()
        .to_base64()
        .unwrap();
    let counties: Vec<&str> = migrations::COUNTIES.iter().map(|c| c.name).collect();
    time("minted token, checked", n, || {
        check(&ring, &minted, &counties)
    });
    time("county-narrowed token, checked", n, || {
        check(&ring, &narrowed, &counties)
    });
    time("crafted token (60 facts, 4-way join), refused", n, || {
        !check(&ring, &crafted, &counties)
    });
}
