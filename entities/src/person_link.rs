//! Whether two person records are the same human: the current state of one pair (lower id
//! first). Every change is also appended to `person_link_event`; records are never merged.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "person_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The lower person id of the pair.
    pub person_a: i32,
    pub person_b: i32,
    /// `auto`, `proposed`, `confirmed` or `rejected`.
    pub state: String,
    /// Match score when the pair was found.
    pub score: f64,
    /// Why the records match, one reason per line.
    #[sea_orm(column_type = "Text")]
    pub reasons: String,
    /// Who confirmed or rejected it (null while automatic or proposed).
    pub decided_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
