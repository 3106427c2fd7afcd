//! The application builder: the one place a server is assembled (database and migrations,
//! search index, cache, audit, auth, images, background jobs), used by `ccpor serve`, by every
//! end-to-end test and by the benchmarks, so tests run exactly what production runs.
pub mod server;
pub mod settings;

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::keys::KeyFile;
use crate::state::AppState;
pub use settings::{KeySource, Settings, database_url, redact};

/// The database could not be reached (`ccpor` exits with code 6).
#[derive(Debug, thiserror::Error)]
#[error("cannot reach the database at {url}: {source}")]
pub struct DatabaseUnreachable {
    /// The URL with any password hidden.
    pub url: String,
    #[source]
    pub source: sea_orm::DbErr,
}

/// Connects to `url` and applies migrations; for SQLite, creates `data_dir` first.
pub async fn open_database(
    data_dir: &Path,
    url: &str,
) -> anyhow::Result<(DatabaseConnection, crate::db::SqlStats)> {
    if url.starts_with("sqlite") {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating data dir {}", data_dir.display()))?;
    }
    let (db, sql_stats) = crate::db::connect(url)
        .await
        .map_err(|source| DatabaseUnreachable {
            url: redact(url),
            source,
        })?;
    crate::db::migrate(&db)
        .await
        .context("applying migrations")?;
    Ok((db, sql_stats))
}

/// The key file at `path`, made (one fresh root key) when missing.
pub fn ensure_key_file(path: &Path) -> anyhow::Result<KeyFile> {
    if path.exists() {
        return Ok(KeyFile::load(path)?);
    }
    let mut file = KeyFile::default();
    let now = chrono::Utc::now();
    file.rotate(now, now);
    file.save(path)?;
    Ok(file)
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

/// A built server: bound, assembled, background jobs started; serves once `run_until` runs.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    keys: KeyFile,
    jobs: DatabaseConnection,
    transmitter: Option<tokio::task::JoinHandle<()>>,
}

impl App {
    /// Assembles everything `settings` describes and binds its address.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        // A broken CARPOS mapping table stops the server here, not a transmission later.
        crate::carpos::mapping::tables().context("the CARPOS mapping tables")?;
        // The rules table: the one the command line installed (`--rules`), else the shipped one,
        // checked here so that a broken table stops the server before it judges an order.
        let rules = crate::domain::rules::load(None).context("the rules table")?;
        tracing::info!(file = %rules.file, version = %rules.version, "rules table");
        let keys = load_keys(&settings.keys)?;
        let auth = crate::auth::Auth::new(keys.key_ring()?, settings.auth.clone());
        let (db, sql_stats) = open_database(&settings.data_dir, &settings.database_url).await?;
        let search_root = settings.data_dir.join("search");
        prepare_search_index(&db, &search_root, settings.demo_orders).await?;
        let search = crate::search::Search::open(&search_root)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("opening the search index (is another server using this data dir?)")?;
        let images = crate::images::Images::open(&settings.images, &settings.data_dir)
            .context("opening the image store")?;
        // The search index's lock above makes this server the data dir's only one.
        images.clear_spool();
        let cache = crate::cache::Cache::open(&settings.cache)
            .context("REDIS_URL is not a usable Redis URL")?;
        tracing::info!(backend = cache.backend_name(), "cache");
        let anchor = crate::audit::Anchor::load_or_create(&settings.data_dir)
            .context("opening the audit anchor")?;
        let space = crate::space::Space::watch(&settings.database_url);
        // The audit writer and the transmitter take turns at SQLite's one writer here.
        let gate = crate::db::WriteGate::for_backend(db.get_database_backend());
        let state = AppState {
            audit: crate::audit::AuditWriter::spawn_anchored(
                db.clone(),
                Some(anchor),
                space.clone(),
                gate.clone(),
            ),
            db,
            sql_stats,
            search,
            auth,
            images,
            cache,
            health: crate::db::Health::watch(&settings.database_url),
            space,
        };
        // Background jobs (indexer, revocations, event relay, expiry) get their own pool so
        // they never wait behind, or starve, requests, and request statement counts stay the
        // requests' own.
        let (jobs, _) = crate::db::connect(&settings.database_url)
            .await
            .with_context(|| {
                format!(
                    "connecting the background jobs to {}",
                    redact(&settings.database_url)
                )
            })?;
        state
            .search
            .clone()
            .spawn_indexer(jobs.clone(), state.space.clone());
        state.auth.keep_revocations_current(jobs.clone());
        let transmitter = settings.carpos.clone().map(|cfg| {
            tracing::info!(peer = %cfg.addr, "CARPOS transmission on");
            crate::carpos::transmitter::spawn(
                jobs.clone(),
                state.audit.clone(),
                state.cache.clone(),
                gate,
                cfg,
            )
        });
        let listener = crate::app::server::bind(settings.addr)
            .await
            .with_context(|| format!("binding {}", settings.addr))?;
        let addr = listener.local_addr()?;
        Ok(App {
            listener,
            addr,
            state,
            keys,
            jobs,
            transmitter,
        })
    }

    /// The bound address (the real port when the settings asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The handles requests share (database, cache, images …).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The root keys tokens are checked against.
    pub fn keys(&self) -> &KeyFile {
        &self.keys
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let served = crate::app::server::run(self.listener, self.state, self.jobs, shutdown).await;
        if let Some(t) = self.transmitter {
            t.abort();
        }
        served
    }
}

fn load_keys(source: &KeySource) -> anyhow::Result<KeyFile> {
    match source {
        KeySource::FileOrNew(path) => ensure_key_file(path),
        KeySource::File(path) => KeyFile::load(path).with_context(|| {
            format!(
                "no usable key file at {}: run `ccpor keys generate` (or `serve --demo`)",
                path.display()
            )
        }),
    }
}

/// Loads demo data into an empty database, or rebuilds an index an earlier version wrote. Demo
/// data goes in by bulk load, not through the outbox: it is indexed here, before serving, or
/// searches would find none of it.
async fn prepare_search_index(
    db: &DatabaseConnection,
    search_root: &Path,
    demo_orders: Option<usize>,
) -> anyhow::Result<()> {
    let mut rebuild = false;
    if let Some(orders) = demo_orders
        && crate::demo::is_empty(db).await?
    {
        let bar = progress(orders as u64, "demo");
        crate::demo::generate(db, orders, crate::demo::DEFAULT_SEED, Some(&bar)).await?;
        crate::db::analyze(db).await?;
        bar.finish();
        rebuild = true;
    } else if crate::search::needs_rebuild(search_root).map_err(|e| anyhow::anyhow!("{e:?}"))? {
        tracing::warn!("search index was built by an earlier version; rebuilding it");
        rebuild = true;
    }
    if rebuild {
        let bar = progress(0, "persons");
        crate::search::reindex(db, search_root, Some(&bar))
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        bar.finish();
    }
    Ok(())
}
