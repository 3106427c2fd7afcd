//! The CARPOS outbox: one row per message the registry owes DOJ (Fam. Code 6380(a)), written in
//! the same transaction as the lifecycle event that makes it, then leased, sent and acknowledged
//! by the transmitter of any server instance. `seq` orders one chain's messages (a CARPOS record
//! is a chain: entry, then modifications, then clear); the idempotency key makes a re-send after
//! a lost answer harmless at the peer.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000013_carpos_transmissions"
    }
}

#[derive(DeriveIden)]
enum CarposTransmission {
    Table,
    Id,
    OrderId,
    ChainRootId,
    Seq,
    Trigger,
    MessageKey,
    PersonId,
    IdempotencyKey,
    State,
    Attempts,
    Fcn,
    Error,
    MissingFields,
    QueuedAt,
    SentAt,
    AcknowledgedAt,
    NextAttemptAt,
    DueBy,
    LeaseOwner,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
}

const TABLE: &str = "carpos_transmission";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CarposTransmission as T;
        let mut table = Table::create();
        table
            .table(T::Table)
            .col(
                ColumnDef::new(T::Id)
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(T::OrderId).integer().not_null())
            .col(ColumnDef::new(T::ChainRootId).integer().not_null())
            .col(ColumnDef::new(T::Seq).integer().not_null())
            .col(ColumnDef::new(T::Trigger).string_len(32).not_null())
            .col(ColumnDef::new(T::MessageKey).string_len(8).not_null())
            .col(ColumnDef::new(T::PersonId).integer().null())
            .col(
                ColumnDef::new(T::IdempotencyKey)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(T::State).string_len(20).not_null())
            .col(ColumnDef::new(T::Attempts).integer().not_null().default(0))
            .col(ColumnDef::new(T::Fcn).string_len(13).null())
            .col(ColumnDef::new(T::Error).text().null())
            .col(ColumnDef::new(T::MissingFields).text().null())
            .col(
                ColumnDef::new(T::QueuedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(ColumnDef::new(T::SentAt).timestamp_with_time_zone().null())
            .col(
                ColumnDef::new(T::AcknowledgedAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .col(
                ColumnDef::new(T::NextAttemptAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new(T::DueBy)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(ColumnDef::new(T::LeaseOwner).string_len(64).null())
            .col(
                ColumnDef::new(T::LeaseUntil)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_carpos_transmission_order")
                    .from(T::Table, T::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager
            .create_table(timestamps(&mut table).to_owned())
            .await?;
        // One chain's messages are numbered 1, 2, … : two writers racing on a chain cannot
        // both take the same number.
        let mut seq = index(TABLE, &["chain_root_id", "seq"]);
        seq.unique();
        manager.create_index(seq).await?;
        manager
            .create_index(index(TABLE, &["state", "next_attempt_at"]))
            .await?;
        manager.create_index(index(TABLE, &["order_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CarposTransmission::Table).to_owned())
            .await
    }
}
