//! Writes of new orders: one (`createOrder`) or a batch (the import, the demo generator), with
//! their new persons, parties, `issued` events and search outbox rows. The rows are built here
//! and inserted in multi-row statements; the lifecycle writes (`lifecycle`, `successor`) append
//! to what these store.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entities::{order, order_event, order_party, person, person_alias, search_outbox};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, TryIntoModel,
};

use crate::db::{IdTable, allocate_ids};
use crate::domain::codes::{EntrySource, EventKind, PcoCode};
use crate::domain::ids::{self, Kind};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::search::Search;
use crate::service::chunks::insert_statements;
use crate::service::commands::CreateOrder;
use crate::service::conflicts::{self, Conflict};
use crate::service::model::{NewOrder, NewParty, NewPerson, PartyPerson};
use crate::service::refs::Refs;
use crate::service::validate;

/// Inserts rows in multi-row statements sized for the backend.
pub async fn insert_chunked<A, C>(conn: &C, models: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    for statement in insert_statements(conn.get_database_backend(), models) {
        conn.execute_raw(statement).await?;
    }
    Ok(())
}

/// Inserts validated orders with their new persons, aliases, parties, `issued` events and
/// CARPOS entries (`batch_write::insert`). Call inside a transaction. Returns the new order ids,
/// in input order.
pub async fn insert_batch<C: ConnectionTrait>(
    conn: &C,
    orders: &[NewOrder],
) -> AppResult<Vec<i32>> {
    crate::service::batch_write::insert(conn, orders.to_vec()).await
}

/// Inserts the new persons (with aliases) and party rows of each `(order id, parties)`.
/// Existing persons must have been checked (`check_existing_persons`).
pub async fn insert_parties<C: ConnectionTrait>(
    conn: &C,
    orders: &[(i32, &[NewParty])],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let new_persons = new_person_count(orders.iter().flat_map(|(_, ps)| ps.iter()));
    let person_ids = allocate_ids(conn, IdTable::Person, new_persons).await?;
    let rows = party_rows(orders, &mut person_ids.into_iter(), now, false)?;
    insert_chunked(conn, rows.persons).await?;
    insert_chunked(conn, rows.aliases).await?;
    insert_chunked(conn, rows.parties).await?;
    Ok(())
}

/// How many of `parties` are new persons (each needs an id).
pub fn new_person_count<'a>(parties: impl Iterator<Item = &'a NewParty>) -> usize {
    parties
        .filter(|p| matches!(p.person, PartyPerson::New(_)))
        .count()
}

/// The rows of each `(order id, parties)`: new persons (ids from `next_person`), their aliases,
/// the party rows, and each party as `(order id, person id, role)`; the new persons' models
/// too when `keep` (for CARPOS facts).
pub struct PartyRows {
    pub persons: Vec<person::ActiveModel>,
    pub aliases: Vec<person_alias::ActiveModel>,
    pub parties: Vec<order_party::ActiveModel>,
    pub written: Vec<(i32, i32, &'static str)>,
    pub new_persons: std::collections::HashMap<i32, person::Model>,
}

/// Builds `PartyRows` without the database.
pub fn party_rows(
    orders: &[(i32, &[NewParty])],
    next_person: &mut impl Iterator<Item = i32>,
    now: DateTime<Utc>,
    keep: bool,
) -> AppResult<PartyRows> {
    let mut rows = PartyRows {
        persons: Vec::new(),
        aliases: Vec::new(),
        parties: Vec::new(),
        written: Vec::new(),
        new_persons: std::collections::HashMap::new(),
    };
    for &(order_id, ps) in orders {
        for p in ps {
            let person_id = match &p.person {
                PartyPerson::Existing(id) => *id,
                PartyPerson::New(np) => {
                    let id = next_person.next().ok_or_else(|| {
                        AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(
                            "id block too small"
                        )))
                    })?;
                    let row = person_row(np, id, now);
                    if keep {
                        rows.new_persons.insert(id, row.clone().try_into_model()?);
                    }
                    rows.persons.push(row);
                    rows.aliases.extend(alias_rows(np, id, now));
                    id
                }
            };
            rows.parties.push(party_row(order_id, person_id, p, now));
            rows.written.push((order_id, person_id, p.role.as_db()));
        }
    }
    Ok(rows)
}

