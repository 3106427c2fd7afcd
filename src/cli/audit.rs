//! `ccpor audit`: the audit log's hash chain and its anchor.
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-hash the whole audit chain; exit code 4 and the first bad row when it was altered.
    Verify,
}

/// Exit code of `ccpor audit verify` for a broken chain.
pub const EXIT_AUDIT_BROKEN: u8 = 4;

/// `ccpor audit verify`: the hash chain, then its anchor in `data_dir` (`audit::anchor`).
pub async fn verify(
    db: &sea_orm::DatabaseConnection,
    data_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let report = crate::audit::verify(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((seq, why)) = report.first_bad {
        println!(
            "audit chain BROKEN at row {seq}: {why} ({} rows verified before it)",
            report.rows
        );
        return Ok(ExitCode::from(EXIT_AUDIT_BROKEN));
    }
    let Some(anchor) = crate::audit::Anchor::open(data_dir)? else {
        println!(
            "audit chain intact: {} rows (not anchored: no {} in {})",
            report.rows,
            crate::audit::anchor::KEY_FILE,
            data_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let checkpoint = anchor.read()?;
    let check = anchor
        .check(db, checkpoint)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match check {
        crate::audit::anchor::AnchorCheck::Holds { seq } => {
            println!(
                "audit chain intact: {} rows, anchored up to row {seq}",
                report.rows
            );
            Ok(ExitCode::SUCCESS)
        }
        crate::audit::anchor::AnchorCheck::Empty => {
            println!(
                "audit chain intact: {} rows (nothing anchored yet)",
                report.rows
            );
            Ok(ExitCode::SUCCESS)
        }
        crate::audit::anchor::AnchorCheck::Broken(why) => {
            println!("audit chain BROKEN: its anchor does not hold: {why}");
            Ok(ExitCode::from(EXIT_AUDIT_BROKEN))
        }
    }
}
