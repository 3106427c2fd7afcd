//! When a person's CLETS-001 data (address, telephone, driver's licence) was purged after CARPOS
//! acknowledged the entry that carried it (CRC 1.51(e): the court enters the data into CLETS, then
//! promptly destroys it). Null while the registry still holds what it was given.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000014_clets_purged"
    }
}

#[derive(DeriveIden)]
enum Person {
    Table,
    CletsPurgedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .add_column(
                        ColumnDef::new(Person::CletsPurgedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Person::Table)
                    .drop_column(Person::CletsPurgedAt)
                    .to_owned(),
            )
            .await
    }
}
