//! The import key as the SHA-256's 32 bytes instead of its 64 hex characters. The key is random,
//! so every imported order inserts into its primary-key B-tree at a random place, and that index
//! was the largest an import writes: ~120 MB as text at 1,000,000 orders, near PostgreSQL's
//! default 128 MB of shared buffers on its own; 73 MB as bytes, compared by `memcmp` instead of
//! the text collation (issue 24: the import rate at statewide size; BENCHMARKS.md, "Thirteenth
//! session"). Keys already stored are converted in place, so a file imported before this
//! migration is still recognised when it is imported again.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::timestamps;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000019_import_key_binary"
    }
}

#[derive(DeriveIden)]
enum ImportKey {
    Table,
    Key,
    OrderId,
}

#[derive(DeriveIden)]
enum ProtectiveOrder {
    Table,
    Id,
}

/// The table built anew under this name on SQLite (which cannot change a column's type), then
/// renamed.
const REBUILT: &str = "import_key_rebuilt";

/// `import_key` as its first migration made it, but with `key` of the given type, named `name`.
fn table(name: &str, key: &mut ColumnDef) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(Alias::new(name))
        .col(key.not_null().primary_key())
        .col(ColumnDef::new(ImportKey::OrderId).integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name("fk_import_key_order")
                .from(Alias::new(name), ImportKey::OrderId)
                .to(ProtectiveOrder::Table, ProtectiveOrder::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    timestamps(&mut table).to_owned()
}

/// SQLite: copies `import_key` into a new table whose key is `key`, the old key converted by
/// the SQL expression `convert`, and puts the new table in its place. In one transaction on one
/// connection: all or nothing, and each step sees the schema the one before left (a pooled
/// connection that did not drop the old table refuses the rename).
async fn rebuild(
    outer: &SchemaManager<'_>,
    key: &mut ColumnDef,
    convert: &str,
) -> Result<(), DbErr> {
    let manager = outer.begin().await?;
    let db = manager.get_connection();
    manager.create_table(table(REBUILT, key)).await?;
    db.execute_unprepared(&format!(
        "INSERT INTO {REBUILT} (key, order_id, created_at, updated_at) \
         SELECT {convert}, order_id, created_at, updated_at FROM import_key"
    ))
    .await?;
    manager
        .drop_table(Table::drop().table(ImportKey::Table).to_owned())
        .await?;
    manager
        .rename_table(
            Table::rename()
                .table(Alias::new(REBUILT), ImportKey::Table)
                .to_owned(),
        )
        .await?;
    manager.commit().await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild(manager, ColumnDef::new(ImportKey::Key).blob(), "unhex(key)").await
            }
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE import_key ALTER COLUMN key TYPE bytea \
                         USING decode(key, 'hex')",
                    )
                    .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => {
                rebuild(
                    manager,
                    ColumnDef::new(ImportKey::Key).string_len(64),
                    "lower(hex(key))",
                )
                .await
            }
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE import_key ALTER COLUMN key TYPE varchar(64) \
                         USING encode(key, 'hex')",
                    )
                    .await?;
                Ok(())
            }
        }
    }
}
