//! `ccpor check`: is the deployment consistent? Order chains and events well-formed, the search
//! index holding exactly the persons of the database, image objects present and intact, the
//! audit chain unbroken, the search outbox not stuck, every import key naming a stored order, no
//! half-written order (one without its parties), each record's identity root as its links give. Read-only; safe beside running servers.
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use chrono::{Duration, Utc};
use entities::{
    import_key, order, order_event, order_party, person, person_identity, person_link,
    search_outbox,
};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

use crate::domain::codes::EventKind;
use crate::error::{AppError, AppResult};
use crate::images::store::ImageStore;

/// Outbox rows older than this that the index has not applied count as stuck (the indexer
/// polls every 250 ms and waits at most 60 s on a gap).
const STUCK_AFTER_SECS: i64 = 120;

/// Events that end an order's life as an open order; an order has at most one.
const TERMINAL: [EventKind; 4] = [
    EventKind::Modified,
    EventKind::Renewed,
    EventKind::Terminated,
    EventKind::Cancelled,
];

/// One inconsistency.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// Which check found it: `order`, `event`, `index`, `identity`, `image`, `audit`, `outbox`,
    /// `import`.
    pub area: &'static str,
    pub message: String,
}

/// What the check looked at and what it found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub orders: usize,
    pub events: usize,
    pub persons: usize,
    pub indexed_persons: usize,
    pub image_objects: usize,
    pub audit_rows: u64,
    pub outbox_pending: usize,
    pub import_keys: usize,
    /// Records in identities of two or more.
    pub linked_persons: usize,
    pub problems: Vec<Problem>,
}

impl Report {
    fn problem(&mut self, area: &'static str, message: String) {
        self.problems.push(Problem { area, message });
    }

