//! Protective orders and their parties.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000004_create_orders"
    }
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
    CourtId,
    CaseNumber,
    CaseNumberKey,
    Family,
    FormNumber,
    Kind,
    IssuedAt,
    HearingDate,
    ExpiresAt,
    JudicialOfficer,
    PcoCodes,
    ContactLevel,
    StayAwayYards,
    MoveOut,
    FirearmRelinquishment,
    FirearmDueAt,
    BradyIndicator,
    SpecialConditions,
    Notes,
    Source,
    EnteredByCourtId,
    EnteredByAgencyId,
    SupersedesOrderId,
    ChainRootId,
    SupersededAt,
    TerminatedAt,
    CancelledAt,
}

#[derive(DeriveIden)]
enum OrderParty {
    Table,
    Id,
    OrderId,
    PersonId,
    Role,
    Relationship,
}

#[derive(DeriveIden)]
enum Court {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ProtectiveOrder as O;
        let mut order = Table::create();
        order
            .table(O::Table)
            .col(
                ColumnDef::new(O::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(O::CourtId).integer().not_null())
            .col(ColumnDef::new(O::CaseNumber).string_len(40).not_null())
            .col(ColumnDef::new(O::CaseNumberKey).string_len(40).not_null())
            .col(ColumnDef::new(O::Family).string_len(16).not_null())
            .col(ColumnDef::new(O::FormNumber).string_len(12).not_null())
            .col(ColumnDef::new(O::Kind).string_len(16).not_null())
            .col(
                ColumnDef::new(O::IssuedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(ColumnDef::new(O::HearingDate).date().null())
            .col(
                ColumnDef::new(O::ExpiresAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(ColumnDef::new(O::JudicialOfficer).string_len(120).null())
            .col(ColumnDef::new(O::PcoCodes).string_len(40).not_null())
            .col(ColumnDef::new(O::ContactLevel).string_len(20).not_null())
            .col(ColumnDef::new(O::StayAwayYards).integer().null())
            .col(ColumnDef::new(O::MoveOut).boolean().not_null())
            .col(
                ColumnDef::new(O::FirearmRelinquishment)
                    .boolean()
                    .not_null(),
            )
            .col(
                ColumnDef::new(O::FirearmDueAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(ColumnDef::new(O::BradyIndicator).string_len(1).not_null())
            .col(ColumnDef::new(O::SpecialConditions).text().null())
            .col(ColumnDef::new(O::Notes).text().null())
            .col(ColumnDef::new(O::Source).string_len(8).not_null())
            .col(ColumnDef::new(O::EnteredByCourtId).integer().null())
            .col(ColumnDef::new(O::EnteredByAgencyId).integer().null())
            .col(ColumnDef::new(O::SupersedesOrderId).integer().null())
            .col(ColumnDef::new(O::ChainRootId).integer().not_null())
            .col(
                ColumnDef::new(O::SupersededAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(
                ColumnDef::new(O::TerminatedAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(
                ColumnDef::new(O::CancelledAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_court")
                    .from(O::Table, O::CourtId)
                    .to(Court::Table, Court::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_entered_by_court")
                    .from(O::Table, O::EnteredByCourtId)
                    .to(Court::Table, Court::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_entered_by_agency")
                    .from(O::Table, O::EnteredByAgencyId)
                    .to(Agency::Table, Agency::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_supersedes")
                    .from(O::Table, O::SupersedesOrderId)
                    .to(O::Table, O::Id),
            );
        manager
            .create_table(timestamps(&mut order).to_owned())
            .await?;
        for cols in [
            &["case_number_key"][..],
            &["court_id", "case_number_key"],
            &["issued_at", "id"],
            &["supersedes_order_id"],
            &["chain_root_id"],
            &["family"],
        ] {
            manager
                .create_index(index("protective_order", cols))
                .await?;
        }

        let mut party = Table::create();
        party
            .table(OrderParty::Table)
            .col(
                ColumnDef::new(OrderParty::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(OrderParty::OrderId).integer().not_null())
            .col(ColumnDef::new(OrderParty::PersonId).integer().not_null())
            .col(ColumnDef::new(OrderParty::Role).string_len(24).not_null())
            .col(
                ColumnDef::new(OrderParty::Relationship)
                    .string_len(80)
                    .null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_party_order")
                    .from(OrderParty::Table, OrderParty::OrderId)
                    .to(O::Table, O::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_party_person")
                    .from(OrderParty::Table, OrderParty::PersonId)
                    .to(Person::Table, Person::Id),
            );
        manager
            .create_table(timestamps(&mut party).to_owned())
            .await?;
        manager
            .create_index(index("order_party", &["order_id"]))
            .await?;
        manager
            .create_index(index("order_party", &["person_id", "order_id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderParty::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProtectiveOrder::Table).to_owned())
            .await
    }
}
