//! Writes: creating orders (one or a batch) and the lifecycle (service, modification, renewal,
//! termination, cancellation). History is appended as events; an order row's lifecycle columns
//! are set once, guarded so a concurrent second write finds nothing to update.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entities::{
    agency, order, order_event, order_party, person, person_alias, search_outbox, service_record,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Iterable,
    QueryFilter, QuerySelect, Set,
};

use crate::db::{IdTable, allocate_ids};
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EventKind, PartyRole, PcoCode,
};
use crate::domain::order_rules::{
    OrderFamily, OrderKind, check_expiry, check_form, check_minimum, renewable, renewal_limit,
};
use crate::domain::ori::Ori;
use crate::domain::renewal::{DvRenewal, check_dv_renewal};
use crate::domain::status::OrderStatus;
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::graphql::inputs::{
    CancelOrderInput, CreateOrderInput, ModifyOrderInput, RecordServiceInput, RenewOrderInput,
    TerminateOrderInput,
};
use crate::ids::{self, Kind};
use crate::service::model::{Conditions, NewOrder, NewParty, NewPerson, PartyPerson, Supersedes};
use crate::service::reads::lifecycle;
use crate::service::refs::Refs;
use crate::service::validate;

/// Bound values per multi-row INSERT on PostgreSQL: small enough that one statement leaves the
/// client in a single write. sqlx 0.9.0 leaves Nagle's algorithm on (transact-rs/sqlx#4335), and
/// a message larger than the socket's initial 16 KiB send buffer goes out in two writes, the
/// second held ~40 ms for a delayed ACK. Measured in BENCHMARKS.md.
const PG_VALUES_PER_INSERT: usize = 800;
/// Bound values per multi-row INSERT on SQLite (in-process; limit 32,766).
const SQLITE_VALUES_PER_INSERT: usize = 30_000;

/// Inserts rows in multi-row statements sized for the backend.
pub async fn insert_chunked<A, C>(conn: &C, mut models: Vec<A>) -> AppResult<()>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
    let values = match conn.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => SQLITE_VALUES_PER_INSERT,
        _ => PG_VALUES_PER_INSERT,
    };
    let rows = (values / columns).max(1);
    while !models.is_empty() {
        let rest = models.split_off(models.len().min(rows));
        <A::Entity as EntityTrait>::insert_many(models)
            .exec_without_returning(conn)
            .await?;
        models = rest;
    }
    Ok(())
}

/// Inserts validated orders with their new persons, aliases, parties and `issued` events.
/// Call inside a transaction. Returns the new order ids, in input order.
pub async fn insert_batch<C: ConnectionTrait>(
    conn: &C,
    orders: &[NewOrder],
) -> AppResult<Vec<i32>> {
    check_existing_persons(conn, orders).await?;
    let order_ids = allocate_ids(conn, IdTable::Order, orders.len()).await?;
    let now = chrono::Utc::now();
    let order_rows = orders
        .iter()
        .zip(&order_ids)
        .map(|(o, &id)| order_row(o, id, now))
        .collect();
    // Image-only orders have no keyed issue time: their `issued` event comes with data entry.
    let events = orders
        .iter()
        .zip(&order_ids)
        .filter(|(o, _)| !o.image_only)
        .map(|(o, &id)| {
            event(
                id,
                EventKind::Issued,
                o.issued_at,
                o.supersedes.map(|s| s.order_id),
                None,
                o.source,
            )
        })
        .collect();
    insert_chunked(conn, order_rows).await?;
    let parties: Vec<(i32, &[NewParty])> = order_ids
        .iter()
        .zip(orders)
        .map(|(&id, o)| (id, o.parties.as_slice()))
        .collect();
    insert_parties(conn, &parties, now).await?;
    insert_chunked(conn, events).await?;
    insert_chunked(conn, outbox_rows(&order_ids, now)).await?;
    Ok(order_ids)
}

