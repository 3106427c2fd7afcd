//! `ccpor backup` and `ccpor restore`. SQLite: an online, transactionally consistent copy
//! (`VACUUM INTO`) taken through the server's own database file while it serves; restore puts a
//! copy into a new data dir. PostgreSQL: `pg_dump`/`pg_restore` (see [`POSTGRES_PROCEDURE`]).
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// The documented PostgreSQL procedure (README, "Operations").
pub const POSTGRES_PROCEDURE: &str = "\
PostgreSQL deployments are backed up with the database's own tools, which take a consistent
snapshot while servers keep serving:
  pg_dump --format=custom --file=ccpor.dump \"$DATABASE_URL\"
and restored into a new, empty database, then checked and re-indexed:
  createdb ccpor_restored
  pg_restore --no-owner --dbname=postgres://…/ccpor_restored ccpor.dump
  DATABASE_URL=postgres://…/ccpor_restored ccpor check      # the index part reports what is missing
  DATABASE_URL=postgres://…/ccpor_restored ccpor reindex
  DATABASE_URL=postgres://…/ccpor_restored ccpor check";

/// Why a backup or restore was refused.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    #[error("{0} is not a SQLite database")]
    NotSqlite(PathBuf),
    #[error("the database is PostgreSQL: use pg_dump/pg_restore.\n{POSTGRES_PROCEDURE}")]
    Postgres,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes a consistent copy of the SQLite database to `file` (which must not exist), while
/// other connections go on reading and writing.
pub async fn backup(db: &DatabaseConnection, file: &Path) -> Result<u64, BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::Postgres);
    }
    if file.exists() {
        return Err(BackupError::Exists(file.to_owned()));
    }
    let target = std::path::absolute(file).map_err(io(file))?;
    let quoted = target.to_string_lossy().replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
        .await?;
    Ok(std::fs::metadata(&target).map_err(io(file))?.len())
}

/// Copies the backup `file` to `database` (the data dir's `ccpor.db`), which must not exist
/// yet: a restore goes into a new data dir, never over a live one.
pub fn restore_sqlite(file: &Path, database: &Path) -> Result<u64, BackupError> {
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(file).map_err(io(file))?;
    std::io::Read::read_exact(&mut f, &mut header)
        .map_err(|_| BackupError::NotSqlite(file.to_owned()))?;
    if &header != b"SQLite format 3\0" {
        return Err(BackupError::NotSqlite(file.to_owned()));
    }
    if database.exists() {
        return Err(BackupError::Exists(database.to_owned()));
    }
    if let Some(dir) = database.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    // Copy beside, then rename: a crash leaves no half database under the real name.
    let partial = database.with_extension("db.restoring");
    let n = std::fs::copy(file, &partial).map_err(io(&partial))?;
    std::fs::rename(&partial, database).map_err(io(database))?;
    Ok(n)
}
