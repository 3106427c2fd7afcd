//! Court case-management feeds (issue 24): the messages a court's system sent (unique per court
//! and `messageId`, with the SHA-256 of their content, so a resent message is recognised and a
//! reused id with other content refused), the order chain each `(court, externalId)` names, the
//! messages waiting for a predecessor in `sequence`, and the lines refused. Also: who keys a
//! court's orders (the court, or a sheriff's agency) and the channel an order came by.
//!
//! Every uniqueness the feed relies on is a constraint, not a read-then-write: two servers
//! receiving the same message at once store it once.
use sea_orm_migration::prelude::*;

use crate::{index, timestamps};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000014_feeds"
    }
}

#[derive(DeriveIden)]
enum FeedMessage {
    Table,
    Id,
    CourtId,
    MessageId,
    ContentHash,
    ExternalId,
    Sequence,
    Action,
    Status,
    OrderId,
    Channel,
    Body,
    Errors,
    ReceivedAt,
    AppliedAt,
}

#[derive(DeriveIden)]
enum FeedChain {
    Table,
    Id,
    CourtId,
    ExternalId,
    ChainRootId,
    HeadOrderId,
    LastSequence,
}

#[derive(DeriveIden)]
enum FeedDeferred {
    Table,
    MessageRowId,
    CourtId,
    ExternalId,
    Sequence,
}