    /// Whether nothing is wrong.
    pub fn consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Runs every check. `search_root` is the data dir's `search` directory.
pub async fn run(
    db: &DatabaseConnection,
    search_root: &Path,
    images: &ImageStore,
) -> AppResult<Report> {
    let mut report = Report::default();
    let ids = orders(db, &mut report).await?;
    parties_and_keys(db, &ids, &mut report).await?;
    index(db, search_root, &mut report).await?;
    identities(db, &mut report).await?;
    let images = crate::images::verify::verify(db, images, None).await?;
    report.image_objects = images.checked;
    for p in images.problems {
        match p {
            crate::images::verify::Problem::Missing { object } => {
                report.problem("image", format!("image object {object} is missing"))
            }
            crate::images::verify::Problem::Corrupted {
                object,
                actual_sha256,
            } => report.problem(
                "image",
                format!("image object {object} is corrupted (content hashes to {actual_sha256})"),
            ),
        }
    }
    let audit = crate::audit::verify(db).await?;
    report.audit_rows = audit.rows;
    if let Some((seq, why)) = audit.first_bad {
        report.problem("audit", format!("audit chain broken at row {seq}: {why}"));
    }
    Ok(report)
}

/// Chains (`supersedes` points to an existing order of the same court and chain) and events
/// (of existing orders, known kinds, one `issued`, at most one terminal event, none before issue).
/// Returns the ids of the orders that are not image-only (those must have parties).
async fn orders(db: &DatabaseConnection, report: &mut Report) -> AppResult<OrderIds> {
    let orders: HashMap<i32, order::Model> = order::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    report.orders = orders.len();
    let mut ids: Vec<&i32> = orders.keys().collect();
    ids.sort();
    for id in ids {
        let o = &orders[id];
        if let Some(s) = o.supersedes_order_id {
            match orders.get(&s) {
                None => report.problem(
                    "order",
                    format!("order {id} supersedes order {s}, which does not exist"),
                ),
                Some(old) if old.court_id != o.court_id => report.problem(
                    "order",
                    format!("order {id} supersedes order {s} of another court"),
                ),
                Some(old) if old.chain_root_id != o.chain_root_id => report.problem(
                    "order",
                    format!("order {id} and the order {s} it supersedes are in different chains"),
                ),
                Some(_) => {}
            }
        }
        match orders.get(&o.chain_root_id) {
            None => report.problem(
                "order",
                format!(
                    "order {id} names chain root {}, which does not exist",
                    o.chain_root_id
                ),
            ),
            Some(root) if root.supersedes_order_id.is_some() => report.problem(
                "order",
                format!(
                    "order {id} names chain root {}, which itself supersedes another order",
                    o.chain_root_id
                ),
            ),
            Some(_) => {}
        }
    }
    let events = order_event::Entity::find().all(db).await?;
    report.events = events.len();
    let mut by_order: HashMap<i32, Vec<&order_event::Model>> = HashMap::new();
    for e in &events {
        if !orders.contains_key(&e.order_id) {
            report.problem(
                "event",
                format!(
                    "event {} ({}) belongs to order {}, which does not exist",
                    e.id, e.kind, e.order_id
                ),
            );
            continue;
        }
        by_order.entry(e.order_id).or_default().push(e);
    }
    let mut ids: Vec<&i32> = orders.keys().collect();
    ids.sort();
    for id in ids {
        let o = &orders[id];
        let evs = by_order.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let mut issued = 0;
        let mut terminal = Vec::new();
        for e in evs {
            let Ok(kind) = EventKind::from_db(&e.kind) else {
                report.problem(
                    "event",
                    format!("event {} of order {id} has unknown kind {:?}", e.id, e.kind),
                );
                continue;
            };
            if kind == EventKind::Issued {
                issued += 1;
            }
            if TERMINAL.contains(&kind) {
                terminal.push(e.kind.as_str());
            }
            if kind != EventKind::Issued && !o.image_only && e.occurred_at < o.issued_at {
                report.problem(
                    "event",
                    format!(
                        "event {} ({}) of order {id} happened before the order was issued",
                        e.id, e.kind
                    ),
                );
            }
        }
        if !o.image_only && issued != 1 {
            report.problem(
                "event",
                format!("order {id} has {issued} issued events (expected 1)"),
            );
        }
        if terminal.len() > 1 {
            report.problem(
                "event",
                format!(
                    "order {id} has {} terminal events ({})",
                    terminal.len(),
                    terminal.join(", ")
                ),
            );
        }
    }
    Ok(OrderIds {
        all: orders.keys().copied().collect(),
        with_parties: orders
            .values()
            .filter(|o| !o.image_only)
            .map(|o| o.id)
            .collect(),
    })
}

/// The stored orders, and those of them that must have parties.
struct OrderIds {
    all: HashSet<i32>,
    with_parties: BTreeSet<i32>,
}

/// An order is written with its parties in one transaction, and an import key with its order: an
/// order (not image-only) without a restrained and a protected party, or a key whose order is
/// gone, is a half-written or orphaned row. The key's foreign key cascades on PostgreSQL and on
/// SQLite with `foreign_keys` on; this also catches a database restored or edited without them.
async fn parties_and_keys(
    db: &DatabaseConnection,
    ids: &OrderIds,
    report: &mut Report,
) -> AppResult<()> {
    let parties: Vec<(i32, String)> = order_party::Entity::find()
        .select_only()
        .column(order_party::Column::OrderId)
        .column(order_party::Column::Role)
        .into_tuple()
        .all(db)
        .await?;
    let mut roles: HashMap<i32, (bool, bool)> = HashMap::new();
    for (order_id, role) in &parties {
        if !ids.all.contains(order_id) {
            report.problem(
                "order",
                format!("a {role} party belongs to order {order_id}, which does not exist"),
            );
            continue;
        }
        let seen = roles.entry(*order_id).or_default();
        match role.as_str() {
            "restrained" => seen.0 = true,
            "protected" => seen.1 = true,
            _ => {}
        }
    }
    for id in &ids.with_parties {
        if roles.get(id) != Some(&(true, true)) {
            report.problem(
                "order",
                format!("order {id} lacks a restrained or a protected party (half-written?)"),
            );
        }
    }
    let keys: Vec<(Vec<u8>, i32)> = import_key::Entity::find()
        .select_only()
        .column(import_key::Column::Key)
        .column(import_key::Column::OrderId)
        .into_tuple()
        .all(db)
        .await?;
    report.import_keys = keys.len();
    for (key, order_id) in keys {
        if !ids.all.contains(&order_id) {
            report.problem(
                "import",
                format!(
                    "import key {} names order {order_id}, which does not exist",
                    hex::encode(&key)
                ),
            );
        }
    }
    Ok(())
}

/// `person_identity` names each record of an identity of two or more with the identity's root,
/// as the joining links give them, and no other record.
async fn identities(db: &DatabaseConnection, report: &mut Report) -> AppResult<()> {
    use crate::service::identity_roots;
    let states: Vec<&str> = identity_roots::JOINING.iter().map(|s| s.as_db()).collect();
    let links: Vec<(i32, i32)> = person_link::Entity::find()
        .select_only()
        .column(person_link::Column::PersonA)
        .column(person_link::Column::PersonB)
        .filter(person_link::Column::State.is_in(states))
        .into_tuple()
        .all(db)
        .await?;
    let want = identity_roots::expected(&links);
    let have: HashMap<i32, i32> = person_identity::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.person_id, r.root_id))
        .collect();
    report.linked_persons = want.len();
    const SHOWN: usize = 20;
    let mut wrong = 0;
    for (person, root) in &want {
        if have.get(person) != Some(root) {
            wrong += 1;
            if wrong <= SHOWN {
                let found = have.get(person).map_or("none".to_owned(), i32::to_string);
                report.problem(
                    "identity",
                    format!("person {person}: identity root {found}, its links give {root}"),
                );
            }
        }
    }
    for (person, root) in &have {
        if !want.contains_key(person) {
            wrong += 1;
            if wrong <= SHOWN {
                report.problem(
                    "identity",
                    format!(
                        "person {person}: identity root {root}, but no link joins it to another"
                    ),
                );
            }
        }
    }
    if wrong > SHOWN {
        report.problem(
            "identity",
            format!("{} more records with a wrong identity root", wrong - SHOWN),
        );
    }
    Ok(())
}

