//! Order images: stored objects (one row per distinct content, keyed by SHA-256) and the images
//! attached to orders; and the image-only mark on orders registered by image alone.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000008_create_order_images"
    }
}

#[derive(DeriveIden)]
enum ImageBlob {
    Table,
    Sha256,
    ContentType,
    Size,
    Pages,
    PreviewSha256,
}

#[derive(DeriveIden)]
enum OrderImage {
    Table,
    Id,
    OrderId,
    BlobSha256,
    Kind,
    Filename,
    UploadedBy,
    UploadedAt,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
    ImageOnly,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut blob = Table::create();
        blob.table(ImageBlob::Table)
            .col(
                ColumnDef::new(ImageBlob::Sha256)
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(ImageBlob::ContentType)
                    .string_len(32)
                    .not_null(),
            )
            .col(ColumnDef::new(ImageBlob::Size).big_integer().not_null())
            .col(ColumnDef::new(ImageBlob::Pages).integer().not_null())
            .col(
                ColumnDef::new(ImageBlob::PreviewSha256)
                    .string_len(64)
                    .null(),
            );
        manager
            .create_table(timestamps(&mut blob).to_owned())
            .await?;

        let mut image = Table::create();
        image
            .table(OrderImage::Table)
            .col(
                ColumnDef::new(OrderImage::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(OrderImage::OrderId).integer().not_null())
            .col(
                ColumnDef::new(OrderImage::BlobSha256)
                    .string_len(64)
                    .not_null(),
            )
            .col(ColumnDef::new(OrderImage::Kind).string_len(24).not_null())
            .col(ColumnDef::new(OrderImage::Filename).string_len(200).null())
            .col(
                ColumnDef::new(OrderImage::UploadedBy)
                    .string_len(120)
                    .not_null(),
            )
            .col(
                ColumnDef::new(OrderImage::UploadedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_image_order")
                    .from(OrderImage::Table, OrderImage::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_image_blob")
                    .from(OrderImage::Table, OrderImage::BlobSha256)
                    .to(ImageBlob::Table, ImageBlob::Sha256),
            );
        manager
            .create_table(timestamps(&mut image).to_owned())
            .await?;
        // One attachment per order, content and kind: a retried upload finds the first one.
        manager
            .create_index(
                index("order_image", &["order_id", "blob_sha256", "kind"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("order_image", &["blob_sha256"]))
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(ProtectiveOrder::Table)
                    .add_column(
                        ColumnDef::new(ProtectiveOrder::ImageOnly)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ProtectiveOrder::Table)
                    .drop_column(ProtectiveOrder::ImageOnly)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrderImage::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ImageBlob::Table).to_owned())
            .await
    }
}
