//! Reads of images, each through the access gate and audited: the listing on an order, the
//! bytes, the preview.
use entities::{image_blob, order, order_image};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::error::{AppError, AppResult};
use crate::images::Images;
use crate::images::access::{AuditEvent, ReadPath, Requester};

/// Gate for `Order.images`: may `who` see the images of `o`? Audited.
pub async fn check_listing(
    db: &DatabaseConnection,
    images: &Images,
    who: &Requester,
    o: &order::Model,
) -> AppResult<()> {
    images
        .access
        .check_read(db, who, o, ReadPath::Listing)
        .await?;
    images
        .access
        .audit(db, who, AuditEvent::Listed { order_id: o.id })
        .await
}

/// An image about to be sent.
#[derive(Debug, Clone)]
pub struct Opened {
    pub image: order_image::Model,
    pub blob: image_blob::Model,
    pub order: order::Model,
}

/// Loads image `image_id` for `path` (download or preview), through the gate. Audited.
pub async fn open(
    db: &DatabaseConnection,
    images: &Images,
    who: &Requester,
    image_id: i32,
    path: ReadPath,
) -> AppResult<Opened> {
    let missing = || AppError::not_found("image");
    let image = order_image::Entity::find_by_id(image_id)
        .one(db)
        .await?
        .ok_or_else(missing)?;
    let blob = image_blob::Entity::find_by_id(image.blob_sha256.clone())
        .one(db)
        .await?
        .ok_or_else(missing)?;
    let order = order::Entity::find_by_id(image.order_id)
        .one(db)
        .await?
        .ok_or_else(missing)?;
    images.access.check_read(db, who, &order, path).await?;
    images
        .access
        .audit(
            db,
            who,
            AuditEvent::Read {
                image_id: image.id,
                order_id: order.id,
                path,
            },
        )
        .await?;
    Ok(Opened { image, blob, order })
}
