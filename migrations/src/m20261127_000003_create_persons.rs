//! Persons (and organizations) and their aliases.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_create_persons"
    }
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    PartyType,
    LastName,
    FirstName,
    MiddleName,
    Suffix,
    OrganizationName,
    NameKey,
    Dob,
    EstimatedAge,
    Sex,
    Race,
    HeightInches,
    WeightPounds,
    Hair,
    Eye,
    DlNumber,
    DlState,
}

#[derive(DeriveIden)]
enum PersonAlias {
    Table,
    Id,
    PersonId,
    LastName,
    FirstName,
    MiddleName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut person = Table::create();
        person
            .table(Person::Table)
            .col(
                ColumnDef::new(Person::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(Person::PartyType).string_len(16).not_null())
            .col(ColumnDef::new(Person::LastName).string_len(100).null())
            .col(ColumnDef::new(Person::FirstName).string_len(100).null())
            .col(ColumnDef::new(Person::MiddleName).string_len(100).null())
            .col(ColumnDef::new(Person::Suffix).string_len(10).null())
            .col(
                ColumnDef::new(Person::OrganizationName)
                    .string_len(200)
                    .null(),
            )
            .col(ColumnDef::new(Person::NameKey).string_len(250).not_null())
            .col(ColumnDef::new(Person::Dob).date().null())
            .col(ColumnDef::new(Person::EstimatedAge).integer().null())
            .col(ColumnDef::new(Person::Sex).string_len(1).null())
            .col(ColumnDef::new(Person::Race).string_len(1).null())
            .col(ColumnDef::new(Person::HeightInches).integer().null())
            .col(ColumnDef::new(Person::WeightPounds).integer().null())
            .col(ColumnDef::new(Person::Hair).string_len(3).null())
            .col(ColumnDef::new(Person::Eye).string_len(3).null())
            .col(ColumnDef::new(Person::DlNumber).string_len(20).null())
            .col(ColumnDef::new(Person::DlState).string_len(2).null());
        manager
            .create_table(timestamps(&mut person).to_owned())
            .await?;
        manager.create_index(index("person", &["name_key"])).await?;
        manager.create_index(index("person", &["dob"])).await?;

        let mut alias = Table::create();
        alias
            .table(PersonAlias::Table)
            .col(
                ColumnDef::new(PersonAlias::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(PersonAlias::PersonId).integer().not_null())
            .col(
                ColumnDef::new(PersonAlias::LastName)
                    .string_len(100)
                    .not_null(),
            )
            .col(
                ColumnDef::new(PersonAlias::FirstName)
                    .string_len(100)
                    .null(),
            )
            .col(
                ColumnDef::new(PersonAlias::MiddleName)
                    .string_len(100)
                    .null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_person_alias_person")
                    .from(PersonAlias::Table, PersonAlias::PersonId)
                    .to(Person::Table, Person::Id),
            );
        manager
            .create_table(timestamps(&mut alias).to_owned())
            .await?;
        manager
            .create_index(index("person_alias", &["person_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonAlias::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Person::Table).to_owned())
            .await
    }
}