/// The `person` row of a new person.
pub fn person_row(np: &NewPerson, id: i32, now: DateTime<Utc>) -> person::ActiveModel {
    person::ActiveModel {
        id: Set(id),
        party_type: Set(np.party_type.as_db().to_owned()),
        last_name: Set(np.last_name.clone()),
        first_name: Set(np.first_name.clone()),
        middle_name: Set(np.middle_name.clone()),
        suffix: Set(np.suffix.clone()),
        organization_name: Set(np.organization_name.clone()),
        name_key: Set(np.name_key.clone()),
        dob: Set(np.dob),
        estimated_age: Set(np.estimated_age),
        sex: Set(np.sex.map(|s| s.as_db().to_owned())),
        race: Set(np.race.map(|s| s.as_db().to_owned())),
        height_inches: Set(np.height_inches),
        weight_pounds: Set(np.weight_pounds),
        hair: Set(np.hair.map(|s| s.as_db().to_owned())),
        eye: Set(np.eye.map(|s| s.as_db().to_owned())),
        dl_number: Set(np.dl_number.clone()),
        dl_state: Set(np.dl_state.clone()),
        address: Set(np.address.clone()),
        phone: Set(np.phone.clone()),
        confidential: Set(np.confidential),
        clets_purged_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The alias rows of a new person.
pub fn alias_rows(
    np: &NewPerson,
    person_id: i32,
    now: DateTime<Utc>,
) -> Vec<person_alias::ActiveModel> {
    np.aliases
        .iter()
        .map(|a| person_alias::ActiveModel {
            person_id: Set(person_id),
            last_name: Set(a.last_name.clone()),
            first_name: Set(a.first_name.clone()),
            middle_name: Set(a.middle_name.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect()
}

/// The `order_party` row linking a person to an order.
pub fn party_row(
    order_id: i32,
    person_id: i32,
    p: &NewParty,
    now: DateTime<Utc>,
) -> order_party::ActiveModel {
    order_party::ActiveModel {
        order_id: Set(order_id),
        person_id: Set(person_id),
        role: Set(p.role.as_db().to_owned()),
        relationship: Set(p.relationship.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Outbox rows telling the search indexer to refresh the parties of these orders.
pub fn outbox_rows(order_ids: &[i32], now: DateTime<Utc>) -> Vec<search_outbox::ActiveModel> {
    order_ids
        .iter()
        .map(|&id| search_outbox::ActiveModel {
            order_id: Set(Some(id)),
            person_id: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect()
}

/// The `protective_order` row of a new order (lifecycle columns empty).
pub fn order_row(o: &NewOrder, id: i32, now: DateTime<Utc>) -> order::ActiveModel {
    let c = &o.conditions;
    order::ActiveModel {
        id: Set(id),
        court_id: Set(o.court_id),
        case_number: Set(o.case_number.as_str().to_owned()),
        case_number_key: Set(o.case_number.key().to_owned()),
        family: Set(o.family.as_db().to_owned()),
        form_number: Set(o.form_number.to_owned()),
        kind: Set(o.kind.as_db().to_owned()),
        issued_at: Set(o.issued_at),
        hearing_date: Set(o.hearing_date),
        expires_at: Set(o.expires_at),
        judicial_officer: Set(o.judicial_officer.clone()),
        pco_codes: Set(PcoCode::list_to_db(&c.pco_codes)),
        contact_level: Set(c.contact_level.as_db().to_owned()),
        stay_away_yards: Set(c.stay_away_yards),
        move_out: Set(c.move_out),
        firearm_relinquishment: Set(c.firearm_relinquishment),
        firearm_due_at: Set(c.firearm_due_at),
        brady_indicator: Set(c.brady_indicator.as_db().to_owned()),
        special_conditions: Set(c.special_conditions.clone()),
        notes: Set(c.notes.clone()),
        source: Set(o.source.as_db().to_owned()),
        entered_by_court_id: Set(o.entered_by_court_id),
        entered_by_agency_id: Set(o.entered_by_agency_id),
        supersedes_order_id: Set(o.supersedes.map(|s| s.order_id)),
        chain_root_id: Set(o.supersedes.map(|s| s.chain_root_id).unwrap_or(id)),
        superseded_at: Set(None),
        terminated_at: Set(None),
        cancelled_at: Set(None),
        image_only: Set(o.image_only),
        criminal_stage: Set(o.law.criminal_stage.map(|s| s.as_db().to_owned())),
        custody_terms: Set(o.law.custody_terms.clone()),
        foreign_kind: Set(o
            .law
            .foreign_issuer
            .as_ref()
            .map(|f| f.kind.as_db().to_owned())),
        foreign_jurisdiction: Set(o
            .law
            .foreign_issuer
            .as_ref()
            .map(|f| f.jurisdiction.clone())),
        foreign_court: Set(o.law.foreign_issuer.as_ref().map(|f| f.court.clone())),
        foreign_case_number: Set(o.law.foreign_issuer.as_ref().map(|f| f.case_number.clone())),
        firearm_receipt_form: Set(None),
        firearm_receipt_filed_at: Set(None),
        firearm_receipt_agency_id: Set(None),
        firearm_finding: Set(None),
        firearm_finding_at: Set(None),
        entry_channel: Set(Some(o.channel.as_db().to_owned())),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Ids per `IN (…)` lookup (4 bytes each).
const ID_LOOKUP_CHUNK: usize = 2000;

/// Fails with the party's field path when an existing person id is unknown.
pub async fn check_existing_persons<C: ConnectionTrait>(
    conn: &C,
    orders: &[NewOrder],
) -> AppResult<()> {
    let wanted: BTreeSet<i32> = orders
        .iter()
        .flat_map(|o| o.parties.iter())
        .filter_map(|p| match p.person {
            PartyPerson::Existing(id) => Some(id),
            PartyPerson::New(_) => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut found = BTreeSet::new();
    let all: Vec<i32> = wanted.iter().copied().collect();
    for chunk in all.chunks(ID_LOOKUP_CHUNK) {
        let ids: Vec<i32> = person::Entity::find()
            .select_only()
            .column(person::Column::Id)
            .filter(person::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(ids);
    }
    for o in orders {
        for (i, p) in o.parties.iter().enumerate() {
            if let PartyPerson::Existing(id) = p.person
                && !found.contains(&id)
            {
                return Err(AppError::invalid(
                    format!("parties[{i}].personId"),
                    format!("no person with id {}", ids::encode(Kind::Person, id)),
                ));
            }
        }
    }
    Ok(())
}

/// A `createOrder` command checked against the reference data, not stored.
pub async fn validated(db: &DatabaseConnection, input: &CreateOrder) -> AppResult<NewOrder> {
    let refs = Refs::load(db).await?;
    Ok(validate::create_order(input, &refs, time::now())?)
}

/// `createOrder`: validates and stores one order in one transaction.
pub async fn create(db: &DatabaseConnection, input: &CreateOrder) -> AppResult<i32> {
    let new = validated(db, input).await?;
    let txn = crate::db::begin_write(db).await?;
    let ids = insert_batch(&txn, std::slice::from_ref(&new)).await?;
    txn.commit().await?;
    first(ids)
}

/// An order just entered and the active orders it conflicts with (which inform; the order is
/// entered regardless).
#[derive(Debug)]
pub struct Entered {
    pub order_id: i32,
    pub conflicts: Vec<Conflict>,
}

/// `createOrder` as a whole: stores the order, then checks it for conflicts.
pub async fn create_checked(
    db: &DatabaseConnection,
    search: &Search,
    input: &CreateOrder,
) -> AppResult<Entered> {
    let order_id = create(db, input).await?;
    let conflicts = conflicts::after_create(db, search, order_id).await?;
    Ok(Entered {
        order_id,
        conflicts,
    })
}

/// The one id a single-order insert returns.
pub(crate) fn first(ids: Vec<i32>) -> AppResult<i32> {
    ids.first()
        .copied()
        .ok_or_else(|| AppError::Internal(std::sync::Arc::new(anyhow::anyhow!("no id returned"))))
}

/// A lifecycle event row.
pub fn event(
    order_id: i32,
    kind: EventKind,
    at: DateTime<Utc>,
    related: Option<i32>,
    reason: Option<String>,
    source: EntrySource,
) -> order_event::ActiveModel {
    let now = chrono::Utc::now();
    order_event::ActiveModel {
        order_id: Set(order_id),
        kind: Set(kind.as_db().to_owned()),
        occurred_at: Set(at),
        related_order_id: Set(related),
        reason: Set(reason),
        source: Set(source.as_db().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}
