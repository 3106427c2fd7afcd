//! Access control and audit: revoked tokens, the hash-chained audit log and its head, and the
//! confidential contact fields of persons (CLETS-001 class, CRC 1.51; minors, Fam. Code 6301.5).
use sea_orm_migration::prelude::*;

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000009_access_and_audit"
    }
}

#[derive(DeriveIden)]
enum RevokedToken {
    Table,
    RevocationId,
    RevokedAt,
    Reason,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Seq,
    OccurredAt,
    Event,
    UserId,
    Role,
    Court,
    AgencyOri,
    Operation,
    ObjectIds,
    Fields,
    ClientAddr,
    RequestId,
    Outcome,
    Detail,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditHead {
    Table,
    Id,
    LastSeq,
    LastHash,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Address,
    Phone,
    Confidential,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedToken::Table)
                    .col(
                        ColumnDef::new(RevokedToken::RevocationId)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(RevokedToken::RevokedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(RevokedToken::Reason).string().null())
                    .to_owned(),
            )
            .await?;
        // The sequence number is assigned under the head row's lock, so it has no gaps: a missing
        // number is a deleted row.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(
                        ColumnDef::new(AuditEvent::Seq)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditEvent::OccurredAt).string().not_null())
                    .col(ColumnDef::new(AuditEvent::Event).string().not_null())
                    .col(ColumnDef::new(AuditEvent::UserId).string().null())
                    .col(ColumnDef::new(AuditEvent::Role).string().null())
                    .col(ColumnDef::new(AuditEvent::Court).string().null())
                    .col(ColumnDef::new(AuditEvent::AgencyOri).string().null())
                    .col(ColumnDef::new(AuditEvent::Operation).string().null())
                    .col(ColumnDef::new(AuditEvent::ObjectIds).text().not_null())
                    .col(ColumnDef::new(AuditEvent::Fields).text().not_null())
                    .col(ColumnDef::new(AuditEvent::ClientAddr).string().null())
                    .col(ColumnDef::new(AuditEvent::RequestId).string().null())
                    .col(ColumnDef::new(AuditEvent::Outcome).string().not_null())
                    .col(ColumnDef::new(AuditEvent::Detail).text().null())
                    .col(ColumnDef::new(AuditEvent::PrevHash).string().not_null())
                    .col(ColumnDef::new(AuditEvent::Hash).string().not_null())
                    .to_owned(),
            )
            .await?;
        // Append-only at the database too (CJIS AU-9): updates and deletes are refused.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event \
                     FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
                )
                .await?;
            }
            _ => {
                for op in ["UPDATE", "DELETE"] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER audit_event_no_{} BEFORE {op} ON audit_event \
                         BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
                        op.to_ascii_lowercase()
                    ))
                    .await?;
                }
            }
        }
        for cols in [&["occurred_at"][..], &["user_id"], &["outcome"], &["event"]] {
            manager.create_index(index("audit_event", cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(
                        ColumnDef::new(AuditHead::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditHead::LastSeq).big_integer().not_null())
                    .col(ColumnDef::new(AuditHead::LastHash).string().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::LastSeq, AuditHead::LastHash])
                    .values_panic([1.into(), 0i64.into(), GENESIS.into()])
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER.
        for col in [
            ColumnDef::new(Person::Address).string().null().to_owned(),
            ColumnDef::new(Person::Phone).string().null().to_owned(),
            ColumnDef::new(Person::Confidential)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Person::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [Person::Address, Person::Phone, Person::Confidential] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Person::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table(AuditHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RevokedToken::Table).to_owned())
            .await
    }
}

/// The `prev_hash` of the first audit row: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
