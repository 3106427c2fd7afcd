//! One append-only audit record; `hash` covers every other column and `prev_hash`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    /// 1, 2, 3, … without gaps.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    /// RFC 3339 UTC with microseconds, stored as text so the hash is the same on every backend.
    pub occurred_at: String,
    /// `graphql.query`, `graphql.mutation`, `auth.failed`, `image.read`, …
    pub event: String,
    pub user_id: Option<String>,
    pub role: Option<String>,
    pub court: Option<String>,
    pub agency_ori: Option<String>,
    /// Operation name and root fields.
    pub operation: Option<String>,
    /// JSON array of global ids of the persons, orders and images touched.
    pub object_ids: String,
    /// JSON array of confidential fields requested.
    pub fields: String,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: String,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
