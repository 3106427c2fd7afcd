//! Database migrations, one file per migration; each runs on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_courts;
mod m20261127_000002_create_agencies;
mod m20261127_000003_create_persons;
mod m20261127_000004_create_orders;
mod m20261127_000005_create_order_history;
mod m20261127_000006_create_id_counter;
mod m20261127_000007_create_search_outbox;
mod m20261127_000008_create_order_images;
mod m20261127_000009_access_and_audit;
mod m20261127_000010_identity_and_conflicts;
mod m20261127_000011_order_event_notify;
mod m20261205_000012_import_key;
mod m20261206_000013_carpos_transmissions;
mod m20261206_000014_clets_purged;
mod m20261206_000014_feeds;
mod m20261206_000015_law_records;
mod m20261206_000016_person_identity;
mod m20261206_000017_carpos_due_index;
mod m20261206_000018_drop_unread_indexes;
mod m20261207_000019_import_key_binary;
mod seed_data;

pub use m20261127_000009_access_and_audit::GENESIS as AUDIT_GENESIS;
pub use m20261127_000011_order_event_notify::CHANNEL as ORDER_EVENT_CHANNEL;
pub use m20261206_000016_person_identity::roots_in as identity_roots_in;
pub use seed_data::{COUNTIES, County, TRIBAL_COURTS, TribalCourt};

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_courts::Migration),
            Box::new(m20261127_000002_create_agencies::Migration),
            Box::new(m20261127_000003_create_persons::Migration),
            Box::new(m20261127_000004_create_orders::Migration),
            Box::new(m20261127_000005_create_order_history::Migration),
            Box::new(m20261127_000006_create_id_counter::Migration),
            Box::new(m20261127_000007_create_search_outbox::Migration),
            Box::new(m20261127_000008_create_order_images::Migration),
            Box::new(m20261127_000009_access_and_audit::Migration),
            Box::new(m20261127_000010_identity_and_conflicts::Migration),
            Box::new(m20261127_000011_order_event_notify::Migration),
            Box::new(m20261205_000012_import_key::Migration),
            Box::new(m20261206_000013_carpos_transmissions::Migration),
            Box::new(m20261206_000014_clets_purged::Migration),
            Box::new(m20261206_000014_feeds::Migration),
            Box::new(m20261206_000015_law_records::Migration),
            Box::new(m20261206_000016_person_identity::Migration),
            Box::new(m20261206_000017_carpos_due_index::Migration),
            Box::new(m20261206_000018_drop_unread_indexes::Migration),
            Box::new(m20261207_000019_import_key_binary::Migration),
        ]
    }
}

/// `created_at`/`updated_at`, present on every table.
pub(crate) fn timestamps(table: &mut TableCreateStatement) -> &mut TableCreateStatement {
    table
        .col(
            ColumnDef::new(Alias::new("created_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Alias::new("updated_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
}

/// A named index on `table(cols)`.
pub(crate) fn index(table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(format!("idx_{table}_{}", cols.join("_")))
        .table(Alias::new(table));
    for c in cols {
        idx.col(Alias::new(*c));
    }
    idx.to_owned()
}
