//! A conflict found when an order was entered: the other order, what conflicts and which order
//! controls enforcement. Informational; it never blocks an order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_conflict")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub other_order_id: i32,
    /// Conflict kinds, comma separated (`contact_level,mutual`).
    pub kinds: String,
    pub controlling_order_id: i32,
    /// The precedence rule applied (`epo`, `no_contact`, …).
    pub rule: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
