//! Each person record's identity, kept with the links: `person_identity` names, for every record
//! in an identity of two or more (records joined by `auto` or `confirmed` links, transitively),
//! the identity's root (its lowest record id). A record in no such identity has no row and is
//! its own root. Reads of a person's identity were a recursive walk of `person_link` per request,
//! whose cost grew with the identity (one of 5,568 records took 0.6-1.3 s a read in a soak run);
//! now they are an index lookup. Derived data: the server keeps it in the transaction that
//! changes a link, and `ccpor check` compares it with the links. Existing links are folded in
//! here, once.
use std::collections::{BTreeMap, HashMap};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000016_person_identity"
    }
}

#[derive(DeriveIden)]
enum PersonIdentity {
    Table,
    PersonId,
    RootId,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
}

/// Rows per `INSERT` of the backfill.
const BATCH: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PersonIdentity::Table)
                    .col(
                        ColumnDef::new(PersonIdentity::PersonId)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(PersonIdentity::RootId).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_identity_person")
                            .from(PersonIdentity::Table, PersonIdentity::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("person_identity", &["root_id"]))
            .await?;

        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let links = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT person_a, person_b FROM person_link WHERE state IN ('auto', 'confirmed')",
            ))
            .await?;
        let mut pairs: Vec<(i32, i32)> = Vec::with_capacity(links.len());
        for row in links {
            pairs.push((row.try_get("", "person_a")?, row.try_get("", "person_b")?));
        }
        let members: Vec<i32> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
        let rows: Vec<(i32, i32)> = roots_in(members, pairs).into_iter().collect();
        for chunk in rows.chunks(BATCH) {
            let mut insert = Query::insert();
            insert
                .into_table(PersonIdentity::Table)
                .columns([PersonIdentity::PersonId, PersonIdentity::RootId]);
            for &(person, root) in chunk {
                insert.values_panic([person.into(), root.into()]);
            }
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PersonIdentity::Table).to_owned())
            .await
    }
}

/// The root (lowest id) of each of `members` under `links` (pairs of members; a link naming
/// anything else is ignored). Shared with the server, which keeps the table with it.
pub fn roots_in(
    members: impl IntoIterator<Item = i32>,
    links: impl IntoIterator<Item = (i32, i32)>,
) -> BTreeMap<i32, i32> {
    let mut parent: HashMap<i32, i32> = members.into_iter().map(|m| (m, m)).collect();
    for (a, b) in links {
        if !(parent.contains_key(&a) && parent.contains_key(&b)) {
            continue;
        }
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent.insert(Ord::max(ra, rb), Ord::min(ra, rb));
        }
    }
    let ids: Vec<i32> = parent.keys().copied().collect();
    ids.into_iter().map(|m| (m, find(&mut parent, m))).collect()
}

/// The root of `p` in the forest `parent`, halving the path.
fn find(parent: &mut HashMap<i32, i32>, mut p: i32) -> i32 {
    loop {
        let up = *parent.entry(p).or_insert(p);
        if up == p {
            return p;
        }
        let grand = *parent.entry(up).or_insert(up);
        parent.insert(p, grand);
        p = grand;
    }
}
