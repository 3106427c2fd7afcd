//! `ccpor images verify`: re-hashes every stored image object.
use std::process::ExitCode;

use super::{Cli, EXIT_IMAGE_PROBLEMS, image_settings, open_db};
use crate::app::progress;
use crate::images::verify::Problem;

/// Reports missing or corrupted objects; exit code 4 when any is found.
pub async fn verify(cli: &Cli) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let images = crate::images::Images::open(&image_settings(cli), &cli.data_dir)?;
    let bar = progress(0, "images");
    let report = crate::images::verify::verify(&db, &images.store, Some(&bar))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    bar.finish_and_clear();
    for p in &report.problems {
        match p {
            Problem::Missing { object } => println!("missing   {object}"),
            Problem::Corrupted {
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
