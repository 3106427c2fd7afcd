//! The transmitter's lease finds due messages through an index of the unfinished ones only.
//! Its query (`carpos::transmitter::lease_sql`) asks for the oldest rows by id among the queued,
//! retrying and sent ones. Without this index, at 800,000 acknowledged and 200,000 queued rows,
//! PostgreSQL walked the primary key through every acknowledged row (215 ms a lease) and SQLite
//! read every due row through the (state, next_attempt_at) index and sorted them (104 ms): a cost
//! that grows with the history, or with a bulk load's queue, on every pass. A partial index holds
//! only the rows not yet finished, in id order, so a pass reads about as many entries as it
//! leases (14 ms and 3 ms). Its `WHERE` repeats the query's condition word for word, which is
//! how SQLite knows it may use a partial index (the query names it with `INDEXED BY`).
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000017_carpos_due_index"
    }
}

/// The index's name (a test of the lease's plan in `carpos::transmitter` names it too).
const DUE_INDEX: &str = "idx_carpos_transmission_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {DUE_INDEX} ON carpos_transmission (id) \
                 WHERE state IN ('queued', 'retrying', 'sent')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("DROP INDEX IF EXISTS {DUE_INDEX}"))
            .await?;
        Ok(())
    }
}