/// Inserts the new persons (with aliases) and party rows of each `(order id, parties)`.
/// Existing persons must have been checked (`check_existing_persons`).
pub async fn insert_parties<C: ConnectionTrait>(
    conn: &C,
    orders: &[(i32, &[NewParty])],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let new_persons = orders
        .iter()
        .flat_map(|(_, ps)| ps.iter())
        .filter(|p| matches!(p.person, PartyPerson::New(_)))
        .count();
    let person_ids = allocate_ids(conn, IdTable::Person, new_persons).await?;
    let mut persons = Vec::with_capacity(new_persons);
    let mut aliases = Vec::new();
    let mut parties = Vec::new();
    let mut next_person = person_ids.into_iter();
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
                    persons.push(person_row(np, id, now));
                    aliases.extend(alias_rows(np, id, now));
                    id
                }
            };
            parties.push(party_row(order_id, person_id, p, now));
        }
    }
    insert_chunked(conn, persons).await?;
    insert_chunked(conn, aliases).await?;
    insert_chunked(conn, parties).await
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
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Fails with the party's field path when an existing person id is unknown.
/// Ids per `IN (…)` lookup (4 bytes each).
const ID_LOOKUP_CHUNK: usize = 2000;

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

/// `createOrder`: validates and stores one order in one transaction.
pub async fn create(db: &DatabaseConnection, input: &CreateOrderInput) -> AppResult<i32> {
    let refs = Refs::load(db).await?;
    let new = validate::create_order(input, &refs, time::now())?;
    let txn = crate::db::begin_write(db).await?;
    let ids = insert_batch(&txn, std::slice::from_ref(&new)).await?;
    txn.commit().await?;
    ids.first()
        .copied()
        .ok_or_else(|| AppError::Internal(std::sync::Arc::new(anyhow::anyhow!("no id returned"))))
}

async fn load_order<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    gid: &str,
) -> AppResult<order::Model> {
    let id = ids::decode(field, Kind::Order, gid)?;
    order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("order {gid}")))
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

