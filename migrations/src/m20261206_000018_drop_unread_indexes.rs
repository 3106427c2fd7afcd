//! Drops the indexes no statement reads; each was write cost alone, paid by every new row.
//! - `idx_person_name_key`, `idx_person_dob`: person search is the tantivy index's (`index/`);
//!   the database finds persons by id only. They cost every new person two inserts at random
//!   places in two B-trees, two persons an imported order; at statewide size those pages no
//!   longer stay in the page cache, and every import batch read them back and wrote them to the
//!   log (issue 24: the import rate at 1,000,000 orders, BENCHMARKS.md).
//! - `idx_protective_order_supersedes_order_id`: a successor is found among its chain's orders
//!   (`chain_root_id`), never by this column, and orders are never deleted, so no foreign-key
//!   check needs it either.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000018_drop_unread_indexes"
    }
}

/// (index, table, column), as the earlier migrations created them.
const INDEXES: [(&str, &str, &str); 3] = [
    ("idx_person_name_key", "person", "name_key"),
    ("idx_person_dob", "person", "dob"),
    (
        "idx_protective_order_supersedes_order_id",
        "protective_order",
        "supersedes_order_id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, col) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
