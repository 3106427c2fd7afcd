//! Per-request token checks: signature and key id, authorizer (expiry, attenuation checks), and
//! the holder's scope. Revocation is checked by the caller of `authorize`, against the database.
use std::collections::BTreeSet;
use std::time::Duration;

use biscuit_auth::error::{FailedCheck, Format, Logic, RunLimit, Token};
use biscuit_auth::macros::authorizer;
use biscuit_auth::{AuthorizerLimits, Biscuit};
use chrono::{DateTime, Utc};

use crate::auth::keys::KeyRing;
use crate::auth::{Caller, Role, shape};

/// Generous enough never to fail a valid token on a loaded machine (the crate's 1 ms default
/// does; research/style_security.md B.3.6): this is wall-clock time, and a thread of a busy host
/// can wait longer than 50 ms for a core (seen with the test suite beside other builds). The work
/// a hostile block can cause is bounded before the run by `shape` (facts, rules, body size, no
/// closures) and during it by the fact and iteration limits; the time limit is only a backstop.
pub const AUTHORIZER_TIME_LIMIT: Duration = Duration::from_millis(250);
/// Facts the one authorizer run may hold: the token's, the request's and 58 counties', with room.
const MAX_RUN_FACTS: u64 = 256;
/// Rounds of rule application (the crate's default is 100; tokens carry at most four rules).
const MAX_RUN_ITERATIONS: u64 = 16;

/// What the request is about to do; attenuated tokens can restrict it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Read,
    Write,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Write => "write",
        }
    }
}

/// Why a token was refused. Each maps to its own error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("the token is not a valid token")]
    Malformed,
    /// The token is beyond what the registry checks (`shape`'s bounds): refused unrun.
    #[error("the token is too large to check: {0}")]
    TooLarge(String),
    #[error("the token is not signed by a key this registry accepts")]
    WrongKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token has been revoked")]
    Revoked,
    #[error("the token does not allow this request: {0}")]
    Denied(String),
    /// The token is narrowed to trusted documents and the request is not one.
    #[error(
        "this token runs trusted documents only: send extensions.persistedQuery.sha256Hash of an operation from `ccpor schema operations`"
    )]
    TrustedDocumentsOnly,
    /// Not a verdict on the token: the authorizer ran out of time or facts.
    #[error("the token could not be checked in time; retry")]
    AuthorizerLimit,
    /// Not a verdict on the token: the revocation list could not be read.
    #[error("the database is unavailable; nothing was read or written; retry in a few seconds")]
    DatabaseUnavailable,
}

impl AuthFailure {
    pub fn code(&self) -> &'static str {
        match self {
            AuthFailure::Malformed | AuthFailure::WrongKey => "UNAUTHENTICATED",
            AuthFailure::TooLarge(_) => "TOKEN_TOO_LARGE",
            AuthFailure::TrustedDocumentsOnly => "TRUSTED_DOCUMENTS_ONLY",
            AuthFailure::Expired => "TOKEN_EXPIRED",
            AuthFailure::Revoked => "TOKEN_REVOKED",
            AuthFailure::Denied(_) => "FORBIDDEN",
            AuthFailure::AuthorizerLimit => "AUTHORIZER_LIMIT",
            AuthFailure::DatabaseUnavailable => "DATABASE_UNAVAILABLE",
        }
    }
}

/// Parses a bearer token and checks its signature against the key ring.
pub fn parse(ring: &KeyRing, bearer: &str, now: DateTime<Utc>) -> Result<Biscuit, AuthFailure> {
    Biscuit::from_base64(bearer.trim(), |id: Option<u32>| {
        ring.public_for(id, now).ok_or(Format::UnknownPublicKey)
    })
    .map_err(|e| match e {
        Token::Format(Format::UnknownPublicKey) | Token::Format(Format::Signature(_)) => {
            AuthFailure::WrongKey
        }
        _ => AuthFailure::Malformed,
    })
}

