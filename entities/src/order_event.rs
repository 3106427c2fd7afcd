//! Append-only lifecycle history of an order.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    /// `issued`, `served`, `modified`, `renewed`, `terminated`, `cancelled`.
    pub kind: String,
    pub occurred_at: DateTimeUtc,
    /// The order on the other side of a modification or renewal.
    pub related_order_id: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub source: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
