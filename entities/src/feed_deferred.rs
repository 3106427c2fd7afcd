//! A feed message waiting for its predecessor in `sequence`: one per place in a chain.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_deferred")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub message_row_id: i32,
    pub court_id: i32,
    pub external_id: String,
    pub sequence: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
