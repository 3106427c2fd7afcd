//! Order lifecycle events and service records.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000005_create_order_history"
    }
}

#[derive(DeriveIden)]
enum OrderEvent {
    Table,
    Id,
    OrderId,
    Kind,
    OccurredAt,
    RelatedOrderId,
    Reason,
    Source,
}

#[derive(DeriveIden)]
enum ServiceRecord {
    Table,
    Id,
    OrderId,
    ServedAt,
    Method,
    ServerName,
    AgencyId,
    Notes,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Agency {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut event = Table::create();
        event
            .table(OrderEvent::Table)
            .col(
                ColumnDef::new(OrderEvent::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(OrderEvent::OrderId).integer().not_null())
            .col(ColumnDef::new(OrderEvent::Kind).string_len(16).not_null())
            .col(
                ColumnDef::new(OrderEvent::OccurredAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(ColumnDef::new(OrderEvent::RelatedOrderId).integer().null())
            .col(ColumnDef::new(OrderEvent::Reason).text().null())
            .col(ColumnDef::new(OrderEvent::Source).string_len(8).not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_event_order")
                    .from(OrderEvent::Table, OrderEvent::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_order_event_related")
                    .from(OrderEvent::Table, OrderEvent::RelatedOrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            );
        manager
            .create_table(timestamps(&mut event).to_owned())
            .await?;
        manager
            .create_index(index("order_event", &["order_id", "occurred_at"]))
            .await?;

        let mut service = Table::create();
        service
            .table(ServiceRecord::Table)
            .col(
                ColumnDef::new(ServiceRecord::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(ServiceRecord::OrderId).integer().not_null())
            .col(
                ColumnDef::new(ServiceRecord::ServedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new(ServiceRecord::Method)
                    .string_len(16)
                    .not_null(),
            )
            .col(
                ColumnDef::new(ServiceRecord::ServerName)
                    .string_len(120)
                    .null(),
            )
            .col(ColumnDef::new(ServiceRecord::AgencyId).integer().null())
            .col(ColumnDef::new(ServiceRecord::Notes).text().null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_service_record_order")
                    .from(ServiceRecord::Table, ServiceRecord::OrderId)
                    .to(ProtectiveOrder::Table, ProtectiveOrder::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_service_record_agency")
                    .from(ServiceRecord::Table, ServiceRecord::AgencyId)
                    .to(Agency::Table, Agency::Id),
            );
        manager
            .create_table(timestamps(&mut service).to_owned())
            .await?;
        manager
            .create_index(index("service_record", &["order_id", "served_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceRecord::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrderEvent::Table).to_owned())
            .await
    }
}
