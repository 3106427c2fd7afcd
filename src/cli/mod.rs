//! The `ccpor` command line: the options every command shares, the commands, exit codes. Each
//! command runs from a file of its own.

pub mod audit;
pub mod backup;
pub mod carpos;
pub mod carpos_sim;
pub mod check;
pub mod demo;
pub mod expire;
pub mod files;
pub mod images;
pub mod import;
pub mod keys;
pub mod link;
pub mod record;
pub mod reindex;
pub mod rules;
pub mod schema;
pub mod serve;
pub mod telemetry;
pub mod token;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

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
    /// The rules table: forms and their lengths, renewals, the hearing window, the families that
    /// may protect an organisation, PCO conditions (default: the shipped
    /// `src/domain/data/rules.toml`). Checked at start-up; a mistake stops the command with its
    /// line and field. Applies to every command that judges orders (`serve`, `import`, ...).
    #[arg(long, env = "CCPOR_RULES", global = true)]
    pub rules: Option<PathBuf>,
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
    Serve(serve::ServeArgs),
    /// Run the reference CARPOS peer: answers the NCIC-style wire format over TCP, keeps its
    /// records in the data dir; faults can be injected for tests.
    CarposSim(carpos_sim::CarposSimArgs),
    /// Transmission to CARPOS.
    Carpos {
        #[command(subcommand)]
        command: carpos::CarposCommand,
    },
    /// Root keys that sign tokens.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Mint, attenuate and revoke access tokens.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
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
        /// Orders per transaction. Default: on SQLite 5,000, doubling to 40,000 (a large
        /// database's indexes take fewer log writes an order in larger transactions); on
        /// PostgreSQL 5,000 (BENCHMARKS.md).
        #[arg(long)]
        batch_size: Option<usize>,
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
    /// Print the rules table in use (`--rules FILE`, else the shipped one), every row with its
    /// source and the days it is in force; a file with a mistake is refused with its line.
    Rules {
        /// Print JSON.
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the markdown of `docs/law/rules.md`.
        #[arg(long)]
        markdown: bool,
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
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::InputFile { .. } => EXIT_BAD_INPUT_FILE,
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
    let code = match execute(&cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    };
    // Spans still queued go out before the process ends.
    if telemetry.exporting() {
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    }
    code
}

/// The exit code of a failed command: its own for the failures that have one, else 1.
fn exit_code(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|c| {
            if let Some(f) = c.downcast_ref::<Failure>() {
                Some(f.exit_code())
            } else {
                c.downcast_ref::<crate::app::DatabaseUnreachable>()
                    .map(|_| EXIT_DATABASE_UNREACHABLE)
            }
        })
        .unwrap_or(1)
}

async fn execute(cli: &Cli) -> anyhow::Result<ExitCode> {
    // The rules every command judges orders by, checked before anything else runs.
    let rules = crate::domain::rules::load(cli.rules.as_deref())?;
    if let Command::Rules { json, markdown } = &cli.command {
        return rules::run(rules, *json, *markdown);
    }
    if !matches!(cli.command, Command::Schema { .. }) {
        files::private(&cli.data_dir)
            .with_context(|| format!("closing data dir {}", cli.data_dir.display()))?;
    }
    match &cli.command {
        Command::Rules { .. } => Ok(ExitCode::SUCCESS),
        Command::Schema { what, federation } => schema::run(what.as_ref(), *federation),
        Command::Serve(args) => serve::run(cli, args).await,
        Command::CarposSim(args) => carpos_sim::run(cli, args).await,
        Command::Carpos {
            command: carpos::CarposCommand::Status { list },
        } => carpos::status(cli, *list).await,
        Command::Migrate => {
            open_db(cli).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { orders, seed } => demo::run(cli, *orders, *seed).await,
        Command::Import { file, batch_size } => {
            let size = batch_size.map_or(
                crate::import::BatchSize::Default,
                crate::import::BatchSize::Fixed,
            );
            import::run(cli, file, size).await
        }
        Command::Expire => expire::run(cli).await,
        Command::Link { after } => link::run(cli, *after).await,
        Command::Reindex => reindex::run(cli).await,
        Command::Images {
            command: ImagesCommand::Verify,
        } => images::verify(cli).await,
        Command::Check { json } => check::run(cli, *json).await,
        Command::Backup { file } => backup::backup(cli, file).await,
        Command::Restore { file } => backup::restore(cli, file).await,
        Command::Keys { command } => {
            let path = keys::key_file_path(&cli.data_dir, cli.key_file.as_deref());
            let done = keys::run(command, &path)?;
            let (db, _) = open_db(cli).await?;
            record::record(&db, "cli.keys", "ccpor keys generate", done.detail.clone()).await?;
            done.print();
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => token::run(cli, command).await,
        Command::Audit {
            command: audit::AuditCommand::Verify,
        } => {
            let (db, _) = open_db(cli).await?;
            audit::verify(&db, &cli.data_dir).await
        }
    }
}

/// Connects and migrates. The search index is opened only by `serve`: its writer is exclusive,
/// and other commands reach it through the outbox.
async fn open_db(cli: &Cli) -> anyhow::Result<(sea_orm::DatabaseConnection, crate::db::SqlStats)> {
    let url = crate::app::database_url(&cli.data_dir, cli.database_url.as_deref());
    crate::app::open_database(&cli.data_dir, &url).await
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

/// The cache settings in effect.
pub fn cache_config(cli: &Cli) -> crate::cache::CacheConfig {
    crate::cache::CacheConfig {
        redis_url: cli.redis_url.clone(),
        namespace: cli.cache_namespace.clone(),
        answers: !cli.no_cache,
    }
}

/// Running servers sharing Redis drop what they cached before an offline write (`import`,
/// `link`, `demo`); without Redis their in-process caches expire on their own.
async fn invalidate_cache(cli: &Cli) -> anyhow::Result<()> {
    if cli.redis_url.as_deref().is_some_and(|u| !u.is_empty()) {
        crate::cache::Cache::open(&cache_config(cli))
            .context("REDIS_URL is not a usable Redis URL")?
            .invalidate()
            .await;
    }
    Ok(())
}
