//! `ccpor carpos status`: the CARPOS queue, read from the database (a server need not run). It
//! prints states, times and ids, no order data.
use std::process::ExitCode;

use chrono::Utc;
use clap::Subcommand;

use super::{Cli, open_db};
use crate::carpos::status;

#[derive(Debug, Subcommand)]
pub enum CarposCommand {
    /// Print the queue: messages by state, the oldest not yet acknowledged, how many are past
    /// their Fam. Code 6380(a) due time, and the unfinished messages, oldest first.
    Status {
        /// Unfinished messages to list (0: none).
        #[arg(long, default_value_t = 20)]
        list: u64,
    },
}

pub async fn status(cli: &Cli, list: u64) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let now = Utc::now();
    let s = status::read(&db, now, list, status::Scope::All)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (state, n) in &s.by_state {
        println!("{:<16} {n}", state.as_db());
    }
    println!("not acknowledged {}", s.depth());
    match s.oldest_unsent {
        Some(q) => println!(
            "oldest unsent    {} ({} s ago)",
            q.to_rfc3339(),
            (now - q).num_seconds()
        ),
        None => println!("oldest unsent    -"),
    }
    println!(
        "overdue          {} (past the Fam. Code 6380(a) due time)",
        s.overdue
    );
    for t in &s.unfinished {
        // Field codes only: an error text may quote the order's data, which the API shows to
        // its court's clerks (`carposWorkList`, audited), not to a console.
        let why = t
            .missing_fields
            .as_deref()
            .map(|m| format!("missing {m}"))
            .unwrap_or_default();
        println!(
            "#{} order {} seq {} {} {} attempts {} due {} {}",
            t.id,
            crate::domain::ids::encode(crate::domain::ids::Kind::Order, t.order_id),
            t.seq,
            t.message_key,
            t.state,
            t.attempts,
            t.due_by.to_rfc3339(),
            why
        );
    }
    Ok(ExitCode::SUCCESS)
}
