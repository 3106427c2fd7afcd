//! Append-only history of a person link: found, confirmed, rejected, reversed.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "person_link_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub link_id: i32,
    /// Null for the event that created the link.
    pub from_state: Option<String>,
    pub to_state: String,
    pub score: f64,
    #[sea_orm(column_type = "Text")]
    pub reasons: String,
    /// `system` for automatic matching, else the token's user.
    pub actor: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub occurred_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
