//! A revoked biscuit block: every token carrying this revocation id is refused.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "revoked_token")]
pub struct Model {
    /// Hex of the block's revocation identifier.
    #[sea_orm(primary_key, auto_increment = false)]
    pub revocation_id: String,
    pub revoked_at: DateTimeUtc,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
