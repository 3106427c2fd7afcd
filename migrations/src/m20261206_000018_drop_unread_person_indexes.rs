//! Drops the two person indexes no statement reads. Person search is the tantivy index's
//! (`index/`); the database finds persons by id only, so `idx_person_name_key` and
//! `idx_person_dob` were write cost alone: two inserts at random places in two B-trees for every
//! new person, two persons an imported order. At statewide size those pages no longer stay in
//! the page cache, and every import batch read them back and wrote them to the log
//! (issue 24: the import rate at 1,000,000 orders, BENCHMARKS.md).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000018_drop_unread_person_indexes"
    }
}

const INDEXES: [(&str, &str); 2] = [
    ("idx_person_name_key", "name_key"),
    ("idx_person_dob", "dob"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(
                    Index::drop()
                        .name(name)
                        .table(Alias::new("person"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, col) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new("person"))
                        .col(Alias::new(col))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
