//! The identity a person record belongs to, when it is joined to others by `auto` or `confirmed`
//! links: its root is the identity's lowest record id. Derived from `person_link` and kept with
//! it; a record without a row is an identity of its own.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_identity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub person_id: i32,
    pub root_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
