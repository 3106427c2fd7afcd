//! A feed line refused outright (unreadable, invalid, another court's, a reused id): counted for
//! the court's feed status; the message id, when there was one, is not taken.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_rejection")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub court_id: i32,
    pub message_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub errors: String,
    pub received_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
