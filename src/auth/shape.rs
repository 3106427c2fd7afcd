//! What a token may hold before the authorizer runs it (issue 22, item 2). A holder can append
//! any block offline, so a token's Datalog is client input: its size and shape are bounded here,
//! its expiry and county scope are read off its checks, and only then does the authorizer run,
//! once. Tokens made by `ccpor token mint` and `ccpor token attenuate` stay far inside the bounds.
use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use biscuit_auth::Biscuit;
use biscuit_auth::builder::{Check, CheckKind, Op, Rule, Term};
use chrono::{DateTime, Utc};

use crate::auth::AuthFailure;

/// Longest bearer token accepted (base64 text). A minted token with three narrowing blocks is
/// about 1 KB.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Most blocks: the authority block and up to seven narrowings.
pub const MAX_BLOCKS: usize = 8;
/// Most facts across all blocks (a minted token has three or four).
pub const MAX_FACTS: usize = 16;
/// Most rules across all blocks (minted and narrowed tokens have none).
pub const MAX_RULES: usize = 4;
/// Most checks across all blocks (a minted token has one; each narrowing adds up to four).
pub const MAX_CHECKS: usize = 32;
/// Most predicates in one rule or check body: with `MAX_FACTS` facts, a body of three can join
/// at most 4,096 combinations.
pub const MAX_BODY: usize = 3;
/// Most operations in one rule or check's expressions.
pub const MAX_OPS: usize = 32;

/// What the authorizer is told before it runs: the counties it may assume and the instant the
/// token stops being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Counties the token's checks allow; `None`: no check names a county (statewide).
    pub counties: Option<BTreeSet<String>>,
    /// The earliest date any time check names: a checked token must be checked again by then.
    pub recheck_by: Option<DateTime<Utc>>,
    /// The earliest `check if time($t), $t <= date`: the token is expired after it.
    pub expires_at: Option<DateTime<Utc>>,
}

fn too_large(what: &str) -> AuthFailure {
    AuthFailure::TooLarge(what.to_owned())
}

/// Refuses a bearer token longer than `MAX_TOKEN_BYTES` before it is decoded.
pub fn check_size(bearer: &str) -> Result<(), AuthFailure> {
    if bearer.trim().len() > MAX_TOKEN_BYTES {
        return Err(too_large(&format!("longer than {MAX_TOKEN_BYTES} bytes")));
    }
    Ok(())
}

/// Reads a verified token's blocks without running them: bounds, expiry, county scope.
pub fn inspect(token: &Biscuit) -> Result<Shape, AuthFailure> {
    if token.block_count() > MAX_BLOCKS {
        return Err(too_large(&format!("more than {MAX_BLOCKS} blocks")));
    }
    // Loading the blocks evaluates nothing; the dump lists what they hold.
    let loaded = token.authorizer().map_err(|_| AuthFailure::Malformed)?;
    let (facts, rules, checks, _) = loaded.dump();
    if facts.len() > MAX_FACTS {
        return Err(too_large(&format!("more than {MAX_FACTS} facts")));
    }
    if rules.len() > MAX_RULES {
        return Err(too_large(&format!("more than {MAX_RULES} rules")));
    }
    if checks.len() > MAX_CHECKS {
        return Err(too_large(&format!("more than {MAX_CHECKS} checks")));
    }
    for r in rules.iter().chain(checks.iter().flat_map(|c| &c.queries)) {
        bounded(r)?;
    }
    if rules.iter().any(mentions_county) {
        return Err(unsupported_county());
    }
    let mut shape = Shape {
        counties: None,
        recheck_by: None,
        expires_at: None,
    };
    for c in &checks {
        if let Some(allowed) = county_literals(c) {
            let allowed = allowed.into_iter().collect::<BTreeSet<_>>();
            shape.counties = Some(match shape.counties.take() {
                None => allowed,
                Some(before) => before.intersection(&allowed).cloned().collect(),
            });
        } else if c.queries.iter().any(mentions_county) {
            return Err(unsupported_county());
        }
        for q in c.queries.iter().filter(|q| has_predicate(q, "time")) {
            for d in dates(q) {
                shape.recheck_by = earliest(shape.recheck_by, d);
            }
        }
        if let Some(d) = plain_expiry(c) {
            shape.expires_at = earliest(shape.expires_at, d);
        }
    }
    Ok(shape)
}

fn earliest(a: Option<DateTime<Utc>>, b: DateTime<Utc>) -> Option<DateTime<Utc>> {
    Some(a.map_or(b, |a| a.min(b)))
}

fn unsupported_county() -> AuthFailure {
    AuthFailure::Denied(
        "a county may be narrowed only by `check if county(\"Name\")` (ccpor token attenuate)"
            .into(),
    )
}

/// A body of at most `MAX_BODY` predicates, at most `MAX_OPS` operations, and no closures
/// (`.all`, `.any`: a loop per operation, nested without bound).
fn bounded(r: &Rule) -> Result<(), AuthFailure> {
    if r.body.len() > MAX_BODY {
        return Err(too_large(&format!(
            "a rule or check joins more than {MAX_BODY} predicates"
        )));
    }
    let ops: Vec<&Op> = r.expressions.iter().flat_map(|e| &e.ops).collect();
    if ops.len() > MAX_OPS {
        return Err(too_large(&format!(
            "a rule or check has more than {MAX_OPS} operations"
        )));
    }
    if ops.iter().any(|op| matches!(op, Op::Closure(..))) {
        return Err(too_large("a rule or check has a closure"));
    }
    Ok(())
}

