//! Access control: biscuit tokens per role and court or agency, checked on every request.
//!
//! `keys` manages root keys, `token` mints and attenuates, `shape` bounds what a token may hold,
//! `verify` runs the authorizer, `revocation` keeps the revocation list and `limits` charges each token for the cost of its queries.

pub mod keys;
pub mod limits;
pub mod revocation;
pub mod roles;
pub mod rules;
pub mod shape;
pub mod token;
pub mod verify;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Utc;
use sea_orm::DatabaseConnection;

pub use roles::{Permission, Role};
pub use verify::{AuthFailure, Operation};

/// The 58 county names attenuated tokens are checked against, built once rather than per request.
static COUNTY_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| migrations::COUNTIES.iter().map(|c| c.name).collect());

/// Failures of key and token handling outside a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("key file: {0}")]
    KeyFile(String),
    #[error("token: {0}")]
    Token(String),
    #[error("{0}")]
    Claims(String),
}

/// The authenticated holder of a request's token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    pub role: Role,
    /// Court code of court roles.
    pub court: Option<String>,
    /// Agency ORI of LEA roles.
    pub agency: Option<String>,
    /// Counties an attenuated token is narrowed to; `None` is statewide.
    pub counties: Option<BTreeSet<String>>,
    /// The authority block's revocation id: a stable key for rate limiting and audit.
    pub token_id: String,
    /// Every block's revocation id: signed links carry them, so a link dies with its token.
    pub revocation_ids: Arc<[String]>,
}

impl Caller {
    pub fn can(&self, p: Permission) -> bool {
        self.role.allows(p)
    }

    /// Whether the token's county scope covers `county`.
    pub fn sees_county(&self, county: &str) -> bool {
        self.counties.as_ref().is_none_or(|c| c.contains(county))
    }
}

/// Settings of access control.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Production mode: introspection and field suggestions off, no playground.
    pub production: bool,
    /// Query cost each token may spend per minute (complexity units).
    pub cost_per_minute: u32,
    /// A WebSocket that has not sent `connection_init` by then is closed (4408).
    pub ws_init_timeout: std::time::Duration,
    /// Subscriptions one WebSocket may run at once.
    pub ws_max_subscriptions: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            production: false,
            cost_per_minute: 200_000,
            ws_init_timeout: std::time::Duration::from_secs(10),
            ws_max_subscriptions: 16,
        }
    }
}

/// How long a token that passed the signature and authorizer checks is taken as checked. The
/// checks cost more than the rest of a small request (BENCHMARKS.md, throughput); revocation is
/// checked on every request against a copy at most `revocation::REFRESH` old, and a cached check
/// is not used past the token's own earliest time check (issue 22, item 16).
pub const VERIFIED_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// A token's checked reading: the caller, the revocation ids to look up, and when the check
/// stops holding (the token's earliest time check).
struct Verified {
    caller: Caller,
    ids: Vec<String>,
    recheck_by: Option<chrono::DateTime<Utc>>,
}

/// Token checks run off the async workers, at most this many at once (a crafted token's work,
/// bounded by `shape`, then waits for a permit instead of taking every core).
static CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2),
    )
});

/// Runs `f` on the blocking pool under a `CHECKS` permit.
async fn off_workers<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AuthFailure> + Send + 'static,
) -> Result<T, AuthFailure> {
    let _permit = CHECKS
        .acquire()
        .await
        .map_err(|_| AuthFailure::AuthorizerLimit)?;
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or(Err(AuthFailure::Malformed))
}

/// What the server needs to check tokens: cheap to clone.
#[derive(Clone)]
pub struct Auth {
    pub ring: Arc<keys::KeyRing>,
    pub config: Arc<AuthConfig>,
    pub limiter: Arc<limits::CostLimiter>,
    /// KiB of automatic persisted queries registered, per token and hour.
    pub apq_limiter: Arc<limits::CostLimiter>,
    /// Tokens checked in the last `VERIFIED_FOR`, by token, operation and trusted document.
    verified: moka::future::Cache<(String, Operation, bool), Arc<Verified>>,
    /// This instance's copy of the revocation list.
    revocations: revocation::RevocationList,
}