/// `recordService`: adds a proof of service and a `served` event.
pub async fn record_service(
    db: &DatabaseConnection,
    input: &RecordServiceInput,
) -> AppResult<(i32, service_record::Model)> {
    let served_at = validate::issued_at("servedAt", input.served_at, time::now())
        .map_err(|_| AppError::invalid("servedAt", "service time is in the future"))?;
    // One indexed lookup; loading all reference data is for whole orders.
    let agency_id = match input.agency_ori.as_deref() {
        Some(o) => {
            let ori = Ori::parse("agencyOri", o)?;
            let found = agency::Entity::find()
                .filter(agency::Column::Ori.eq(ori.as_str()))
                .one(db)
                .await?;
            Some(found.map(|a| a.id).ok_or_else(|| {
                AppError::invalid("agencyOri", format!("no agency with ORI {}", ori.as_str()))
            })?)
        }
        None => None,
    };
    let server_name = validate::text("serverName", input.server_name.as_deref(), 120)?;
    let notes = validate::text("notes", input.notes.as_deref(), validate::MAX_TEXT)?;
    let txn = crate::db::begin_write(db).await?;
    let o = load_order(&txn, "orderId", input.order_id.as_str()).await?;
    if served_at < o.issued_at {
        return Err(AppError::invalid(
            "servedAt",
            "service time is before the order was issued",
        ));
    }
    if o.cancelled_at.is_some() {
        return Err(AppError::conflict(
            "the order was cancelled as entered in error",
        ));
    }
    let now = chrono::Utc::now();
    let record = service_record::ActiveModel {
        order_id: Set(o.id),
        served_at: Set(served_at),
        method: Set(input.method.as_db().to_owned()),
        server_name: Set(server_name),
        agency_id: Set(agency_id),
        notes: Set(notes),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let source = if agency_id.is_some() {
        EntrySource::Lea
    } else {
        EntrySource::Court
    };
    order_event::Entity::insert(event(
        o.id,
        EventKind::Served,
        served_at,
        None,
        None,
        source,
    ))
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok((o.id, record))
}

fn conditions_of(o: &order::Model) -> AppResult<Conditions> {
    Ok(Conditions {
        pco_codes: PcoCode::list_from_db(&o.pco_codes),
        contact_level: ContactLevel::from_db(&o.contact_level)?,
        stay_away_yards: o.stay_away_yards,
        move_out: o.move_out,
        firearm_relinquishment: o.firearm_relinquishment,
        firearm_due_at: o.firearm_due_at,
        brady_indicator: BradyIndicator::from_db(&o.brady_indicator)?,
        special_conditions: o.special_conditions.clone(),
        notes: o.notes.clone(),
    })
}

/// The order as a template for its successor: same court, case, parties and terms.
async fn successor_template<C: ConnectionTrait>(
    conn: &C,
    o: &order::Model,
    issued_at: DateTime<Utc>,
) -> AppResult<NewOrder> {
    let parties = order_party::Entity::find()
        .filter(order_party::Column::OrderId.eq(o.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| {
            Ok(NewParty {
                role: PartyRole::from_db(&p.role)?,
                relationship: p.relationship,
                person: PartyPerson::Existing(p.person_id),
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let family = OrderFamily::from_db(&o.family)?;
    let form = check_form("formNumber", family, &o.form_number)?;
    Ok(NewOrder {
        court_id: o.court_id,
        case_number: CaseNumber::parse("caseNumber", &o.case_number)?,
        family,
        form_number: form.form,
        kind: OrderKind::from_db(&o.kind)?,
        issued_at,
        hearing_date: o.hearing_date,
        expires_at: o.expires_at,
        judicial_officer: o.judicial_officer.clone(),
        conditions: conditions_of(o)?,
        source: EntrySource::from_db(&o.source)?,
        entered_by_court_id: o.entered_by_court_id,
        entered_by_agency_id: o.entered_by_agency_id,
        parties,
        supersedes: Some(Supersedes {
            order_id: o.id,
            chain_root_id: o.chain_root_id,
        }),
        image_only: false,
    })
}

/// Only an order in force (or not yet in force) can be modified, renewed or terminated.
fn require_open(o: &order::Model, at: DateTime<Utc>, action: &str) -> AppResult<()> {
    if o.image_only {
        return Err(AppError::conflict(format!(
            "cannot {action} an image-only order before its data is entered (completeImageOnlyOrder)"
        )));
    }
    match lifecycle(o).status_at(at) {
        OrderStatus::Active | OrderStatus::Pending => Ok(()),
        OrderStatus::Expired if action == "renew" => Ok(()),
        status => Err(AppError::conflict(format!(
            "cannot {action} an order that is {}",
            status.as_db()
        ))),
    }
}

/// Sets one lifecycle projection column, once. With `open_only` the order must also not have
/// ended otherwise (superseded, terminated, cancelled). The guard sits in the UPDATE itself, so
/// of two concurrent writers one finds nothing to update and gets `CONFLICT`.
async fn set_once<C: ConnectionTrait>(
    conn: &C,
    order_id: i32,
    column: order::Column,
    at: DateTime<Utc>,
    open_only: bool,
    conflict: &str,
) -> AppResult<()> {
    let mut update = order::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .col_expr(order::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(order::Column::Id.eq(order_id))
        .filter(column.is_null());
    if open_only {
        for c in [
            order::Column::SupersededAt,
            order::Column::TerminatedAt,
            order::Column::CancelledAt,
        ] {
            update = update.filter(c.is_null());
        }
    }
    if update.exec(conn).await?.rows_affected != 1 {
        return Err(AppError::conflict(conflict));
    }
    Ok(())
}

const CHANGED_ELSEWHERE: &str = "the order was changed by someone else; reload it";

/// Marks `old` superseded by `new_id` and records the event on it.
async fn supersede<C: ConnectionTrait>(
    conn: &C,
    old: &order::Model,
    new_id: i32,
    at: DateTime<Utc>,
    kind: EventKind,
    reason: Option<String>,
) -> AppResult<()> {
    set_once(
        conn,
        old.id,
        order::Column::SupersededAt,
        at,
        true,
        CHANGED_ELSEWHERE,
    )
    .await?;
    order_event::Entity::insert(event(
        old.id,
        kind,
        at,
        Some(new_id),
        reason,
        EntrySource::Court,
    ))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// `modifyOrder`: a new order, linked to and superseding the old one.
pub async fn modify(db: &DatabaseConnection, input: &ModifyOrderInput) -> AppResult<(i32, i32)> {
    let now = time::now();
    let issued_at = validate::issued_at("issuedAt", input.issued_at, now)?;
    let reason = validate::text("reason", input.reason.as_deref(), validate::MAX_TEXT)?;
    let txn = crate::db::begin_write(db).await?;
    let old = load_order(&txn, "orderId", input.order_id.as_str()).await?;
    require_open(&old, now, "modify")?;
    if issued_at < old.issued_at {
        return Err(AppError::invalid(
            "issuedAt",
            "a modification cannot be issued before the order it modifies",
        ));
    }
    let mut new = successor_template(&txn, &old, issued_at).await?;
    let rule = check_form(
        "formNumber",
        new.family,
        input.form_number.as_deref().unwrap_or(new.form_number),
    )?;
    validate::check_kind(rule, input.kind)?;
    new.form_number = rule.form;
    new.kind = rule.kind;
    match &input.expires_at {
        async_graphql::MaybeUndefined::Undefined => {}
        async_graphql::MaybeUndefined::Null => new.expires_at = None,
        async_graphql::MaybeUndefined::Value(t) => new.expires_at = Some(time::to_seconds(*t)),
    }
    if new.expires_at.is_none() {
        new.expires_at = crate::domain::order_rules::implied_expiry(rule, issued_at);
    }
    check_minimum("expiresAt", rule, issued_at, new.expires_at)?;
    check_expiry(
        "expiresAt",
        issued_at,
        new.expires_at,
        rule.expiry_required,
        rule.limit,
        rule.citation,
        rule.form,
    )?;
    match &input.hearing_date {
        async_graphql::MaybeUndefined::Undefined => {}
        async_graphql::MaybeUndefined::Null => new.hearing_date = None,
        async_graphql::MaybeUndefined::Value(d) => {
            new.hearing_date = validate::hearing_date("hearingDate", Some(*d), issued_at)?
        }
    }
    if let Some(j) = &input.judicial_officer {
        new.judicial_officer = validate::text("judicialOfficer", Some(j), 120)?;
    }
    if let Some(c) = &input.conditions {
        new.conditions = validate::conditions(c, issued_at).map_err(|e| e.at("conditions"))?;
    }
    let new_id = first(insert_batch(&txn, std::slice::from_ref(&new)).await?)?;
    supersede(&txn, &old, new_id, issued_at, EventKind::Modified, reason).await?;
    txn.commit().await?;
    Ok((new_id, old.id))
}

/// `renewOrder`: a renewal order superseding an order after hearing.
pub async fn renew(db: &DatabaseConnection, input: &RenewOrderInput) -> AppResult<(i32, i32)> {
    let now = time::now();
    let issued_at = validate::issued_at("issuedAt", input.issued_at, now)?;
    let txn = crate::db::begin_write(db).await?;
    let old = load_order(&txn, "orderId", input.order_id.as_str()).await?;
    require_open(&old, now, "renew")?;
    let family = OrderFamily::from_db(&old.family)?;
    let kind = OrderKind::from_db(&old.kind)?;
    if !renewable(family, kind) {
        return Err(AppError::conflict(format!(
            "a {} order of kind {} cannot be renewed; issue a new order",
            old.form_number,
            kind.as_db()
        )));
    }
    if issued_at < old.issued_at {
        return Err(AppError::invalid(
            "issuedAt",
            "a renewal cannot be issued before the order it renews",
        ));
    }
    let mut new = successor_template(&txn, &old, issued_at).await?;
    if let Some(f) = &input.form_number {
        let rule = check_form("formNumber", family, f)?;
        if rule.kind != kind {
            return Err(AppError::invalid(
                "formNumber",
                format!("form {} is not a {} order", rule.form, kind.as_db()),
            ));
        }
        new.form_number = rule.form;
    }
    new.expires_at = input.expires_at.map(time::to_seconds);
    if family == OrderFamily::Dv {
        check_dv_renewal(DvRenewal {
            old_expires_at: old.expires_at,
            issued_at,
            expires_at: new.expires_at,
            request_filed_on: input.request_filed_on,
        })?;
    }
    let (limit, citation) = renewal_limit(family);
    let required = !matches!(limit, crate::domain::order_rules::Limit::Unlimited);
    check_expiry(
        "expiresAt",
        issued_at,
        new.expires_at,
        required,
        limit,
        citation,
        "a renewal",
    )?;
    if let Some(j) = &input.judicial_officer {
        new.judicial_officer = validate::text("judicialOfficer", Some(j), 120)?;
    }
    let new_id = first(insert_batch(&txn, std::slice::from_ref(&new)).await?)?;
    supersede(&txn, &old, new_id, issued_at, EventKind::Renewed, None).await?;
    txn.commit().await?;
    Ok((new_id, old.id))
}

/// `terminateOrder`: ends an order by court order.
pub async fn terminate(db: &DatabaseConnection, input: &TerminateOrderInput) -> AppResult<i32> {
    let now = time::now();
    let at = validate::issued_at("terminatedAt", input.terminated_at, now)
        .map_err(|_| AppError::invalid("terminatedAt", "termination time is in the future"))?;
    let reason = validate::text("reason", input.reason.as_deref(), validate::MAX_TEXT)?;
    let txn = crate::db::begin_write(db).await?;
    let o = load_order(&txn, "orderId", input.order_id.as_str()).await?;
    require_open(&o, now, "terminate")?;
    if at < o.issued_at {
        return Err(AppError::invalid(
            "terminatedAt",
            "termination time is before the order was issued",
        ));
    }
    set_once(
        &txn,
        o.id,
        order::Column::TerminatedAt,
        at,
        true,
        CHANGED_ELSEWHERE,
    )
    .await?;
    order_event::Entity::insert(event(
        o.id,
        EventKind::Terminated,
        at,
        None,
        reason,
        EntrySource::Court,
    ))
    .exec_without_returning(&txn)
    .await?;
    insert_chunked(&txn, outbox_rows(&[o.id], chrono::Utc::now())).await?;
    txn.commit().await?;
    Ok(o.id)
}

/// `cancelOrder`: entered in error. The order and its history stay; it shows as cancelled.
pub async fn cancel(db: &DatabaseConnection, input: &CancelOrderInput) -> AppResult<i32> {
    let reason = validate::text("reason", Some(&input.reason), validate::MAX_TEXT)?
        .ok_or_else(|| AppError::invalid("reason", "say why the order is cancelled"))?;
    let now = time::now();
    let txn = crate::db::begin_write(db).await?;
    let o = load_order(&txn, "orderId", input.order_id.as_str()).await?;
    set_once(
        &txn,
        o.id,
        order::Column::CancelledAt,
        now,
        false,
        "the order is already cancelled",
    )
    .await?;
    order_event::Entity::insert(event(
        o.id,
        EventKind::Cancelled,
        now,
        None,
        Some(reason),
        EntrySource::Court,
    ))
    .exec_without_returning(&txn)
    .await?;
    insert_chunked(&txn, outbox_rows(&[o.id], chrono::Utc::now())).await?;
    txn.commit().await?;
    Ok(o.id)
}

fn first(ids: Vec<i32>) -> AppResult<i32> {
    ids.first()
        .copied()
        .ok_or_else(|| AppError::Internal(std::sync::Arc::new(anyhow::anyhow!("no id returned"))))
}
