//! Order events reach every server instance: on PostgreSQL each statement that inserts
//! `order_event` rows sends `NOTIFY ccpor_order_events, '<first id>:<last id>'`, delivered when
//! its transaction commits, so an instance's subscribers hear of writes made on another (and of
//! the expiry sweep, imports and the CLI). SQLite is one file with one writer: instances poll the
//! table instead, and nothing is needed here.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000011_order_event_notify"
    }
}

/// The channel instances `LISTEN` on.
pub const CHANNEL: &str = "ccpor_order_events";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // One notice per statement, not per row: a bulk import sends a handful, and a listener
        // reads the id range back.
        db.execute_unprepared(&format!(
            "CREATE FUNCTION order_event_notify() RETURNS trigger AS $$ \
             DECLARE lo integer; hi integer; \
             BEGIN \
               SELECT min(id), max(id) INTO lo, hi FROM new_rows; \
               IF lo IS NOT NULL THEN PERFORM pg_notify('{CHANNEL}', lo || ':' || hi); END IF; \
               RETURN NULL; \
             END; $$ LANGUAGE plpgsql"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE TRIGGER order_event_notify AFTER INSERT ON order_event \
             REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
             EXECUTE FUNCTION order_event_notify()",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP TRIGGER IF EXISTS order_event_notify ON order_event")
            .await?;
        db.execute_unprepared("DROP FUNCTION IF EXISTS order_event_notify()")
            .await?;
        Ok(())
    }
}