#[derive(DeriveIden)]
enum FeedRejection {
    Table,
    Id,
    CourtId,
    MessageId,
    Errors,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Court {
    Table,
    Id,
    KeyedByAgencyId,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
    EntryChannel,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut message = Table::create();
        message
            .table(FeedMessage::Table)
            .col(
                ColumnDef::new(FeedMessage::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(FeedMessage::CourtId).integer().not_null())
            .col(
                ColumnDef::new(FeedMessage::MessageId)
                    .string_len(128)
                    .not_null(),
            )
            // Lower-case hex SHA-256 of the message line, trimmed.
            .col(
                ColumnDef::new(FeedMessage::ContentHash)
                    .string_len(64)
                    .not_null(),
            )
            .col(
                ColumnDef::new(FeedMessage::ExternalId)
                    .string_len(128)
                    .not_null(),
            )
            .col(
                ColumnDef::new(FeedMessage::Sequence)
                    .big_integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(FeedMessage::Action)
                    .string_len(16)
                    .not_null(),
            )
            // `accepted`, `deferred`, or `rejected` (a deferred message that failed when applied).
            .col(
                ColumnDef::new(FeedMessage::Status)
                    .string_len(16)
                    .not_null(),
            )
            .col(ColumnDef::new(FeedMessage::OrderId).integer().null())
            // `feed` or `import`.
            .col(
                ColumnDef::new(FeedMessage::Channel)
                    .string_len(16)
                    .not_null(),
            )
            // The line, kept while the message waits for its predecessor.
            .col(ColumnDef::new(FeedMessage::Body).text().null())
            .col(ColumnDef::new(FeedMessage::Errors).text().null())
            .col(
                ColumnDef::new(FeedMessage::ReceivedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new(FeedMessage::AppliedAt)
                    .timestamp_with_time_zone()
                    .null(),
            )
            .foreign_key(&mut fk(
                "fk_feed_message_court",
                (FeedMessage::Table, FeedMessage::CourtId),
                (Court::Table, Court::Id),
            ))
            .foreign_key(&mut fk(
                "fk_feed_message_order",
                (FeedMessage::Table, FeedMessage::OrderId),
                (ProtectiveOrder::Table, ProtectiveOrder::Id),
            ));
        manager
            .create_table(timestamps(&mut message).to_owned())
            .await?;
        manager
            .create_index(
                index("feed_message", &["court_id", "message_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("feed_message", &["court_id", "received_at"]))
            .await?;
        manager
            .create_index(index("feed_message", &["order_id"]))
            .await?;

        let mut chain = Table::create();
        chain
            .table(FeedChain::Table)
            .col(
                ColumnDef::new(FeedChain::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(FeedChain::CourtId).integer().not_null())
            .col(
                ColumnDef::new(FeedChain::ExternalId)
                    .string_len(128)
                    .not_null(),
            )
            .col(ColumnDef::new(FeedChain::ChainRootId).integer().not_null())
            .col(ColumnDef::new(FeedChain::HeadOrderId).integer().not_null())
            .col(
                ColumnDef::new(FeedChain::LastSequence)
                    .big_integer()
                    .not_null(),
            )
            .foreign_key(&mut fk(
                "fk_feed_chain_court",
                (FeedChain::Table, FeedChain::CourtId),
                (Court::Table, Court::Id),
            ))
            .foreign_key(&mut fk(
                "fk_feed_chain_root",
                (FeedChain::Table, FeedChain::ChainRootId),
                (ProtectiveOrder::Table, ProtectiveOrder::Id),
            ));
        manager
            .create_table(timestamps(&mut chain).to_owned())
            .await?;
        manager
            .create_index(
                index("feed_chain", &["court_id", "external_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("feed_chain", &["chain_root_id"]))
            .await?;

        let mut deferred = Table::create();
        deferred
            .table(FeedDeferred::Table)
            .col(
                ColumnDef::new(FeedDeferred::MessageRowId)
                    .integer()
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new(FeedDeferred::CourtId).integer().not_null())
            .col(
                ColumnDef::new(FeedDeferred::ExternalId)
                    .string_len(128)
                    .not_null(),
            )
            .col(
                ColumnDef::new(FeedDeferred::Sequence)
                    .big_integer()
                    .not_null(),
            )
            .foreign_key(&mut fk(
                "fk_feed_deferred_message",
                (FeedDeferred::Table, FeedDeferred::MessageRowId),
                (FeedMessage::Table, FeedMessage::Id),
            ));
        manager
            .create_table(timestamps(&mut deferred).to_owned())
            .await?;
        // One waiting message per place in a chain.
        manager
            .create_index(
                index("feed_deferred", &["court_id", "external_id", "sequence"])
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut rejection = Table::create();
        rejection
            .table(FeedRejection::Table)
            .col(
                ColumnDef::new(FeedRejection::Id)
                    .integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new(FeedRejection::CourtId).integer().not_null())
            .col(
                ColumnDef::new(FeedRejection::MessageId)
                    .string_len(128)
                    .null(),
            )
            .col(ColumnDef::new(FeedRejection::Errors).text().not_null())
            .col(
                ColumnDef::new(FeedRejection::ReceivedAt)
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(&mut fk(
                "fk_feed_rejection_court",
                (FeedRejection::Table, FeedRejection::CourtId),
                (Court::Table, Court::Id),
            ));
        manager
            .create_table(timestamps(&mut rejection).to_owned())
            .await?;
        manager
            .create_index(index("feed_rejection", &["court_id", "received_at"]))
            .await?;

        // Who keys the court's orders: null, the court itself; else the agency (a sheriff).
        manager
            .alter_table(
                Table::alter()
                    .table(Court::Table)
                    .add_column(ColumnDef::new(Court::KeyedByAgencyId).integer().null())
                    .to_owned(),
            )
            .await?;
        // How an order came in: `graphql` (null on orders stored before), `feed`, `import`,
        // `demo`.
        manager
            .alter_table(
                Table::alter()
                    .table(ProtectiveOrder::Table)
                    .add_column(
                        ColumnDef::new(ProtectiveOrder::EntryChannel)
                            .string_len(16)
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            FeedDeferred::Table.into_iden(),
            FeedRejection::Table.into_iden(),
            FeedChain::Table.into_iden(),
            FeedMessage::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(ProtectiveOrder::Table)
                    .drop_column(ProtectiveOrder::EntryChannel)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Court::Table)
                    .drop_column(Court::KeyedByAgencyId)
                    .to_owned(),
            )
            .await
    }
}
