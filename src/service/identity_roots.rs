//! `person_identity`: the root (lowest record id) of each record's identity, for records joined
//! to others by `auto` or `confirmed` links. Kept in the transaction that changes a link, so a
//! read finds an identity by one index lookup instead of walking the links: a walk costs in
//! proportion to the identity, and a person entered again and again by several courts made one of
//! 5,568 records and 110,940 links, 0.6-1.3 s a read (BENCHMARKS.md, soak). A record without a
//! row is an identity of its own.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use entities::{person_identity, person_link};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Set, Statement,
};

use crate::domain::identity_match::LinkState;
use crate::error::AppResult;

/// Link states that make two records one identity.
pub const JOINING: [LinkState; 2] = [LinkState::Auto, LinkState::Confirmed];
/// Ids per `IN (…)` list.
const CHUNK: usize = 2000;
/// PostgreSQL advisory lock taken by every identity change (its own key space: one `bigint`).
const LOCK_KEY: i64 = 0x6964_656e_7469_7479;

/// Whether a link in `state` joins its records.
pub fn joins(state: LinkState) -> bool {
    JOINING.contains(&state)
}

/// Two identity changes at once would each read roots the other is rewriting; on PostgreSQL
/// they take turns here (SQLite's write transaction already lets one writer in at a time).
/// A transaction that writes links takes its turn before its first link row, so two of them never
/// wait on each other's rows while one holds the turn.
pub async fn take_turn(txn: &DatabaseTransaction) -> AppResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [LOCK_KEY.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The root of each of `ids` (its own id when it has no row).
async fn roots_of(txn: &DatabaseTransaction, ids: &[i32]) -> AppResult<HashMap<i32, i32>> {
    let mut out: HashMap<i32, i32> = ids.iter().map(|&i| (i, i)).collect();
    let rows = person_identity::Entity::find()
        .filter(person_identity::Column::PersonId.is_in(ids.iter().copied()))
        .all(txn)
        .await?;
    out.extend(rows.into_iter().map(|r| (r.person_id, r.root_id)));
    Ok(out)
}

/// `a` and `b` are now one identity (a link between them became `auto` or `confirmed`): the
/// identity with the higher root takes the lower one. The transaction has taken its turn
/// (`take_turn`).
pub async fn join(txn: &DatabaseTransaction, a: i32, b: i32) -> AppResult<()> {
    let roots = roots_of(txn, &[a, b]).await?;
    let (ra, rb) = (roots.get(&a).copied(), roots.get(&b).copied());
    let (Some(ra), Some(rb)) = (ra, rb) else {
        return Ok(());
    };
    if ra == rb {
        return Ok(());
    }
    let (keep, gone) = (ra.min(rb), ra.max(rb));
    person_identity::Entity::update_many()
        .col_expr(person_identity::Column::RootId, Expr::value(keep))
        .filter(person_identity::Column::RootId.eq(gone))
        .exec(txn)
        .await?;
    // The two roots themselves have no row while they were identities of one record.
    person_identity::Entity::insert_many([keep, gone].map(|p| person_identity::ActiveModel {
        person_id: Set(p),
        root_id: Set(keep),
    }))
    .on_conflict(
        OnConflict::column(person_identity::Column::PersonId)
            .update_column(person_identity::Column::RootId)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// A link between `a` and `b` no longer joins them (rejected): their identity is worked out
/// again from the links still joining its records, and may fall apart. The transaction has taken
/// its turn (`take_turn`).
pub async fn split(txn: &DatabaseTransaction, a: i32, b: i32) -> AppResult<()> {
    let roots = roots_of(txn, &[a, b]).await?;
    let olds: BTreeSet<i32> = roots.values().copied().collect();
    let members: Vec<i32> = person_identity::Entity::find()
        .select_only()
        .column(person_identity::Column::PersonId)
        .filter(person_identity::Column::RootId.is_in(olds))
        .into_tuple()
        .all(txn)
        .await?;
    if members.is_empty() {
        return Ok(());
    }
    let states: Vec<&str> = JOINING.iter().map(|s| s.as_db()).collect();
    let mut links: Vec<(i32, i32)> = Vec::new();
    for chunk in members.chunks(CHUNK) {
        // A joining link from a member ends at a member: the identity is closed under them.
        links.extend(
            person_link::Entity::find()
                .select_only()
                .column(person_link::Column::PersonA)
                .column(person_link::Column::PersonB)
                .filter(person_link::Column::State.is_in(states.clone()))
                .filter(person_link::Column::PersonA.is_in(chunk.iter().copied()))
                .into_tuple::<(i32, i32)>()
                .all(txn)
                .await?,
        );
    }
    let now = roots_in(members.iter().copied(), links);
    let mut alone: Vec<i32> = Vec::new();
    let mut by_root: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    let mut size: HashMap<i32, usize> = HashMap::new();
    for root in now.values() {
        *size.entry(*root).or_default() += 1;
    }
    for (&member, &root) in &now {
        if size.get(&root) == Some(&1) {
            alone.push(member);
        } else {
            by_root.entry(root).or_default().push(member);
        }
    }
    for chunk in alone.chunks(CHUNK) {
        person_identity::Entity::delete_many()
            .filter(person_identity::Column::PersonId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    for (root, records) in by_root {
        for chunk in records.chunks(CHUNK) {
            person_identity::Entity::update_many()
                .col_expr(person_identity::Column::RootId, Expr::value(root))
                .filter(person_identity::Column::PersonId.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

/// The root (lowest id) of each record under the links (the migration's union-find, which
/// filled the table first).
pub use migrations::identity_roots_in as roots_in;

/// What `person_identity` should hold for `links` (every joining link): each record of an
/// identity of two or more, with its root. `ccpor check` compares the table with it.
pub fn expected(links: &[(i32, i32)]) -> BTreeMap<i32, i32> {
    let members: BTreeSet<i32> = links.iter().flat_map(|&(a, b)| [a, b]).collect();
    roots_in(members, links.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_the_lowest_id_of_each_component() {
        let r = roots_in([1, 2, 3, 7, 8, 9], [(9, 8), (3, 2), (2, 1), (8, 4)]);
        assert_eq!(r[&1], 1);
        assert_eq!(r[&2], 1);
        assert_eq!(r[&3], 1);
        assert_eq!(r[&7], 7, "unlinked: its own root");
        assert_eq!(r[&8], 8, "the link to 4 (not a member) is ignored");
        assert_eq!(r[&9], 8);
    }

    #[test]
    fn a_long_chain_in_any_order_has_one_root() {
        let n = 5000;
        let links: Vec<(i32, i32)> = (1..n).rev().map(|i| (i + 1, i)).collect();
        let r = expected(&links);
        assert_eq!(r.len(), n as usize);
        assert!(r.values().all(|&root| root == 1));
        assert!(expected(&[]).is_empty());
    }

    /// The migration folds existing links in; `join` and `split` keep the table as the links
    /// give it, on a real SQLite database.
    #[tokio::test]
    async fn migration_join_and_split_agree_with_the_links() {
        use migrations::{Migrator, MigratorTrait};
        use sea_orm::TransactionTrait;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let (db, _) = crate::db::connect(&url).await.unwrap();
        // Every migration before the one that folds the links in.
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261206_000016_person_identity")
            .unwrap() as u32;
        Migrator::up(&db, Some(before)).await.unwrap();
        let now = "'2026-12-06T00:00:00Z'";
        for id in 1..=7 {
            db.execute_unprepared(&format!(
                "INSERT INTO person (id, party_type, name_key, confidential, created_at, updated_at) \
                 VALUES ({id}, 'individual', 'k{id}', false, {now}, {now})"
            ))
            .await
            .unwrap();
        }
        let link = async |a: i32, b: i32, state: &str| {
            db.execute_unprepared(&format!(
                "INSERT INTO person_link (person_a, person_b, state, score, reasons, created_at, updated_at) \
                 VALUES ({a}, {b}, '{state}', 1.0, '', {now}, {now})"
            ))
            .await
            .unwrap();
        };
        link(1, 2, "auto").await;
        link(2, 3, "confirmed").await;
        link(3, 4, "rejected").await;
        link(5, 6, "proposed").await;
        link(4, 6, "auto").await;
        Migrator::up(&db, None).await.unwrap();
        let table = async || -> BTreeMap<i32, i32> {
            person_identity::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.person_id, r.root_id))
                .collect()
        };
        let links = async || -> Vec<(i32, i32)> {
            person_link::Entity::find()
                .filter(person_link::Column::State.is_in(["auto", "confirmed"]))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|l| (l.person_a, l.person_b))
                .collect()
        };
        assert_eq!(
            table().await,
            BTreeMap::from([(1, 1), (2, 1), (3, 1), (4, 4), (6, 4)])
        );
        assert_eq!(table().await, expected(&links().await));

        // 3-4 confirmed: one identity of 1, 2, 3, 4, 6 under 1.
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("UPDATE person_link SET state = 'confirmed' WHERE person_a = 3")
            .await
            .unwrap();
        join(&txn, 3, 4).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(table().await, expected(&links().await));
        assert_eq!(
            table().await.values().collect::<BTreeSet<_>>(),
            BTreeSet::from([&1])
        );
        // 2-3 rejected: {1, 2} and {3, 4, 6}.
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("UPDATE person_link SET state = 'rejected' WHERE person_a = 2")
            .await
            .unwrap();
        split(&txn, 2, 3).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(
            table().await,
            BTreeMap::from([(1, 1), (2, 1), (3, 3), (4, 3), (6, 3)])
        );
        // 1-2 rejected: 1 and 2 are each their own again, with no row.
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("UPDATE person_link SET state = 'rejected' WHERE person_a = 1")
            .await
            .unwrap();
        split(&txn, 1, 2).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(table().await, BTreeMap::from([(3, 3), (4, 3), (6, 3)]));
        assert_eq!(table().await, expected(&links().await));
        // And the identity read: each record with its whole identity.
        let got = crate::service::identity::identities(&db, &[6, 7, 1])
            .await
            .unwrap();
        assert_eq!(got[&6], BTreeSet::from([3, 4, 6]));
        assert_eq!(got[&7], BTreeSet::from([7]));
        assert_eq!(got[&1], BTreeSet::from([1]));
    }
}
