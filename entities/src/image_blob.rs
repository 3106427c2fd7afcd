//! One stored image object, by content: the same scan uploaded twice is one row and one object.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "image_blob")]
pub struct Model {
    /// Lower-case hex SHA-256 of the content; also names the object in the store.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    /// `application/pdf`, `image/tiff`, `image/png` or `image/jpeg`, from the magic bytes.
    pub content_type: String,
    pub size: i64,
    pub pages: i32,
    /// SHA-256 of the first-page PNG preview (raster images only).
    pub preview_sha256: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
