//! Shared application state: cheap handles cloned into every request.
use sea_orm::DatabaseConnection;

use crate::db::SqlStats;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub sql_stats: SqlStats,
}
