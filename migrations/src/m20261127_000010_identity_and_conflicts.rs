//! Person identity links across courts (current state per pair plus an append-only history) and
//! the conflicts found when orders were entered; at most one `expired` event per order.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000010_identity_and_conflicts"
    }
}

#[derive(DeriveIden)]
enum PersonLink {
    Table,
    Id,
    PersonA,
    PersonB,
    State,
    Score,
    Reasons,
    DecidedBy,
}

#[derive(DeriveIden)]
enum PersonLinkEvent {
    Table,
    Id,
    LinkId,
    FromState,
    ToState,
    Score,
    Reasons,
    Actor,
    Reason,
    OccurredAt,
}

#[derive(DeriveIden)]
enum OrderConflict {
    Table,
    Id,
    OrderId,
    OtherOrderId,
    Kinds,
    ControllingOrderId,
    Rule,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut link = Table::create();
        link.table(PersonLink::Table)
            .col(
                ColumnDef::new(PersonLink::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(PersonLink::PersonA).integer().not_null())
            .col(ColumnDef::new(PersonLink::PersonB).integer().not_null())
            .col(ColumnDef::new(PersonLink::State).string_len(16).not_null())
            .col(ColumnDef::new(PersonLink::Score).double().not_null())
            .col(ColumnDef::new(PersonLink::Reasons).text().not_null())
            .col(ColumnDef::new(PersonLink::DecidedBy).string_len(120).null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_person_link_a")
                    .from(PersonLink::Table, PersonLink::PersonA)
                    .to(Person::Table, Person::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_person_link_b")
                    .from(PersonLink::Table, PersonLink::PersonB)
                    .to(Person::Table, Person::Id),
            );
        manager
            .create_table(timestamps(&mut link).to_owned())
            .await?;
        let mut pair = index("person_link", &["person_a", "person_b"]);
        pair.unique();
        manager.create_index(pair).await?;
        manager
            .create_index(index("person_link", &["person_b"]))
            .await?;
        manager
            .create_index(index("person_link", &["state"]))
            .await?;

        let mut event = Table::create();
        event
            .table(PersonLinkEvent::Table)
            .col(
                ColumnDef::new(PersonLinkEvent::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(PersonLinkEvent::LinkId).integer().not_null())
            .col(
                ColumnDef::new(PersonLinkEvent::FromState)
                    .string_len(16)
                    .null(),
            )
            .col(
                ColumnDef::new(PersonLinkEvent::ToState)
                    .string_len(16)
                    .not_null(),
            )
            .col(ColumnDef::new(PersonLinkEvent::Score).double().not_null())
            .col(ColumnDef::new(PersonLinkEvent::Reasons).text().not_null())
            .col(
                ColumnDef::new(PersonLinkEvent::Actor)
                    .string_len(120)
                    .not_null(),
            )
            .col(ColumnDef::new(PersonLinkEvent::Reason).text().null())
            .col(
                ColumnDef::new(PersonLinkEvent::OccurredAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_person_link_event_link")
                    .from(PersonLinkEvent::Table, PersonLinkEvent::LinkId)
                    .to(PersonLink::Table, PersonLink::Id),
            );
        manager
            .create_table(timestamps(&mut event).to_owned())
            .await?;
        manager
            .create_index(index("person_link_event", &["link_id"]))
            .await?;

        let mut conflict = Table::create();
        conflict
            .table(OrderConflict::Table)
            .col(
                ColumnDef::new(OrderConflict::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(OrderConflict::OrderId).integer().not_null())
            .col(
                ColumnDef::new(OrderConflict::OtherOrderId)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(OrderConflict::Kinds)
                    .string_len(200)
                    .not_null(),
            )
            .col(
                ColumnDef::new(OrderConflict::ControllingOrderId)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(OrderConflict::Rule)
                    .string_len(32)
                    .not_null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_conflict_order")
                    .from(OrderConflict::Table, OrderConflict::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_conflict_other")
                    .from(OrderConflict::Table, OrderConflict::OtherOrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            );
        manager
            .create_table(timestamps(&mut conflict).to_owned())
            .await?;
        manager
            .create_index(index("order_conflict", &["order_id"]))
            .await?;

        // The expiry job may run on several instances; one `expired` event per order. Partial
        // indexes read the same on SQLite and PostgreSQL.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_order_event_one_expiry ON order_event (order_id) \
             WHERE kind = 'expired'",
        )
        .await?;
        manager
            .create_index(index("protective_order", &["expires_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_order_event_one_expiry")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_protective_order_expires_at")
                    .table(ProtectiveOrder::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(OrderConflict::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PersonLinkEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PersonLink::Table).to_owned())
            .await?;
        Ok(())
    }
}
