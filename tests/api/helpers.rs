//! `spawn_app`: the real server, assembled by the same `App::build` as `ccpor serve`, on a fresh database (SQLite file, or a new PostgreSQL database
//! when `CCPOR_TEST_POSTGRES_URL` is set), listening on a free loopback port.
use std::net::SocketAddr;

use std::sync::Arc;

use ccpor::app::{App, Settings};
use ccpor::auth::keys::KeyFile;
use ccpor::auth::{AuthConfig, Role};
use ccpor::cache::{Cache, CacheConfig};
use ccpor::db::SqlStats;
use ccpor::images::Images;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};

pub struct TestApp {
    pub addr: SocketAddr,
    /// Sends the default token (a clerk of SC19) with every request.
    pub client: reqwest::Client,
    /// Signs test tokens with the server's current root key.
    pub keys: KeyFile,
    pub db: DatabaseConnection,
    pub sql_stats: SqlStats,
    /// URL of this test's database, for driving the CLI against it.
    pub database_url: String,
    /// Image store, limits and the access gate of this app.
    pub images: Arc<Images>,
    /// The image store URL (`None`: the filesystem under the data dir).
    pub image_store: Option<String>,
    /// This app's cache (Redis under a namespace of its own when `REDIS_URL` is set).
    pub cache: Cache,
    /// Where the cache lives; a peer (`spawn_peer`) shares it.
    pub cache_config: CacheConfig,
    _dir: tempfile::TempDir,
}

/// The cache a test app uses: Redis at `REDIS_URL` when set (as `scripts/test.sh` does), the
/// in-process cache otherwise; always a fresh namespace, so parallel tests never share keys.
pub fn test_cache_config() -> CacheConfig {
    CacheConfig {
        redis_url: std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()),
        namespace: format!("ccpor-test-{}", uuid::Uuid::new_v4().simple()),
        answers: true,
    }
}

/// Which object store images go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// `<data-dir>/images` on the local filesystem.
    Fs,
    /// A fresh bucket on the S3-compatible server `scripts/test.sh` starts.
    S3,
}

/// Endpoint of the S3-compatible test server. Tests that need it fail (never skip) when it is
/// not configured or not reachable.
pub fn s3_endpoint() -> String {
    std::env::var("CCPOR_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "CCPOR_TEST_S3_ENDPOINT is not set: S3 image tests need the S3-compatible server that \
             `bash scripts/test.sh` starts (or set it to a running one, e.g. http://127.0.0.1:5077)"
        )
    })
}

/// Creates a new bucket on the test S3 server and returns the store URL for it.
async fn fresh_bucket() -> String {
    let endpoint = s3_endpoint();
    let bucket = format!("ccpor-test-{}", uuid::Uuid::new_v4().simple());
    let resp = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("S3 test server at {endpoint} is not reachable: {e}"));
    assert!(
        resp.status().is_success(),
        "creating bucket {bucket} at {endpoint}: HTTP {}",
        resp.status()
    );
    format!(
        "s3://{bucket}/registry?endpoint={endpoint}&allow_http=true&region=us-east-1\
         &access_key_id=test&secret_access_key=test"
    )
}

async fn fresh_database(dir: &tempfile::TempDir) -> String {
    match std::env::var("CCPOR_TEST_POSTGRES_URL") {
        Ok(base) => {
            let name = format!("ccpor_test_{}", uuid::Uuid::new_v4().simple());
            let (admin, _) = ccpor::db::connect(&base)
                .await
                .unwrap_or_else(|e| panic!("CCPOR_TEST_POSTGRES_URL={base} is not reachable: {e}"));
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let (prefix, _) = base
                .rsplit_once('/')
                .expect("postgres URL ends with /dbname");
            format!("{prefix}/{name}")
        }
        Err(_) => format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AuthConfig::default()).await
}

