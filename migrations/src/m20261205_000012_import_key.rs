//! One row per imported NDJSON line that was stored, keyed by the SHA-256 of the line: a
//! re-run of an import (after a crash, or by mistake) finds its lines here and stores none twice.
//! The key is written in the same transaction as its order, so a batch is there with its keys or
//! not at all.
use sea_orm_migration::prelude::*;

use crate::timestamps;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000012_import_key"
    }
}

#[derive(DeriveIden)]
enum ImportKey {
    Table,
    Key,
    OrderId,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(ImportKey::Table)
            // Lower-case hex of the SHA-256 (its 32 bytes since
            // `m20261207_000019_import_key_binary`); the primary key is the UNIQUE constraint.
            .col(
                ColumnDef::new(ImportKey::Key)
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new(ImportKey::OrderId).integer().not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_import_key_order")
                    .from(ImportKey::Table, ImportKey::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportKey::Table).to_owned())
            .await
    }
}
