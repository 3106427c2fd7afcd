//! The order chain a court's `external_id` names, its current order and the last `sequence`
//! applied to it.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_chain")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub court_id: i32,
    pub external_id: String,
    pub chain_root_id: i32,
    pub head_order_id: i32,
    pub last_sequence: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
