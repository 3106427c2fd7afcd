//! An image attached to an order (the order itself, proof of service, attachment, terminating
//! order), pointing at its stored content.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_image")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub order_id: i32,
    pub blob_sha256: String,
    /// `order`, `proof_of_service`, `attachment` or `terminating_order`.
    pub kind: String,
    /// As sent by the client; only for the download's file name.
    pub filename: Option<String>,
    pub uploaded_by: String,
    pub uploaded_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