/// `spawn_app` with other access-control settings (production mode, a small cost budget).
pub async fn spawn_app_with(config: AuthConfig) -> TestApp {
    spawn(config, Store::Fs, ccpor::images::DEFAULT_MAX_BYTES).await
}

/// The app with images in `store` and an upload limit of `max_bytes`.
pub async fn spawn_app_with_images(store: Store, max_bytes: u64) -> TestApp {
    spawn(AuthConfig::default(), store, max_bytes).await
}

/// The app with its cache in the Redis at `redis_url` (a private `redis-server`, say).
pub async fn spawn_app_with_redis(redis_url: &str) -> TestApp {
    let cache = CacheConfig {
        redis_url: Some(redis_url.to_owned()),
        ..test_cache_config()
    };
    let mut keys = KeyFile::default();
    keys.rotate(chrono::Utc::now(), chrono::Utc::now());
    serve(
        keys,
        AuthConfig::default(),
        Store::Fs,
        ccpor::images::DEFAULT_MAX_BYTES,
        None,
        cache,
        None,
    )
    .await
}

/// A second server on `app`'s database, signing keys and cache (another instance of the same
/// deployment), with its own search index and data dir.
pub async fn spawn_peer(app: &TestApp) -> TestApp {
    serve(
        app.keys.clone(),
        AuthConfig::default(),
        Store::Fs,
        ccpor::images::DEFAULT_MAX_BYTES,
        Some(app.database_url.clone()),
        app.cache_config.clone(),
        None,
    )
    .await
}

/// The transmitter's settings in tests: the peer at `addr`, short leases and waits.
pub fn carpos_config(addr: &str) -> ccpor::carpos::transmitter::Config {
    let mut cfg = ccpor::carpos::transmitter::Config::new(addr.to_owned());
    cfg.lease = std::time::Duration::from_secs(3);
    cfg.timeout = std::time::Duration::from_secs(2);
    cfg.poll = std::time::Duration::from_millis(50);
    cfg.backoff = std::time::Duration::from_millis(100);
    cfg.backoff_cap = std::time::Duration::from_secs(1);
    cfg
}

/// The app transmitting to a CARPOS peer as `cfg` says (`carpos_config`); with `same_db`,
/// another instance on that app's database (its own data dir, index and transmitter).
pub async fn spawn_app_with_carpos(
    cfg: ccpor::carpos::transmitter::Config,
    same_db: Option<&TestApp>,
) -> TestApp {
    let (keys, database_url, cache) = match same_db {
        Some(app) => (
            app.keys.clone(),
            Some(app.database_url.clone()),
            app.cache_config.clone(),
        ),
        None => {
            let mut keys = KeyFile::default();
            keys.rotate(chrono::Utc::now(), chrono::Utc::now());
            (keys, None, test_cache_config())
        }
    };
    serve(
        keys,
        AuthConfig::default(),
        Store::Fs,
        ccpor::images::DEFAULT_MAX_BYTES,
        database_url,
        cache,
        Some(cfg),
    )
    .await
}

/// The server's error log lines, printed into the output of the test whose server wrote them
/// (libtest shows it when that test fails): a failure's cause is in its own report. Errors only,
/// as many tests provoke warnings on purpose.
fn log_errors() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::ERROR)
            .with_test_writer()
            .try_init();
    });
}

async fn spawn(config: AuthConfig, store: Store, max_bytes: u64) -> TestApp {
    log_errors();
    let mut keys = KeyFile::default();
    keys.rotate(chrono::Utc::now(), chrono::Utc::now());
    serve(
        keys,
        config,
        store,
        max_bytes,
        None,
        test_cache_config(),
        None,
    )
    .await
}

