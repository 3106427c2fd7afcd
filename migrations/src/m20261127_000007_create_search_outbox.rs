//! Outbox of changes the search index must apply, written in the same transaction as the change.
use sea_orm_migration::prelude::*;

use crate::timestamps;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000007_create_search_outbox"
    }
}

#[derive(DeriveIden)]
enum SearchOutbox {
    Table,
    Id,
    OrderId,
    PersonId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(SearchOutbox::Table)
            .col(
                ColumnDef::new(SearchOutbox::Id)
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(SearchOutbox::OrderId).integer().null())
            .col(ColumnDef::new(SearchOutbox::PersonId).integer().null());
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SearchOutbox::Table).to_owned())
            .await
    }
}
