//! Courts, seeded with the 58 superior courts and the tribal courts.
use sea_orm_migration::prelude::*;

use crate::seed_data::{COUNTIES, TRIBAL_COURTS, county};
use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_create_courts"
    }
}

// Variants spell the column names, one of which repeats the table name.
#[expect(
    clippy::enum_variant_names,
    reason = "SeaQuery idens name the table and its columns"
)]
#[derive(DeriveIden)]
enum Court {
    Table,
    Id,
    Code,
    Name,
    CourtType,
    County,
    CountyNumber,
    Fips,
    Ori,
    ParticipationMode,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Court::Table)
            .col(
                ColumnDef::new(Court::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Court::Code)
                    .string_len(8)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Court::Name).string_len(200).not_null())
            .col(ColumnDef::new(Court::CourtType).string_len(16).not_null())
            .col(ColumnDef::new(Court::County).string_len(40).not_null())
            .col(ColumnDef::new(Court::CountyNumber).integer().not_null())
            .col(ColumnDef::new(Court::Fips).string_len(5).not_null())
            .col(ColumnDef::new(Court::Ori).string_len(9).not_null())
            .col(
                ColumnDef::new(Court::ParticipationMode)
                    .string_len(20)
                    .not_null(),
            );
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await?;
        manager
            .create_index(index("court", &["county_number"]))
            .await?;

        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(Court::Table).columns([
            Court::Code,
            Court::Name,
            Court::CourtType,
            Court::County,
            Court::CountyNumber,
            Court::Fips,
            Court::Ori,
            Court::ParticipationMode,
            Court::CreatedAt,
            Court::UpdatedAt,
        ]);
        for c in COUNTIES {
            insert.values_panic([
                format!("SC{:02}", c.number).into(),
                format!("Superior Court of California, County of {}", c.name).into(),
                "superior".into(),
                c.name.into(),
                c.number.into(),
                c.fips.into(),
                // ORI-style identifier: CA + 3-digit county + court suffix
                // (docs/law/ncic.md#ori ⚠️).
                format!("CA{:03}015J", c.number).into(),
                "full".into(),
                now.into(),
                now.into(),
            ]);
        }
        for t in TRIBAL_COURTS {
            let Some(c) = county(t.county_number) else {
                return Err(DbErr::Migration(format!("unknown county for {}", t.name)));
            };
            insert.values_panic([
                format!("TC{:02}", t.number).into(),
                t.name.into(),
                "tribal".into(),
                c.name.into(),
                c.number.into(),
                c.fips.into(),
                format!("CA{:03}9{:02}J", c.number, t.number).into(),
                "full".into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Court::Table).to_owned())
            .await
    }
}