fn has_predicate(r: &Rule, name: &str) -> bool {
    r.body.iter().any(|p| p.name == name)
}

fn mentions_county(r: &Rule) -> bool {
    r.head.name == "county" || has_predicate(r, "county")
}

/// `check if county("A") or county("B")`: the counties it allows. Any other check on counties
/// is refused, so that the one authorizer run cannot be widened by the county facts it is given.
fn county_literals(c: &Check) -> Option<Vec<String>> {
    if c.kind != CheckKind::One || c.queries.is_empty() {
        return None;
    }
    c.queries
        .iter()
        .map(|q| match (q.body.as_slice(), q.expressions.is_empty()) {
            ([p], true) if p.name == "county" => match p.terms.as_slice() {
                [Term::Str(s)] => Some(s.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// `check if time($t), $t <= date` (or `<`): the date. Other time checks are left to the
/// authorizer.
fn plain_expiry(c: &Check) -> Option<DateTime<Utc>> {
    use biscuit_auth::builder::Binary;
    let [q] = c.queries.as_slice() else {
        return None;
    };
    if c.kind != CheckKind::One {
        return None;
    }
    let [p] = q.body.as_slice() else {
        return None;
    };
    let [Term::Variable(v)] = p.terms.as_slice() else {
        return None;
    };
    if p.name != "time" {
        return None;
    }
    let [e] = q.expressions.as_slice() else {
        return None;
    };
    match e.ops.as_slice() {
        [
            Op::Value(Term::Variable(w)),
            Op::Value(Term::Date(d)),
            Op::Binary(Binary::LessOrEqual | Binary::LessThan),
        ] if w == v => date(*d),
        _ => None,
    }
}

fn dates(r: &Rule) -> Vec<DateTime<Utc>> {
    r.expressions
        .iter()
        .flat_map(|e| &e.ops)
        .filter_map(|op| match op {
            Op::Value(Term::Date(d)) => date(*d),
            _ => None,
        })
        .collect()
}

fn date(secs: u64) -> Option<DateTime<Utc>> {
    Some(DateTime::<Utc>::from(
        UNIX_EPOCH + Duration::from_secs(secs),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::KeyFile;
    use crate::auth::token::{Claims, Narrowing, attenuate, mint};
    use crate::auth::{Role, verify};

    fn minted(n: &Narrowing) -> Biscuit {
        let mut f = KeyFile::default();
        f.rotate(Utc::now(), Utc::now());
        let key = f.signing_key().unwrap();
        let claims = Claims {
            role: Role::Analyst,
            user: "a".into(),
            court: None,
            agency: None,
        };
        let t = mint(&key, &claims, Duration::from_secs(600)).unwrap().token;
        let t = attenuate(&t, n).unwrap();
        verify::parse(&f.key_ring().unwrap(), &t, Utc::now()).unwrap()
    }

    fn with_block(t: &Biscuit, code: &str) -> Biscuit {
        t.append(biscuit_auth::macros::block!("").code(code).unwrap())
            .unwrap()
    }

    #[test]
    fn county_checks_of_any_other_form_are_refused() {
        let t = minted(&Narrowing::default());
        for code in [
            r#"check if county($c), $c == "Fresno";"#,
            r#"reject if county("Fresno");"#,
            r#"check all county("Fresno");"#,
            r#"county("Fresno") <- user($u); check if county("Fresno");"#,
        ] {
            assert!(
                matches!(inspect(&with_block(&t, code)), Err(AuthFailure::Denied(_))),
                "{code}"
            );
        }
    }

    #[test]
    fn county_narrowings_intersect_and_an_empty_scope_is_denied() {
        let fresno = minted(&Narrowing {
            county: Some("Fresno".into()),
            ..Default::default()
        });
        let either = with_block(&fresno, r#"check if county("Fresno") or county("Kern");"#);
        assert_eq!(
            inspect(&either).unwrap().counties,
            Some(BTreeSet::from(["Fresno".to_owned()]))
        );
        let none = with_block(&fresno, r#"check if county("Kern");"#);
        let shape = inspect(&none).unwrap();
        assert_eq!(shape.counties, Some(BTreeSet::new()));
        let counties = ["Fresno", "Kern"];
        assert!(matches!(
            verify::authorize(
                &none,
                &shape,
                verify::Operation::Read,
                false,
                &counties,
                String::new()
            ),
            Err(AuthFailure::Denied(_))
        ));
        let shape = inspect(&either).unwrap();
        let (caller, _) = verify::authorize(
            &either,
            &shape,
            verify::Operation::Read,
            false,
            &counties,
            String::new(),
        )
        .unwrap();
        assert_eq!(caller.counties, Some(BTreeSet::from(["Fresno".to_owned()])));
    }

    #[test]
    fn reads_county_scope_and_expiry_of_narrowed_tokens() {
        let soon = std::time::SystemTime::now() + Duration::from_secs(60);
        let t = minted(&Narrowing {
            county: Some("Fresno".into()),
            expires: Some(soon),
            ..Default::default()
        });
        let s = inspect(&t).unwrap();
        assert_eq!(s.counties, Some(BTreeSet::from(["Fresno".to_owned()])));
        let exp = s.expires_at.unwrap();
        assert!(
            exp <= DateTime::<Utc>::from(soon) && exp > Utc::now(),
            "{exp}"
        );
        assert_eq!(s.recheck_by, s.expires_at);
        let plain = inspect(&minted(&Narrowing::default())).unwrap();
        assert_eq!(plain.counties, None);
        assert!(
            plain.expires_at.unwrap() > exp,
            "the minted expiry is later"
        );
    }
}