impl Auth {
    pub fn new(ring: keys::KeyRing, config: AuthConfig) -> Auth {
        let limiter = limits::CostLimiter::new(config.cost_per_minute);
        Auth {
            ring: Arc::new(ring),
            config: Arc::new(config),
            limiter: Arc::new(limiter),
            apq_limiter: Arc::new(limits::CostLimiter::per_hour(limits::APQ_KIB_PER_HOUR)),
            verified: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(VERIFIED_FOR)
                .build(),
            revocations: revocation::RevocationList::default(),
        }
    }

    /// Keeps this instance's copy of the revocation list current from `db` (a pool of its own).
    pub fn keep_revocations_current(&self, db: DatabaseConnection) {
        self.revocations.keep_current(db);
    }

    /// Checks a bearer token for `op`: size, signature and key, `shape`'s bounds and expiry,
    /// revocation (the list's copy), then one authorizer run with any attenuation checks.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        bearer: &str,
        op: Operation,
    ) -> Result<Caller, AuthFailure> {
        self.authenticate_document(db, bearer, op, false).await
    }

    /// Whether any of `ids` is revoked (this instance's copy of the list when fresh); an error
    /// must be taken as a refusal.
    pub async fn any_revoked(
        &self,
        db: &DatabaseConnection,
        ids: &[String],
    ) -> Result<bool, sea_orm::DbErr> {
        self.revocations.any_revoked(db, ids).await
    }

    /// `authenticate` for a request that is (`trusted`) or is not a document of the trusted
    /// manifest; tokens narrowed to trusted documents pass only the former.
    pub async fn authenticate_document(
        &self,
        db: &DatabaseConnection,
        bearer: &str,
        op: Operation,
        trusted: bool,
    ) -> Result<Caller, AuthFailure> {
        shape::check_size(bearer)?;
        let key = (bearer.trim().to_owned(), op, trusted);
        let checked = self
            .verified
            .get(&key)
            .await
            .filter(|v| v.recheck_by.is_none_or(|t| Utc::now() < t));
        let (token, ids) = match &checked {
            Some(v) => (None, v.ids.clone()),
            None => {
                // Signature, bounds and expiry before anything else: a crafted or expired token
                // is refused without running its Datalog.
                let ring = self.ring.clone();
                let bearer = bearer.to_owned();
                let token = off_workers(move || {
                    let token = verify::parse(&ring, &bearer, Utc::now())?;
                    let shape = shape::inspect(&token)?;
                    if shape.expires_at.is_some_and(|t| t < Utc::now()) {
                        return Err(AuthFailure::Expired);
                    }
                    Ok((token, shape))
                })
                .await?;
                let ids = token::verified_revocation_ids(&token.0);
                (Some(token), ids)
            }
        };
        match self.revocations.any_revoked(db, &ids).await {
            Ok(false) => {}
            Ok(true) => return Err(AuthFailure::Revoked),
            // Fail closed: an unreadable revocation list admits nobody; an unreachable
            // database is said as such, as every other request says it.
            Err(e) if crate::db::fault_of(&e) == Some(crate::db::Fault::Unavailable) => {
                return Err(AuthFailure::DatabaseUnavailable);
            }
            Err(e) => {
                tracing::error!(error = %e, "reading the revocation list");
                return Err(AuthFailure::AuthorizerLimit);
            }
        }
        match (checked, token) {
            (Some(v), _) => Ok(v.caller.clone()),
            (None, Some((token, shape))) => {
                let token_id = ids.first().cloned().unwrap_or_default();
                let (mut caller, recheck_by) = off_workers(move || {
                    verify::authorize(&token, &shape, op, trusted, &COUNTY_NAMES, token_id)
                })
                .await?;
                caller.revocation_ids = ids.clone().into();
                self.verified
                    .insert(
                        key,
                        Arc::new(Verified {
                            caller: caller.clone(),
                            ids,
                            recheck_by,
                        }),
                    )
                    .await;
                Ok(caller)
            }
            (None, None) => Err(AuthFailure::Malformed),
        }
    }
}
