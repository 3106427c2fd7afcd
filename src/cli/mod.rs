//! The `ccpor` command line: serve, migrate, demo, schema, import, reindex, link, images, keys,
//! token, audit.

pub mod files;
pub mod ops;
pub mod security;
pub mod telemetry;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::state::AppState;

/// What `ccpor --help` says about exit codes.
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other failure (message on stderr)
  2  usage error (unknown command or option, bad value)
  3  import finished but rejected some lines
  4  verification failed: `images verify` found missing or corrupted objects,
     `audit verify` found the audit chain altered, or `check` found inconsistencies
  5  an input file could not be read (`import FILE`)
  6  the database is unreachable (or refused the connection)";

/// Statewide protective-order registry.
#[derive(Debug, Parser)]
#[command(name = "ccpor", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Where the embedded database and other local state live.
    #[arg(long, env = "CCPOR_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…` or `sqlite://…`); default: a SQLite file in the data dir.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Root key file; default `<data dir>/keys.json`.
    #[arg(long, env = "CCPOR_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// Log format.
    #[arg(
        long,
        env = "CCPOR_LOG_FORMAT",
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,
    /// Where order images are stored: a directory (`file:///…` or a path; default
    /// `<data-dir>/images`) or an S3-compatible bucket (`s3://bucket/prefix?endpoint=…`, with
    /// credentials from the `AWS_*` environment variables).
    #[arg(long, env = "CCPOR_IMAGE_STORE", global = true)]
    pub image_store: Option<String>,
    /// Largest image upload, in bytes (default 25 MiB), enforced while the upload streams.
    #[arg(long, env = "CCPOR_IMAGE_MAX_BYTES", default_value_t = crate::images::DEFAULT_MAX_BYTES, global = true)]
    pub image_max_bytes: u64,
    /// Seconds a signed image link stays valid.
    #[arg(long, env = "CCPOR_IMAGE_URL_TTL", default_value_t = crate::images::DEFAULT_URL_TTL_SECS, global = true)]
    pub image_url_ttl: i64,
    /// Key signing image links (at least 32 characters; every server of a deployment needs the
    /// same one). Default: a random key kept in `<data-dir>/image-url.key`.
    #[arg(
        long,
        env = "CCPOR_IMAGE_URL_KEY",
        global = true,
        hide_env_values = true
    )]
    pub image_url_key: Option<String>,
    /// Redis for the shared cache and automatic persisted queries (`redis://host:6379`); unset:
    /// an in-process cache (one server only: writes on another server are not seen until the
    /// entries expire).
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of the cache's Redis keys; servers sharing a database share it.
    #[arg(
        long,
        env = "CCPOR_CACHE_NAMESPACE",
        default_value = "ccpor",
        global = true
    )]
    pub cache_namespace: String,
    /// Answer every query from the database (no cached rows, histories or searches), e.g. to
    /// measure the database path.
    #[arg(long, env = "CCPOR_NO_CACHE", global = true)]
    pub no_cache: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the deployment's consistency (orders, events, search index, images, audit chain,
    /// outbox); exit code 4 with a list of problems when any is found. Safe while serving.
    Check {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while servers keep serving
    /// (PostgreSQL: prints the pg_dump procedure).
    Backup {
        /// Where to write the copy (must not exist).
        file: PathBuf,
    },
    /// Restore a backup into a data dir without a database, then rebuild its search index.
    Restore {
        /// A file written by `ccpor backup`.
        file: PathBuf,
    },
    /// Run the GraphQL server (migrates first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CCPOR_ADDR", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
        /// Load synthetic demo data when the database has no orders.
        #[arg(long)]
        demo: bool,
        /// Orders the demo loads.
        #[arg(long, default_value_t = 3000)]
        demo_orders: usize,
        /// Production mode: no playground, no introspection, no field suggestions.
        #[arg(long, env = "CCPOR_PRODUCTION")]
        production: bool,
        /// Query cost (complexity units) each token may spend per minute; 0: unlimited.
        #[arg(long, env = "CCPOR_COST_PER_MINUTE", default_value_t = 200_000)]
        cost_per_minute: u32,
    },
    /// Root keys that sign tokens.
    Keys {
        #[command(subcommand)]
        command: security::KeysCommand,
    },
    /// Mint, attenuate and revoke access tokens.
    Token {
        #[command(subcommand)]
        command: security::TokenCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: security::AuditCommand,
    },
    /// Apply database migrations.
    Migrate,
    /// Load synthetic statewide demo data (migrates first).
    Demo {
        /// Number of orders to generate.
        #[arg(long, default_value_t = 3000)]
        orders: usize,
        /// Random seed; the same seed gives the same data.
        #[arg(long, default_value_t = crate::demo::DEFAULT_SEED)]
        seed: u64,
    },
    /// Print the GraphQL schema (SDL), or with `operations` the trusted-documents manifest.
    Schema {
        /// Print the Apollo Federation v2 subgraph SDL (`@link`, `@key` on the entities), the
        /// form a gateway composes (committed as `schema/schema.federation.graphql`).
        #[arg(long)]
        federation: bool,
        #[command(subcommand)]
        what: Option<SchemaCommand>,
    },
    /// Rebuild the person search index from the database; a running server keeps serving the
    /// old index until the new one is ready, then switches.
    Reindex,
    /// Import orders from NDJSON: one `createOrder` input per line. Exit code 3 when some lines
    /// were rejected (the others are stored).
    Import {
        /// The NDJSON file (`-` for standard input).
        file: PathBuf,
        /// Orders per transaction.
        #[arg(long, default_value_t = 1000)]
        batch_size: usize,
    },
    /// Record the expiry of every order whose end date has passed, as the server's sweep does
    /// each minute: run it after loading historical orders (`demo`, `import`), so a server's
    /// first sweep does not do a backlog's work under load.
    Expire,
    /// Link person records across courts (as `createOrder` does for each new record) for data
    /// that came in by `import` or `demo`. Uses the search index in the data dir, so run it
    /// while no server uses that data dir. Running it again changes nothing already decided.
    Link {
        /// Only records with an id above this one (the last id a previous run reported).
        #[arg(long, default_value_t = 0)]
        after: i32,
    },
    /// Order image maintenance.
    Images {
        #[command(subcommand)]
        command: ImagesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImagesCommand {
    /// Re-hash every stored image object and report missing or corrupted ones (exit code 4 when
    /// any is found).
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Print the trusted documents (the named operations of `schema/operations/`) as an Apollo
    /// persisted-query manifest: SHA-256 id, name, type and body of each.
    Operations,
}

/// Exit code when an input file cannot be read.
pub const EXIT_BAD_INPUT_FILE: u8 = 5;

/// Exit code when the database cannot be reached.
pub const EXIT_DATABASE_UNREACHABLE: u8 = 6;

/// Failures with an exit code of their own (the rest exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("cannot read {path}: {source}")]
    InputFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot reach the database at {url}: {source}")]
    DatabaseUnreachable {
        url: String,
        #[source]
        source: sea_orm::DbErr,
    },
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::InputFile { .. } => EXIT_BAD_INPUT_FILE,
            Failure::DatabaseUnreachable { .. } => EXIT_DATABASE_UNREACHABLE,
        }
    }
}

