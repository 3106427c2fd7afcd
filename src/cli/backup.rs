//! `ccpor backup` and `ccpor restore`: a consistent copy of the database, and back.
use std::path::Path;
use std::process::ExitCode;

use super::{Cli, open_db};

/// `ccpor backup FILE`.
pub async fn backup(cli: &Cli, file: &Path) -> anyhow::Result<ExitCode> {
    let (db, _) = open_db(cli).await?;
    let bytes = crate::ops::backup::backup(&db, file).await?;
    println!(
        "backed up the database to {} ({bytes} bytes)",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `ccpor restore FILE`: into a data dir without a database; then rebuilds the search index.
pub async fn restore(cli: &Cli, file: &Path) -> anyhow::Result<ExitCode> {
    if let Some(url) = cli.database_url.as_deref().filter(|u| !u.trim().is_empty()) {
        if !url.starts_with("sqlite") {
            return Err(crate::ops::backup::BackupError::Postgres.into());
        }
        anyhow::bail!("restore writes <data dir>/ccpor.db: unset DATABASE_URL and pass --data-dir");
    }
    let database = cli.data_dir.join("ccpor.db");
    let bytes = crate::ops::backup::restore_sqlite(file, &database)?;
    let (db, _) = open_db(cli).await?;
    let n = crate::search::reindex(&db, &cli.data_dir.join("search"), None)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!(
        "restored {} ({bytes} bytes) into {}; indexed {n} persons",
        file.display(),
        database.display()
    );
    Ok(ExitCode::SUCCESS)
}
