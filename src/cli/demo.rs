//! `ccpor demo`: loads synthetic statewide demo data.
use std::process::ExitCode;

use super::{Cli, invalidate_cache, open_db};
use crate::app::progress;

/// Generates `orders` orders from `seed` (the same seed gives the same data).
pub async fn run(cli: &Cli, orders: usize, seed: u64) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let bar = progress(orders as u64, "orders");
    let started = std::time::Instant::now();
    let report = crate::demo::generate(&db, orders, seed, Some(&bar)).await?;
    crate::db::analyze(&db).await?;
    bar.finish();
    invalidate_cache(cli).await?;
    let detail = format!(
        "seed {seed}: {} orders, {} persons",
        report.orders, report.persons
    );
    super::record::record(&db, "cli.demo", "ccpor demo", detail).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "loaded {} orders ({} persons) in {secs:.2}s: {:.0} orders/s",
        report.orders,
        report.persons,
        report.orders as f64 / secs.max(1e-9)
    );
    Ok(ExitCode::SUCCESS)
}