/// Exit code when `images verify` found missing or corrupted objects.
pub const EXIT_IMAGE_PROBLEMS: u8 = 4;

/// Exit code when an import rejected some lines.
pub const EXIT_REJECTED_LINES: u8 = 3;

/// Parses arguments, runs the command, maps failures to exit codes.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let telemetry = match telemetry::init(cli.log_format) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match execute(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.chain().find_map(|c| c.downcast_ref::<Failure>()) {
                Some(f) => ExitCode::from(f.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    };
    // Spans still queued go out before the process ends.
    if telemetry.exporting() {
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    }
    code
}

/// The database URL in effect.
pub fn database_url(data_dir: &Path, explicit: Option<&str>) -> String {
    match explicit {
        Some(u) if !u.trim().is_empty() => u.to_owned(),
        _ => format!("sqlite://{}?mode=rwc", data_dir.join("ccpor.db").display()),
    }
}

/// Connects and migrates. The search index is opened only by `serve`: its writer is exclusive,
/// and other commands reach it through the outbox.
async fn open_db(cli: &Cli) -> anyhow::Result<(sea_orm::DatabaseConnection, crate::db::SqlStats)> {
    let url = database_url(&cli.data_dir, cli.database_url.as_deref());
    if url.starts_with("sqlite") {
        std::fs::create_dir_all(&cli.data_dir)
            .with_context(|| format!("creating data dir {}", cli.data_dir.display()))?;
    }
    let (db, sql_stats) =
        crate::db::connect(&url)
            .await
            .map_err(|source| Failure::DatabaseUnreachable {
                url: redact(&url),
                source,
            })?;
    crate::db::migrate(&db)
        .await
        .context("applying migrations")?;
    Ok((db, sql_stats))
}

