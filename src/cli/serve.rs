//! `ccpor serve`: the GraphQL server, assembled by `app::App::build`.
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, image_settings};
use crate::app::{App, KeySource, Settings, database_url};

/// The options of `ccpor serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "CCPOR_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Load synthetic demo data when the database has no orders.
    #[arg(long)]
    pub demo: bool,
    /// Orders the demo loads.
    #[arg(long, default_value_t = 3000)]
    pub demo_orders: usize,
    /// Production mode: no playground, no introspection, no field suggestions.
    #[arg(long, env = "CCPOR_PRODUCTION")]
    pub production: bool,
    /// Query cost (complexity units) each token may spend per minute; 0: unlimited.
    #[arg(long, env = "CCPOR_COST_PER_MINUTE", default_value_t = 200_000)]
    pub cost_per_minute: u32,
    /// CARPOS peer (`HOST:PORT`) to transmit orders to; unset, transmissions queue and wait.
    #[arg(long, env = "CCPOR_CARPOS_ADDR")]
    pub carpos_addr: Option<String>,
    /// Seconds a leased transmission stays this instance's beyond the answers' deadline of a
    /// full pass (past it, another sends it again, with the same idempotency key).
    #[arg(long, env = "CCPOR_CARPOS_LEASE_SECS", default_value_t = 30)]
    pub carpos_lease_secs: u64,
    /// Seconds to wait for CARPOS's answer to a message; a batch of messages waits for all its
    /// answers this plus 50 ms a message.
    #[arg(long, env = "CCPOR_CARPOS_TIMEOUT_SECS", default_value_t = 10)]
    pub carpos_timeout_secs: u64,
    /// Transmissions leased per pass and pipelined on one connection (each of another order's
    /// chain) [default: 1024 on PostgreSQL, 256 on SQLite].
    #[arg(long, env = "CCPOR_CARPOS_BATCH")]
    pub carpos_batch: Option<usize>,
    /// Transmitter passes run side by side (one's wait for CARPOS's answers overlaps another's
    /// database work; leases keep them apart) [default: 6 on PostgreSQL, 4 on SQLite].
    #[arg(long, env = "CCPOR_CARPOS_WORKERS")]
    pub carpos_workers: Option<usize>,
    /// Keep the CLETS-001 data (address, telephone, driver's licence) after CARPOS acknowledged
    /// the entry that carried it. By default it is purged then, as CRC 1.51(e) requires of a
    /// court that enters the data into CLETS itself.
    #[arg(long, env = "CCPOR_CARPOS_KEEP_CLETS")]
    pub carpos_keep_clets: bool,
}

/// The server's settings from the command line and environment.
pub fn settings(cli: &Cli, args: &ServeArgs) -> Settings {
    let key_file = super::keys::key_file_path(&cli.data_dir, cli.key_file.as_deref());
    Settings {
        addr: args.addr,
        data_dir: cli.data_dir.clone(),
        database_url: database_url(&cli.data_dir, cli.database_url.as_deref()),
        keys: if args.demo {
            KeySource::FileOrNew(key_file)
        } else {
            KeySource::File(key_file)
        },
        auth: crate::auth::AuthConfig {
            production: args.production,
            cost_per_minute: args.cost_per_minute,
            ..Default::default()
        },
        images: image_settings(cli),
        cache: super::cache_config(cli),
        demo_orders: args.demo.then_some(args.demo_orders),
        carpos: args.carpos_addr.clone().map(|addr| {
            let mut cfg = crate::carpos::transmitter::Config::new(addr);
            cfg.lease = std::time::Duration::from_secs(args.carpos_lease_secs.max(1));
            cfg.timeout = std::time::Duration::from_secs(args.carpos_timeout_secs.max(1));
            cfg.batch = args.carpos_batch.map(|n| n.clamp(1, 4096));
            cfg.workers = args.carpos_workers.map(|n| n.clamp(1, 16));
            cfg.purge_clets = !args.carpos_keep_clets;
            cfg
        }),
    }
}

/// Builds the app, announces it, serves until SIGTERM or Ctrl-C.
pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let app = App::build(settings(cli, args)).await?;
    // Installed before the announcement: a supervisor that stops the server right after it
    // must shut it down, not kill it.
    let shutdown = crate::app::server::shutdown_signal();
    let local = app.addr();
    // A closed stdout (a supervisor that stopped reading) must not stop the server.
    let mut out = std::io::stdout();
    if !args.production {
        let _ = writeln!(out, "playground: http://{local}/playground");
    }
    let _ = writeln!(out, "graphql:    http://{local}/graphql");
    if args.demo {
        let _ = writeln!(
            out,
            "demo tokens (8 h; paste one into the playground's Token field):"
        );
        for (role, t) in super::token::demo_tokens(app.keys())? {
            let _ = writeln!(out, "  {role:<14} {t}");
        }
    }
    let _ = out.flush();
    app.run_until(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}
