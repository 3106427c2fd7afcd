//! A message a court's case-management system sent (or an import line in the message form): the
//! content's SHA-256 tells a resend from a reused id; unique per court and `message_id`.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub court_id: i32,
    pub message_id: String,
    pub content_hash: String,
    pub external_id: String,
    pub sequence: i64,
    /// `issue`, `modify`, `renew`, `serve`, `terminate` or `cancel`.
    pub action: String,
    /// `accepted`, `deferred` or `rejected` (a deferred message that failed when applied).
    pub status: String,
    pub order_id: Option<i32>,
    /// `feed` or `import`.
    pub channel: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub errors: Option<String>,
    pub received_at: DateTimeUtc,
    pub applied_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
