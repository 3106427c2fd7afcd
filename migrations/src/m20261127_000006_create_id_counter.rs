//! Id blocks for SQLite batch inserts (PostgreSQL allocates from its sequences).
use sea_orm_migration::prelude::*;

use crate::timestamps;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000006_create_id_counter"
    }
}

#[derive(DeriveIden)]
enum IdCounter {
    Table,
    Name,
    NextValue,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(IdCounter::Table)
            .col(
                ColumnDef::new(IdCounter::Name)
                    .string_len(40)
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(IdCounter::NextValue)
                    .big_integer()
                    .not_null(),
            );
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await?;
        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(IdCounter::Table).columns([
            IdCounter::Name,
            IdCounter::NextValue,
            IdCounter::CreatedAt,
            IdCounter::UpdatedAt,
        ]);
        for name in ["person", "protective_order"] {
            insert.values_panic([name.into(), 1i64.into(), now.into(), now.into()]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdCounter::Table).to_owned())
            .await
    }
}
