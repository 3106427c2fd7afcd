//! `ccpor expire`: records the expiry of every order whose end date has passed.
use std::process::ExitCode;

use super::{Cli, invalidate_cache, open_db};

/// Runs the server's expiry sweep once.
pub async fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let recorded = crate::service::expiry::sweep(&db, chrono::Utc::now()).await?;
    if !recorded.is_empty() {
        invalidate_cache(cli).await?;
    }
    let detail = format!("{} expiries recorded", recorded.len());
    super::record::record(&db, "cli.expire", "ccpor expire", detail).await?;
    println!("recorded {} expiries", recorded.len());
    Ok(ExitCode::SUCCESS)
}