async fn serve(
    keys: KeyFile,
    config: AuthConfig,
    store: Store,
    max_bytes: u64,
    database_url: Option<String>,
    cache_config: CacheConfig,
    carpos: Option<ccpor::carpos::transmitter::Config>,
) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    keys.save(&dir.path().join("keys.json")).expect("key file");
    let database_url = match database_url {
        Some(url) => url,
        None => fresh_database(&dir).await,
    };
    let image_store = match store {
        Store::Fs => None,
        Store::S3 => Some(fresh_bucket().await),
    };
    // The production builder, with this test's database, keys, images and cache.
    let mut settings = Settings::embedded(dir.path());
    settings.database_url = database_url.clone();
    settings.auth = config;
    settings.images.store_url = image_store.clone();
    settings.images.max_bytes = max_bytes;
    settings.cache = cache_config.clone();
    settings.carpos = carpos;
    let app = App::build(settings).await.expect("build the app");
    let addr = app.addr();
    let state = app.state().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let token = mint_with(&keys, Role::Clerk, Some("SC19"), None, "clerk-sc19");
    TestApp {
        addr,
        client: client_with(&token),
        keys,
        db: state.db,
        sql_stats: state.sql_stats,
        database_url,
        images: state.images,
        image_store,
        cache: state.cache,
        cache_config,
        _dir: dir,
    }
}

/// A client that sends `token` as its bearer token.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// Signs a one-hour token.
pub fn mint_with(
    keys: &KeyFile,
    role: Role,
    court: Option<&str>,
    agency: Option<&str>,
    user: &str,
) -> String {
    let claims = ccpor::auth::token::Claims {
        role,
        user: user.to_owned(),
        court: court.map(str::to_owned),
        agency: agency.map(str::to_owned),
    };
    ccpor::auth::token::mint(
        &keys.signing_key().expect("signing key"),
        &claims,
        std::time::Duration::from_secs(3600),
    )
    .expect("mint")
    .token
}

impl TestApp {
    /// A one-hour token for `role` (court roles at `scope` court, LEA at `scope` ORI).
    pub fn mint(&self, role: Role, scope: Option<&str>) -> String {
        let (court, agency) = match role {
            Role::Clerk | Role::BenchOfficer | Role::Feed => (scope, None),
            Role::Lea => (None, scope),
            _ => (None, None),
        };
        mint_with(&self.keys, role, court, agency, &format!("{role}-test"))
    }