/// The index holds each person once and nothing else, apart from changes still in the outbox.
async fn index(db: &DatabaseConnection, root: &Path, report: &mut Report) -> AppResult<()> {
    let persons: BTreeSet<i64> = person::Entity::find()
        .select_only()
        .column(person::Column::Id)
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .map(i64::from)
        .collect();
    report.persons = persons.len();
    let Some((dir, cursor)) = crate::search::live_state(root) else {
        if !persons.is_empty() {
            report.problem(
                "index",
                format!(
                    "no search index under {} ({} persons to index; run `ccpor reindex`)",
                    root.display(),
                    persons.len()
                ),
            );
        }
        return Ok(());
    };
    let pending = search_outbox::Entity::find()
        .filter(search_outbox::Column::Id.gt(cursor))
        .all(db)
        .await?;
    report.outbox_pending = pending.len();
    let cutoff = Utc::now() - Duration::seconds(STUCK_AFTER_SECS);
    let stuck: Vec<i64> = pending
        .iter()
        .filter(|r| r.created_at < cutoff)
        .map(|r| r.id)
        .collect();
    if let (Some(first), Some(last)) = (stuck.first(), stuck.last()) {
        report.problem(
            "outbox",
            format!(
                "{} search outbox rows (ids {first}..={last}) are older than {STUCK_AFTER_SECS} s \
                 and not applied to the index (index position {cursor}); is a server running?",
                stuck.len()
            ),
        );
    }
    // Persons with changes still pending may legitimately differ from the index.
    let in_flight: HashSet<i64> = crate::search::persons_of(db, &pending)
        .await?
        .into_iter()
        .map(i64::from)
        .collect();
    let listed = tokio::task::spawn_blocking(move || ccpor_index::person_ids_in_dir(&dir))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let mut indexed = BTreeSet::new();
    for id in listed {
        if !indexed.insert(id) {
            report.problem("index", format!("person {id} is in the search index twice"));
        }
    }
    report.indexed_persons = indexed.len();
    for id in persons.difference(&indexed) {
        if !in_flight.contains(id) {
            report.problem(
                "index",
                format!("person {id} is missing from the search index"),
            );
        }
    }
    for id in indexed.difference(&persons) {
        if !in_flight.contains(id) {
            report.problem(
                "index",
                format!("the search index holds person {id}, who is not in the database"),
            );
        }
    }
    Ok(())
}
