//! Issuing courts: the 58 superior courts (one per county) and participating tribal courts.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "court")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Stable code: `SC` + alphabetical county number for superior courts, `TC` + number for tribal courts.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// `superior` or `tribal`.
    pub court_type: String,
    pub county: String,
    pub county_number: i32,
    pub fips: String,
    pub ori: String,
    /// `full`, `image_only` or `not_participating`.
    pub participation_mode: String,
    /// The agency (a sheriff) that keys this court's orders; `None`: the court keys its own.
    #[serde(default)]
    pub keyed_by_agency_id: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