/// Hides a password in a URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

/// The image settings in effect.
pub fn image_settings(cli: &Cli) -> crate::images::ImageSettings {
    crate::images::ImageSettings {
        store_url: cli.image_store.clone(),
        max_bytes: cli.image_max_bytes,
        url_ttl_secs: cli.image_url_ttl,
        url_key: cli.image_url_key.clone(),
    }
}

fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

async fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    if !matches!(cli.command, Command::Schema { .. }) {
        files::private(&cli.data_dir)
            .with_context(|| format!("closing data dir {}", cli.data_dir.display()))?;
    }
    match &cli.command {
        Command::Schema {
            what: None,
            federation,
        } => {
            if *federation {
                print!("{}", crate::graphql::federation_sdl());
            } else {
                print!("{}", crate::graphql::sdl());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema {
            what: Some(SchemaCommand::Operations),
            ..
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::persisted::manifest_json())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Expire => {
            let (db, _) = open_db(&cli).await?;
            let recorded = crate::service::expiry::sweep(&db, chrono::Utc::now()).await?;
            if !recorded.is_empty() {
                invalidate_cache(&cli).await?;
            }
            println!("recorded {} expiries", recorded.len());
            Ok(ExitCode::SUCCESS)
        }
        Command::Link { after } => {
            let (db, _) = open_db(&cli).await?;
            let search = crate::search::Search::open(&cli.data_dir.join("search"))
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("opening the search index (is a server using this data dir?)")?;
            let bar = progress(0, "persons");
            let started = std::time::Instant::now();
            let (seen, created) =
                crate::service::identity::link_all(&db, &search, *after, Some(&bar))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            bar.finish();
            invalidate_cache(&cli).await?;
            println!(
                "looked at {seen} person records in {:.2}s; {created} new links (see personLinks)",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Reindex => {
            let (db, _) = open_db(&cli).await?;
            let bar = progress(0, "persons");
            let started = std::time::Instant::now();
            let n = crate::search::reindex(&db, &cli.data_dir.join("search"), Some(&bar))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            bar.finish();
            println!(
                "indexed {n} persons in {:.2}s",
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Images {
            command: ImagesCommand::Verify,
        } => {
            let (db, _) = open_db(&cli).await?;
            let images = crate::images::Images::open(&image_settings(&cli), &cli.data_dir)?;
            let bar = progress(0, "images");
            let report = crate::images::verify::verify(&db, &images.store, Some(&bar))
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            bar.finish_and_clear();
            for p in &report.problems {
                match p {
                    crate::images::verify::Problem::Missing { object } => {
                        println!("missing   {object}")
                    }
                    crate::images::verify::Problem::Corrupted {
                        object,
                        actual_sha256,
                    } => println!("corrupted {object} (content hashes to {actual_sha256})"),
                }
            }
            println!(
                "checked {} objects in {}: {} missing or corrupted",
                report.checked,
                images.store.description,
                report.problems.len()
            );
            Ok(if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_IMAGE_PROBLEMS)
            })
        }
        Command::Check { json } => ops::check(&cli, *json).await,
        Command::Backup { file } => ops::backup(&cli, file).await,
        Command::Restore { file } => ops::restore(&cli, file).await,
        Command::Migrate => {
            open_db(&cli).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { orders, seed } => {
            let (db, _) = open_db(&cli).await?;
            let bar = progress(*orders as u64, "orders");
            let started = std::time::Instant::now();
            let report = crate::demo::generate(&db, *orders, *seed, Some(&bar)).await?;
            crate::db::analyze(&db).await?;
            bar.finish();
            invalidate_cache(&cli).await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "loaded {} orders ({} persons) in {secs:.2}s: {:.0} orders/s",
                report.orders,
                report.persons,
                report.orders as f64 / secs.max(1e-9)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file, batch_size } => {
            // The file first: a wrong path is reported without touching the database.
            let reader: Box<dyn std::io::BufRead> = if file.as_os_str() == "-" {
                Box::new(std::io::BufReader::new(std::io::stdin()))
            } else {
                Box::new(std::io::BufReader::new(std::fs::File::open(file).map_err(
                    |source| Failure::InputFile {
                        path: file.display().to_string(),
                        source,
                    },
                )?))
            };
            let (db, _) = open_db(&cli).await?;
            let bar = ProgressBar::new_spinner();
            bar.set_message("importing");
            let started = std::time::Instant::now();
            let report = crate::import::import_ndjson(&db, reader, *batch_size, Some(&bar)).await?;
            crate::db::analyze(&db).await?;
            bar.finish_and_clear();
            invalidate_cache(&cli).await?;
            let secs = started.elapsed().as_secs_f64();
            for e in &report.rejected {
                match &e.field {
                    Some(f) => eprintln!("line {}: {f}: {}", e.line, e.message),
                    None => eprintln!("line {}: {}", e.line, e.message),
                }
            }
            println!(
                "imported {} of {} orders in {secs:.2}s ({:.0} orders/s); {} lines rejected",
                report.imported,
                report.lines,
                report.imported as f64 / secs.max(1e-9),
                report.rejected.len()
            );
            Ok(if report.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_REJECTED_LINES)
            })
        }
        Command::Keys { command } => security::keys(
            command,
            &security::key_file_path(&cli.data_dir, cli.key_file.as_deref()),
        ),
        Command::Token { command } => match command {
            security::TokenCommand::Mint {
                role,
                court,
                agency,
                user,
                ttl,
            } => security::mint(
                &security::key_file_path(&cli.data_dir, cli.key_file.as_deref()),
                *role,
                court.as_deref(),
                agency.as_deref(),
                user.as_deref(),
                *ttl,
            ),
            security::TokenCommand::Attenuate {
                token,
                read_only,
                county,
                ttl,
                trusted_documents,
            } => security::attenuate(
                token,
                *read_only,
                county.as_deref(),
                *ttl,
                *trusted_documents,
            ),
            security::TokenCommand::Revoke { token, id, reason } => {
                let (db, _) = open_db(&cli).await?;
                security::revoke(&db, token.as_deref(), id.as_deref(), reason.as_deref()).await
            }
        },
        Command::Audit {
            command: security::AuditCommand::Verify,
        } => {
            let (db, _) = open_db(&cli).await?;
            security::audit_verify(&db, &cli.data_dir).await
        }
        Command::Serve {
            addr,
            demo,
            demo_orders,
            production,
            cost_per_minute,
        } => {
            let key_path = security::key_file_path(&cli.data_dir, cli.key_file.as_deref());
            let keys = if *demo {
                security::ensure_key_file(&key_path)?
            } else {
                crate::auth::keys::KeyFile::load(&key_path).with_context(|| {
                    format!(
                        "no usable key file at {}: run `ccpor keys generate` (or `serve --demo`)",
                        key_path.display()
                    )
                })?
            };
            let auth = crate::auth::Auth::new(
                keys.key_ring()?,
                crate::auth::AuthConfig {
                    production: *production,
                    cost_per_minute: *cost_per_minute,
                    ..Default::default()
                },
            );
            let (db, sql_stats) = open_db(&cli).await?;
            let search_root = cli.data_dir.join("search");
            // Demo data goes in by bulk load, not through the outbox: index it before serving,
            // or searches find none of it.
            let mut rebuild = false;
            if *demo && crate::demo::is_empty(&db).await? {
                let bar = progress(*demo_orders as u64, "demo");
                crate::demo::generate(&db, *demo_orders, crate::demo::DEFAULT_SEED, Some(&bar))
                    .await?;
                crate::db::analyze(&db).await?;
                bar.finish();
                rebuild = true;
            } else if crate::search::needs_rebuild(&search_root)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
            {
                tracing::warn!("search index was built by an earlier version; rebuilding it");
                rebuild = true;
            }
            if rebuild {
                let bar = progress(0, "persons");
                crate::search::reindex(&db, &search_root, Some(&bar))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                bar.finish();
            }
            let search = crate::search::Search::open(&search_root)
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context("opening the search index (is another server using this data dir?)")?;
            let images = crate::images::Images::open(&image_settings(&cli), &cli.data_dir)
                .context("opening the image store")?;
            let cache = open_cache(&cli)?;
            tracing::info!(backend = cache.backend_name(), "cache");
            let state = AppState {
                audit: crate::audit::AuditWriter::spawn_anchored(
                    db.clone(),
                    Some(
                        crate::audit::Anchor::load_or_create(&cli.data_dir)
                            .context("opening the audit anchor")?,
                    ),
                ),
                db,
                sql_stats,
                search,
                auth,
                images,
                cache,
            };
            // Background jobs (indexer, event relay, expiry) get their own pool so they never
            // wait behind, or starve, requests.
            let url = database_url(&cli.data_dir, cli.database_url.as_deref());
            let (jobs_db, _) = crate::db::connect(&url)
                .await
                .with_context(|| format!("connecting the background jobs to {}", redact(&url)))?;
            state.search.clone().spawn_indexer(jobs_db.clone());
            state.auth.keep_revocations_current(jobs_db.clone());
            let listener = crate::server::bind(*addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            let shutdown = crate::server::shutdown_signal();
            // A closed stdout (a supervisor that stopped reading) must not stop the server.
            let mut out = std::io::stdout();
            if !*production {
                let _ = writeln!(out, "playground: http://{local}/playground");
            }
            let _ = writeln!(out, "graphql:    http://{local}/graphql");
            if *demo {
                let _ = writeln!(
                    out,
                    "demo tokens (8 h; paste one into the playground's Token field):"
                );
                for (role, t) in security::demo_tokens(&keys)? {
                    let _ = writeln!(out, "  {role:<14} {t}");
                }
            }
            let _ = out.flush();
            crate::server::run(listener, state, jobs_db, shutdown).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn open_cache(cli: &Cli) -> anyhow::Result<crate::cache::Cache> {
    crate::cache::Cache::open(&crate::cache::CacheConfig {
        redis_url: cli.redis_url.clone(),
        namespace: cli.cache_namespace.clone(),
        answers: !cli.no_cache,
    })
    .context("REDIS_URL is not a usable Redis URL")
}

/// Running servers sharing Redis drop what they cached before an offline write (`import`,
/// `link`, `demo`); without Redis their in-process caches expire on their own.
async fn invalidate_cache(cli: &Cli) -> anyhow::Result<()> {
    if cli.redis_url.as_deref().is_some_and(|u| !u.is_empty()) {
        open_cache(cli)?.invalidate().await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        assert_eq!(
            database_url(Path::new("/tmp/x"), None),
            "sqlite:///tmp/x/ccpor.db?mode=rwc"
        );
        assert_eq!(
            database_url(Path::new("d"), Some("postgres://h/db")),
            "postgres://h/db"
        );
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
    }
}
