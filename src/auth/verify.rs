//! Per-request token checks: signature and key id, authorizer (expiry, attenuation checks), and
//! the holder's scope. Revocation is checked by the caller of `authorize`, against the database.
use std::collections::BTreeSet;
use std::time::Duration;

use biscuit_auth::error::{FailedCheck, Format, Logic, RunLimit, Token};
use biscuit_auth::macros::authorizer;
use biscuit_auth::{AuthorizerLimits, Biscuit};
use chrono::{DateTime, Utc};

use crate::auth::keys::KeyRing;
use crate::auth::{Caller, Role};

/// Generous enough never to fail a valid token on a loaded machine (the crate's 1 ms default
/// does; research/style_security.md B.3.6): this is wall-clock time, and a thread of a busy host
/// can wait longer than 50 ms for a core (seen with the test suite beside other builds). The work
/// a hostile block can cause is bounded by the fact and iteration limits, kept at the crate's
/// defaults; the time limit is only their backstop.
pub const AUTHORIZER_TIME_LIMIT: Duration = Duration::from_secs(1);

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
}

impl AuthFailure {
    pub fn code(&self) -> &'static str {
        match self {
            AuthFailure::Malformed | AuthFailure::WrongKey => "UNAUTHENTICATED",
            AuthFailure::TrustedDocumentsOnly => "TRUSTED_DOCUMENTS_ONLY",
            AuthFailure::Expired => "TOKEN_EXPIRED",
            AuthFailure::Revoked => "TOKEN_REVOKED",
            AuthFailure::Denied(_) => "FORBIDDEN",
            AuthFailure::AuthorizerLimit => "AUTHORIZER_LIMIT",
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
    county: Option<&str>,
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
    if let Some(c) = county {
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
            max_time: AUTHORIZER_TIME_LIMIT,
            ..Default::default()
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

/// Runs the authorizer for `op` and works out the holder's county scope.
///
/// A token straight from `ccpor token mint` has one block and is statewide. An attenuated token
/// may restrict counties with checks on `county($c)`; the server asks the authorizer about each
/// county in turn (58 short runs, only for such tokens) and serves the counties it allows.
pub fn authorize(
    token: &Biscuit,
    op: Operation,
    trusted: bool,
    counties: &[&str],
    token_id: String,
) -> Result<Caller, AuthFailure> {
    let (claims, scope) = if token.block_count() <= 1 {
        (run(token, op, trusted, None)?, None)
    } else {
        let mut allowed = BTreeSet::new();
        let mut claims = None;
        let mut first_failure = None;
        for c in counties {
            match run(token, op, trusted, Some(c)) {
                Ok(cl) => {
                    allowed.insert((*c).to_owned());
                    claims = Some(cl);
                }
                Err(AuthFailure::AuthorizerLimit) => return Err(AuthFailure::AuthorizerLimit),
                Err(e) => {
                    first_failure.get_or_insert(e);
                }
            }
        }
        match claims {
            Some(cl) if allowed.len() == counties.len() => (cl, None),
            Some(cl) => (cl, Some(allowed)),
            None => {
                return Err(first_failure
                    .unwrap_or_else(|| AuthFailure::Denied("no county allowed".into())));
            }
        }
    };
    Ok(Caller {
        user: claims.user,
        role: claims.role,
        court: claims.court,
        agency: claims.agency,
        counties: scope,
        token_id,
        revocation_ids: std::sync::Arc::default(),
    })
}