    /// `gql` with another token (`None`: no Authorization header).
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let client = match token {
            Some(t) => client_with(t),
            None => reqwest::Client::new(),
        };
        let resp = client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        resp.json().await.expect("json body")
    }

    /// `gql_as`, repeated until the token is refused as revoked or `revocation_deadline` has
    /// passed. Returns the last answer.
    pub async fn gql_once_revoked(&self, token: &str, query: &str, variables: Value) -> Value {
        let deadline = revocation_deadline();
        loop {
            let body = self.gql_as(Some(token), query, variables.clone()).await;
            if error_code(&body) == "TOKEN_REVOKED" || std::time::Instant::now() > deadline {
                return body;
            }
            tokio::time::sleep(ccpor::auth::revocation::REFRESH / 4).await;
        }
    }

    /// This app's data dir (holds `search/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL request and returns the JSON body (asserting HTTP 200).
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        let resp = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "HTTP status");
        resp.json().await.expect("json body")
    }

    /// Like `gql` but fails the test on any GraphQL error; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Rows in a table, straight from the database.
    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }

    /// Counts of every data table, to prove a failed write left nothing behind.
    pub async fn snapshot(&self) -> Vec<i64> {
        let mut out = Vec::new();
        for t in [
            "person",
            "person_alias",
            "protective_order",
            "order_party",
            "order_event",
            "service_record",
        ] {
            out.push(self.count(t).await);
        }
        out
    }
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// The first error's `extensions.field`.
pub fn error_field(body: &Value) -> String {
    body["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// A valid DV-110 input issued `days_ago` days ago, with two new persons.
pub fn dv_tro(case_number: &str, days_ago: i64) -> Value {
    let issued = chrono::Utc::now() - chrono::Duration::days(days_ago);
    let expires = issued + chrono::Duration::days(21);
    json!({
        "courtCode": "SC19",
        "caseNumber": case_number,
        "family": "DV",
        "formNumber": "DV-110",
        "issuedAt": issued.to_rfc3339(),
        "expiresAt": expires.to_rfc3339(),
        "hearingDate": expires.date_naive().to_string(),
        "judicialOfficer": "Hon. A. Synthetic",
        "conditions": { "pcoCodes": ["01", "04", "05", "07"], "contactLevel": "NO_CONTACT",
                        "stayAwayYards": 100, "firearmRelinquishment": true },
        "parties": [
            { "role": "RESTRAINED", "relationship": "former spouse",
              "person": { "lastName": "Quintero Vale", "firstName": "Ramiro", "dob": "1984-02-29",
                          "sex": "MALE", "race": "WHITE", "heightInches": 70, "weightPounds": 180,
                          "hair": "BLACK", "eye": "BROWN",
                          "aliases": [{ "lastName": "Quintero", "firstName": "Ramiro" }] } },
            { "role": "PROTECTED", "person": { "lastName": "Okonkwo-Lind", "firstName": "Teodora",
                                               "estimatedAge": 35, "sex": "FEMALE" } }
        ]
    })
}

pub const CREATE: &str = "mutation($i: CreateOrderInput!) { createOrder(input: $i) { order { id caseNumber status kind \
    parties { role person { id fullName } } } } }";

/// Creates an order, returning (order id, restrained person id, protected person id).
/// An emergency protective order (EPO-001) an officer of `agency` entered two hours ago,
/// running five days, or less where Fam. Code 6256's five court days end sooner (issued late on
/// a Sunday, California time).
pub fn epo(case_number: &str, agency: &str) -> Value {
    let now = chrono::Utc::now();
    let issued = now - chrono::Duration::hours(2);
    let five_days = now + chrono::Duration::days(5);
    let expires = ccpor::domain::epo::latest_expiry(issued).map_or(five_days, |l| l.min(five_days));
    let mut epo = dv_tro(case_number, 0);
    epo["family"] = json!("EPO");
    epo["formNumber"] = json!("EPO-001");
    epo["hearingDate"] = Value::Null;
    epo["issuedAt"] = json!(issued.to_rfc3339());
    epo["expiresAt"] = json!(expires.to_rfc3339());
    epo["source"] = json!("LEA");
    epo["enteredByAgencyOri"] = json!(agency);
    epo
}

pub async fn create(app: &TestApp, input: Value) -> (String, String, String) {
    // Entered by a clerk of the order's court (or, for an EPO with an agency, by that agency).
    let token = match (
        input["family"].as_str(),
        input["enteredByAgencyOri"].as_str(),
    ) {
        (Some("EPO"), Some(ori)) => app.mint(Role::Lea, Some(ori)),
        _ => app.mint(
            Role::Clerk,
            Some(input["courtCode"].as_str().unwrap_or("SC19")),
        ),
    };
    let body = app
        .gql_as(Some(&token), CREATE, json!({ "i": input }))
        .await;
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    let d = body["data"].clone();
    let o = &d["createOrder"]["order"];
    let pid = |role: &str| {
        o["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .find(|p| p["role"] == role)
            .map(|p| p["person"]["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    (
        o["id"].as_str().expect("id").to_owned(),
        pid("RESTRAINED"),
        pid("PROTECTED"),
    )
}

/// When a revocation committed now must be in force: the refresher brings each instance's copy
/// up to date every `REFRESH`, and a copy it has not refreshed for `STALE_AFTER` (a busy machine,
/// a stalled task) is not trusted, so the request reads the table. A deadline of a few `REFRESH`
/// alone failed in CI with 224 tests sharing two cores.
pub fn revocation_deadline() -> std::time::Instant {
    use ccpor::auth::revocation::{REFRESH, STALE_AFTER};
    std::time::Instant::now() + STALE_AFTER + 5 * REFRESH
}
