//! Minting and attenuating biscuit tokens. Every value goes in as a macro parameter, never by
//! formatting Datalog text (research/style_security.md B.3.2).
use std::time::{Duration, SystemTime};

use biscuit_auth::macros::{biscuit, block};
use biscuit_auth::{Biscuit, UnverifiedBiscuit};
use chrono::{DateTime, Utc};

use crate::auth::keys::SigningKey;
use crate::auth::{AuthError, Role};

/// What a new token says about its holder.
#[derive(Debug, Clone)]
pub struct Claims {
    pub role: Role,
    pub user: String,
    /// Court code (`SC19`) for court roles.
    pub court: Option<String>,
    /// Agency ORI for LEA roles.
    pub agency: Option<String>,
}

/// A minted token with what an operator needs to revoke it later.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    /// Hex revocation id of the authority block: revoking it revokes every token derived from it.
    pub revocation_id: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs a token for `claims`, valid for `ttl`.
pub fn mint(key: &SigningKey, claims: &Claims, ttl: Duration) -> Result<Minted, AuthError> {
    if claims.role.needs_court() && claims.court.is_none() {
        return Err(AuthError::Claims(format!(
            "role {} needs --court",
            claims.role
        )));
    }
    if claims.role.needs_agency() && claims.agency.is_none() {
        return Err(AuthError::Claims(format!(
            "role {} needs --agency",
            claims.role
        )));
    }
    if claims.user.trim().is_empty() {
        return Err(AuthError::Claims("user must not be empty".into()));
    }
    let expires = SystemTime::now() + ttl;
    let mut builder = biscuit!(
        r#"user({user});
           role({role});
           check if time($t), $t <= {expires};"#,
        user = claims.user.as_str(),
        role = claims.role.as_str(),
        expires = expires,
    );
    if let Some(court) = &claims.court {
        builder = builder
            .fact(biscuit_auth::builder::fact(
                "court",
                &[biscuit_auth::builder::string(court)],
            ))
            .map_err(token_err)?;
    }
    if let Some(ori) = &claims.agency {
        builder = builder
            .fact(biscuit_auth::builder::fact(
                "agency",
                &[biscuit_auth::builder::string(ori)],
            ))
            .map_err(token_err)?;
    }
    let token = builder
        .root_key_id(key.id)
        .build(&key.pair)
        .map_err(token_err)?;
    let revocation_id = token
        .revocation_identifiers()
        .first()
        .map(hex::encode)
        .unwrap_or_default();
    Ok(Minted {
        token: token.to_base64().map_err(token_err)?,
        revocation_id,
        expires_at: DateTime::<Utc>::from(expires),
    })
}

/// How a holder narrows a token. Each present part adds a check the server must satisfy.
#[derive(Debug, Clone, Default)]
pub struct Narrowing {
    /// Queries only: mutations are refused.
    pub read_only: bool,
    /// Data of this county only (`Los Angeles`).
    pub county: Option<String>,
    /// An earlier expiry.
    pub expires: Option<SystemTime>,
    /// Only documents of the trusted manifest (`ccpor schema operations`), sent by hash.
    pub trusted_documents: bool,
}

/// Appends a narrowing block offline: no key is needed, and a block can only add checks, so the
/// result can never do more than the original (biscuit's scoping rules).
pub fn attenuate(token: &str, n: &Narrowing) -> Result<String, AuthError> {
    let t = UnverifiedBiscuit::from_base64(token.trim()).map_err(token_err)?;
    let mut b = block!("");
    if n.read_only {
        b = b
            .code(r#"check if operation("read");"#)
            .map_err(token_err)?;
    }
    if let Some(county) = &n.county {
        b = biscuit_auth::macros::block_merge!(b, r#"check if county({c});"#, c = county.as_str());
    }
    if n.trusted_documents {
        b = b
            .code(r#"check if document("trusted");"#)
            .map_err(token_err)?;
    }
    if let Some(exp) = n.expires {
        b = biscuit_auth::macros::block_merge!(b, r#"check if time($t), $t <= {exp};"#, exp = exp);
    }
    t.append(b).and_then(|t| t.to_base64()).map_err(token_err)
}

/// Hex revocation ids of every block of a token, verified or not (for `ccpor token revoke`).
pub fn revocation_ids(token: &str) -> Result<Vec<String>, AuthError> {
    let t = UnverifiedBiscuit::from_base64(token.trim()).map_err(token_err)?;
    Ok(t.revocation_identifiers().iter().map(hex::encode).collect())
}

/// Hex revocation ids of a verified token.
pub fn verified_revocation_ids(token: &Biscuit) -> Vec<String> {
    token
        .revocation_identifiers()
        .iter()
        .map(hex::encode)
        .collect()
}

fn token_err(e: biscuit_auth::error::Token) -> AuthError {
    AuthError::Token(e.to_string())
}
