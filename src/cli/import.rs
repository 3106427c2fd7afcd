//! `ccpor import`: orders from NDJSON, one `createOrder` input or one feed message per line.
use std::path::Path;
use std::process::ExitCode;

use indicatif::ProgressBar;

use super::record::{Digested, Hashing};
use super::{Cli, EXIT_REJECTED_LINES, Failure, invalidate_cache, open_db};

/// Imports `file` (`-`: standard input) in transactions of `batch_size` orders; exit code 3
/// when some lines were rejected (the others are stored). Lines an earlier run stored are skipped
/// and counted as already present: a re-run after a crash finishes the file.
pub async fn run(
    cli: &Cli,
    file: &Path,
    batch_size: crate::import::BatchSize,
) -> anyhow::Result<ExitCode> {
    // The file first: a wrong path is reported without touching the database.
    let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file).map_err(|source| Failure::InputFile {
                path: file.display().to_string(),
                source,
            })?,
        )
    };
    // The file is hashed as it is read, for the audit row.
    let digest = Digested::default();
    let reader = std::io::BufReader::with_capacity(
        256 * 1024,
        Hashing::new(input, std::sync::Arc::clone(&digest)),
    );
    let (db, _) = open_db(cli).await?;
    let bar = ProgressBar::new_spinner();
    bar.set_message("importing");
    let started = std::time::Instant::now();
    let report = crate::import::import_ndjson(&db, reader, batch_size, Some(&bar)).await?;
    crate::db::analyze(&db).await?;
    bar.finish_and_clear();
    invalidate_cache(cli).await?;
    let (sha256, bytes) = digest
        .lock()
        .ok()
        .and_then(|d| d.clone())
        .unwrap_or_else(|| ("-".to_owned(), 0));
    let detail = format!(
        "file {} ({bytes} bytes, SHA-256 {sha256}): {} lines, {} imported, {} already present, \
         {} rejected, {} deferred",
        file.display(),
        report.lines,
        report.imported,
        report.already_present,
        report.rejected.len(),
        report.deferred
    );
    super::record::record(&db, "cli.import", "ccpor import", detail).await?;
    let secs = started.elapsed().as_secs_f64();
    for e in &report.rejected {
        match &e.field {
            Some(f) => eprintln!("line {}: {f}: {}", e.line, e.message),
            None => eprintln!("line {}: {}", e.line, e.message),
        }
    }
    let deferred = if report.deferred > 0 {
        format!(
            "; {} deferred (waiting for an earlier sequence)",
            report.deferred
        )
    } else {
        String::new()
    };
    println!(
        "imported {} of {} orders in {secs:.2}s ({:.0} orders/s); {} already present; {} lines rejected{deferred}",
        report.imported,
        report.lines,
        report.imported as f64 / secs.max(1e-9),
        report.already_present,
        report.rejected.len()
    );
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REJECTED_LINES)
    })
}
