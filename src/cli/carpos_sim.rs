//! `ccpor carpos-sim`: the reference CARPOS peer (docs/wire/carpos.md#the-reference-peer), a
//! separate process the transmitter and the tests talk to over TCP.
use std::io::Write;
use std::num::NonZeroU64;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::Cli;
use crate::carpos::sim::{Faults, Sim};

/// The options of `ccpor carpos-sim`; its records live in `--data-dir`.
#[derive(Debug, Args)]
pub struct CarposSimArgs {
    /// Address to listen on; port 0 takes a free one. The bound address is the first line on
    /// standard output.
    #[arg(long, default_value = "127.0.0.1:7023")]
    pub addr: String,
    /// Wait this many milliseconds before each answer.
    #[arg(long, default_value_t = 0)]
    pub delay_ms: u64,
    /// Write the answers one at a time, this many milliseconds apart (a peer slow per message,
    /// not only per group of messages).
    #[arg(long, default_value_t = 0)]
    pub answer_gap_ms: u64,
    /// Close the connection instead of answering every Nth message (which is still recorded).
    #[arg(long)]
    pub drop_every: Option<NonZeroU64>,
    /// Close every connection as soon as it is accepted.
    #[arg(long)]
    pub refuse: bool,
    /// Send every answer twice.
    #[arg(long)]
    pub ack_twice: bool,
}

/// Opens the ledger, announces the address, answers until SIGTERM or Ctrl-C.
pub async fn run(cli: &Cli, args: &CarposSimArgs) -> anyhow::Result<ExitCode> {
    let faults = Faults {
        delay: Duration::from_millis(args.delay_ms),
        answer_gap: Duration::from_millis(args.answer_gap_ms),
        drop_every: args.drop_every,
        refuse: args.refuse,
        ack_twice: args.ack_twice,
    };
    let sim = Sim::open(&cli.data_dir, faults)?;
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let shutdown = crate::app::server::shutdown_signal();
    // A closed stdout (a supervisor that stopped reading) must not stop the peer.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{}", listener.local_addr()?);
    let _ = out.flush();
    tokio::select! {
        () = sim.serve(listener) => {}
        () = shutdown => {}
    }
    Ok(ExitCode::SUCCESS)
}
