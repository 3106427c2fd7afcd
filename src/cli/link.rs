//! `ccpor link`: links person records across courts for data loaded offline.
use std::process::ExitCode;

use anyhow::Context;

use super::{Cli, invalidate_cache, open_db};
use crate::app::progress;

/// Links the person records with ids above `after`.
pub async fn run(cli: &Cli, after: i32) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let search = crate::search::Search::open(&cli.data_dir.join("search"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("opening the search index (is a server using this data dir?)")?;
    let bar = progress(0, "persons");
    let started = std::time::Instant::now();
    let (seen, created) = crate::service::identity::link_all(&db, &search, after, Some(&bar))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    bar.finish();
    invalidate_cache(cli).await?;
    let detail = format!("person records above {after}: {seen} looked at, {created} new links");
    super::record::record(&db, "cli.link", "ccpor link", detail).await?;
    println!(
        "looked at {seen} person records in {:.2}s; {created} new links (see personLinks)",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
