//! Synthetic statewide demo data (placeholder while the generator is written).
use indicatif::ProgressBar;
use sea_orm::DatabaseConnection;

use crate::error::AppResult;

pub const DEFAULT_SEED: u64 = 42;

pub struct DemoReport {
    pub orders: usize,
    pub persons: usize,
}

pub async fn generate(_db: &DatabaseConnection, _n: usize, _seed: u64, _p: Option<&ProgressBar>) -> AppResult<DemoReport> {
    Ok(DemoReport { orders: 0, persons: 0 })
}

pub async fn is_empty(_db: &DatabaseConnection) -> AppResult<bool> {
    Ok(true)
}
