//! `ccpor reindex`: rebuilds the person search index from the database.
use std::process::ExitCode;

use super::{Cli, open_db};
use crate::app::progress;

/// Builds a new index beside the live one and switches to it.
pub async fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let bar = progress(0, "persons");
    let started = std::time::Instant::now();
    let n = crate::search::reindex(&db, &cli.data_dir.join("search"), Some(&bar))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    bar.finish();
    let detail = format!("{n} persons indexed");
    super::record::record(&db, "cli.reindex", "ccpor reindex", detail).await?;
    println!(
        "indexed {n} persons in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