fn run(
    token: &Biscuit,
    op: Operation,
    trusted: bool,
    counties: &[&str],
) -> Result<Claims, AuthFailure> {
    let mut builder = authorizer!(
        r#"operation({op});
           allow if user($u), role($r);
           deny if true;"#,
        op = op.as_str(),
    );
    if trusted {
        // The request is a document of the manifest: what `check if document("trusted")` of a
        // narrowed token asks for.
        builder = builder
            .fact(biscuit_auth::builder::fact(
                "document",
                &[biscuit_auth::builder::string("trusted")],
            ))
            .map_err(|_| AuthFailure::Malformed)?;
    }
    for c in counties {
        builder = builder
            .fact(biscuit_auth::builder::fact(
                "county",
                &[biscuit_auth::builder::string(c)],
            ))
            .map_err(|_| AuthFailure::Malformed)?;
    }
    let mut authz = builder
        .time()
        .set_limits(AuthorizerLimits {
            max_facts: MAX_RUN_FACTS,
            max_iterations: MAX_RUN_ITERATIONS,
            max_time: AUTHORIZER_TIME_LIMIT,
        })
        .build(token)
        .map_err(map_err)?;
    authz.authorize().map_err(map_err)?;
    // Queries see the authority block and the authorizer only: facts a holder appended in a
    // later block cannot add a role or a court.
    let who: Vec<(String, String)> = authz
        .query("data($u, $r) <- user($u), role($r)")
        .map_err(map_err)?;
    let courts: Vec<(String,)> = authz.query("data($c) <- court($c)").map_err(map_err)?;
    let agencies: Vec<(String,)> = authz.query("data($a) <- agency($a)").map_err(map_err)?;
    let [(user, role)] = <[_; 1]>::try_from(who).map_err(|_| AuthFailure::Malformed)?;
    let role = Role::parse(&role).ok_or(AuthFailure::Malformed)?;
    Ok(Claims {
        user,
        role,
        court: courts.into_iter().next().map(|c| c.0),
        agency: agencies.into_iter().next().map(|a| a.0),
    })
}

struct Claims {
    user: String,
    role: Role,
    court: Option<String>,
    agency: Option<String>,
}

fn map_err(e: Token) -> AuthFailure {
    match e {
        Token::RunLimit(RunLimit::UnexpectedQueryResult(..)) => AuthFailure::Malformed,
        Token::RunLimit(_) => AuthFailure::AuthorizerLimit,
        Token::FailedLogic(Logic::Unauthorized { checks, .. })
        | Token::FailedLogic(Logic::NoMatchingPolicy { checks }) => {
            let rules: Vec<String> = checks
                .iter()
                .map(|c| match c {
                    FailedCheck::Block(b) => b.rule.clone(),
                    FailedCheck::Authorizer(a) => a.rule.clone(),
                })
                .collect();
            if rules.iter().any(|r| r.contains("time(")) {
                AuthFailure::Expired
            } else if rules.iter().any(|r| r.contains("document(")) {
                AuthFailure::TrustedDocumentsOnly
            } else if rules.is_empty() {
                AuthFailure::Denied("no policy allows it".into())
            } else {
                AuthFailure::Denied(format!("failed check {}", rules.join("; ")))
            }
        }
        _ => AuthFailure::Malformed,
    }
}

/// Runs the authorizer once for `op`, given `shape::inspect`'s reading of the token (its bounds
/// held): refused unrun if its expiry has passed; its county scope is read off its
/// `check if county(..)` checks (`counties` are every county's name) and those counties are the
/// run's facts. Returns the holder and when the token must be checked again (its earliest time
/// check).
pub fn authorize(
    token: &Biscuit,
    shape: &shape::Shape,
    op: Operation,
    trusted: bool,
    counties: &[&str],
    token_id: String,
) -> Result<(Caller, Option<DateTime<Utc>>), AuthFailure> {
    if shape.expires_at.is_some_and(|t| t < Utc::now()) {
        return Err(AuthFailure::Expired);
    }
    let (facts, scope): (Vec<&str>, _) = match &shape.counties {
        None => (Vec::new(), None),
        Some(named) => {
            let allowed: Vec<&str> = counties
                .iter()
                .copied()
                .filter(|c| named.contains(*c))
                .collect();
            if allowed.is_empty() {
                return Err(AuthFailure::Denied("no county allowed".into()));
            }
            let scope = (allowed.len() < counties.len()).then(|| {
                allowed
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect::<BTreeSet<_>>()
            });
            (allowed, scope)
        }
    };
    let claims = run(token, op, trusted, &facts)?;
    Ok((
        Caller {
            user: claims.user,
            role: claims.role,
            court: claims.court,
            agency: claims.agency,
            counties: scope,
            token_id,
            revocation_ids: std::sync::Arc::default(),
        },
        shape.recheck_by,
    ))
}
