//! `ccpor check`: the deployment's consistency, safe while serving.
use std::process::ExitCode;

use anyhow::Context;

use super::{Cli, EXIT_IMAGE_PROBLEMS, image_settings, open_db};

/// `ccpor check [--json]`: exit 0 when consistent, 4 with the list of problems when not.
pub async fn run(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let images = crate::images::Images::open(&image_settings(cli), &cli.data_dir)
        .context("opening the image store")?;
    let report = crate::ops::check::run(&db, &cli.data_dir.join("search"), &images.store)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["consistent"] = report.consistent().into();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for p in &report.problems {
            println!("{:<7} {}", p.area, p.message);
        }
        println!(
            "checked {} orders, {} events, {} persons ({} indexed, {} in identities of several \
             records, {} outbox rows pending), {} image objects, {} audit rows: {}",
            report.orders,
            report.events,
            report.persons,
            report.indexed_persons,
            report.linked_persons,
            report.outbox_pending,
            report.image_objects,
            report.audit_rows,
            if report.consistent() {
                "consistent".to_owned()
            } else {
                format!("{} problems", report.problems.len())
            }
        );
    }
    Ok(if report.consistent() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_IMAGE_PROBLEMS)
    })
}
