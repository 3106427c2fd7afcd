//! Shared application state: cheap handles cloned into every request.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::Auth;
use crate::cache::Cache;
use crate::db::SqlStats;
use crate::images::Images;
use crate::search::Search;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub sql_stats: SqlStats,
    pub search: Arc<Search>,
    pub auth: Auth,
    /// Image storage, limits, signed links and the access gate.
    pub images: Arc<Images>,
    /// The audit log's group-commit writer (every request's rows go through it).
    pub audit: crate::audit::AuditWriter,
    /// Cross-request cache (Redis or in-process) with write invalidation.
    pub cache: Cache,
    /// Whether the database answers (requests are refused at once while it does not).
    pub health: crate::db::Health,
    /// Whether the embedded database's disk is full (writes are refused while it is).
    pub space: crate::space::Space,
}
