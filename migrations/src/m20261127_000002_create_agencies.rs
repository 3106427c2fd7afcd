//! Law-enforcement agencies, seeded with each county's sheriff and the CHP.
use sea_orm_migration::prelude::*;

use crate::seed_data::COUNTIES;
use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000002_create_agencies"
    }
}

// Variants spell the column names, one of which repeats the table name.
#[expect(
    clippy::enum_variant_names,
    reason = "SeaQuery idens name the table and its columns"
)]
#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
    Ori,
    Name,
    AgencyType,
    County,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Agency::Table)
            .col(
                ColumnDef::new(Agency::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(Agency::Ori)
                    .string_len(9)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Agency::Name).string_len(200).not_null())
            .col(ColumnDef::new(Agency::AgencyType).string_len(16).not_null())
            .col(ColumnDef::new(Agency::County).string_len(40).null());
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await?;
        manager.create_index(index("agency", &["county"])).await?;

        let now = chrono::Utc::now();
        let mut insert = Query::insert();
        insert.into_table(Agency::Table).columns([
            Agency::Ori,
            Agency::Name,
            Agency::AgencyType,
            Agency::County,
            Agency::CreatedAt,
            Agency::UpdatedAt,
        ]);
        for c in COUNTIES {
            let name = if c.name == "San Francisco" {
                "San Francisco Sheriff's Office".to_owned()
            } else {
                format!("{} County Sheriff's Office", c.name)
            };
            insert.values_panic([
                format!("CA{:03}0000", c.number).into(),
                name.into(),
                "sheriff".into(),
                Some(c.name).into(),
                now.into(),
                now.into(),
            ]);
        }
        insert.values_panic([
            "CA0349400".into(),
            "California Highway Patrol".into(),
            "state".into(),
            Option::<&str>::None.into(),
            now.into(),
            now.into(),
        ]);
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Agency::Table).to_owned())
            .await
    }
}
