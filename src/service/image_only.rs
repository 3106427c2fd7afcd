//! Orders registered by image alone (courts whose participation mode is `image_only`): a minimal
//! index record (court, case number, family, party names and DOBs) makes them searchable like any
//! other order; a later data entry completes the same order instead of adding a second one.
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entities::{order, order_party, person, search_outbox};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set,
};

use crate::domain::Invalid;
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EventKind, ParticipationMode, PartyType,
};
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderKind;
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::service::commands::{CreateOrder, ImageOnlyOrder, Party, PersonDetails};
use crate::service::model::{Conditions, NewOrder};
use crate::service::orders::{
    check_existing_persons, event, insert_batch, insert_chunked, insert_parties, order_row,
    outbox_rows,
};
use crate::service::refs::Refs;
use crate::service::validate;

/// Validates an index record into an order marked image-only (form, kind and terms not keyed).
pub fn validate_record(
    input: &ImageOnlyOrder,
    refs: &Refs,
    now: DateTime<Utc>,
) -> Result<NewOrder, Invalid> {
    let (code, court) = validate::court(&input.court_code, refs)?;
    if court.mode != ParticipationMode::ImageOnly {
        return Err(Invalid::new(
            "courtCode",
            format!(
                "court {} does not take part as image-only; enter the order with createOrder",
                code.as_str()
            ),
        ));
    }
    let case_number = CaseNumber::parse("caseNumber", &input.case_number)?;
    let issued_at = match input.issued_at {
        Some(t) => validate::issued_at("issuedAt", t, now)?,
        None => time::to_seconds(now),
    };
    let parties: Vec<Party> = input
        .parties
        .iter()
        .map(|p| Party {
            role: p.role,
            relationship: None,
            person_id: None,
            person: Some(PersonDetails {
                party_type: p
                    .organization_name
                    .as_ref()
                    .map(|_| PartyType::Organization),
                last_name: p.last_name.clone(),
                first_name: p.first_name.clone(),
                middle_name: p.middle_name.clone(),
                organization_name: p.organization_name.clone(),
                dob: p.dob,
                confidential: p.confidential,
                ..PersonDetails::default()
            }),
        })
        .collect();
    let parties = validate::parties(&parties, input.family, now.date_naive(), now)?;
    Ok(NewOrder {
        court_id: court.id,
        case_number,
        family: input.family,
        form_number: "",
        kind: OrderKind::NotKeyed,
        issued_at,
        hearing_date: None,
        expires_at: None,
        judicial_officer: None,
        conditions: Conditions {
            pco_codes: Vec::new(),
            contact_level: ContactLevel::None,
            stay_away_yards: None,
            move_out: false,
            firearm_relinquishment: false,
            firearm_due_at: None,
            brady_indicator: BradyIndicator::Unknown,
            special_conditions: None,
            notes: None,
        },
        source: EntrySource::Court,
        entered_by_court_id: Some(court.id),
        entered_by_agency_id: None,
        parties,
        supersedes: None,
        image_only: true,
        law: Default::default(),
        channel: crate::domain::codes::Channel::Graphql,
    })
}

/// Inserts a validated image-only order (with its search outbox row); call inside the upload's
/// transaction. Returns the order id.
pub async fn insert_record<C: ConnectionTrait>(conn: &C, new: &NewOrder) -> AppResult<i32> {
    insert_batch(conn, std::slice::from_ref(new))
        .await?
        .first()
        .copied()
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no id returned")))
}

/// `completeImageOnlyOrder`: data entry into an image-only order. The input is what
/// `createOrder` takes; court and case number must be the order's. The order row gets the keyed
/// data, its parties are replaced (reuse a scan-time person by `personId`; scan-time persons no
/// longer named anywhere are removed), the `issued` event is recorded and search is told.
pub async fn complete(
    db: &DatabaseConnection,
    order_gid: &str,
    input: &CreateOrder,
) -> AppResult<i32> {
    let order_id = ids::decode("orderId", Kind::Order, order_gid)?;
    let refs = Refs::load(db).await?;
    let now = time::now();
    let new = validate::create_order(input, &refs, now)?;
    let txn = crate::db::begin_write(db).await?;
    let o = order::Entity::find_by_id(order_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("order {order_gid}")))?;
    if !o.image_only {
        return Err(AppError::conflict(
            "the order's data is already entered; use modifyOrder to change it",
        ));
    }
    if new.court_id != o.court_id {
        return Err(AppError::invalid(
            "courtCode",
            "must be the court the image was registered for",
        ));
    }
    if new.case_number.key() != o.case_number_key {
        return Err(AppError::invalid(
            "caseNumber",
            format!("must be the registered case number {}", o.case_number),
        ));
    }
    check_existing_persons(&txn, std::slice::from_ref(&new)).await?;
    let stamp = chrono::Utc::now();
    let mut row = order_row(&new, o.id, stamp);
    row.chain_root_id = Set(o.id);
    row.image_only = Set(false);
    row.created_at = ActiveValue::NotSet;
    row.id = ActiveValue::NotSet;
    // Guarded: of two concurrent completions one finds nothing to update.
    let updated = order::Entity::update_many()
        .set(row)
        .filter(order::Column::Id.eq(o.id))
        .filter(order::Column::ImageOnly.eq(true))
        .exec(&txn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(AppError::conflict(
            "the order was completed by someone else; reload it",
        ));
    }
    let scan_persons: BTreeSet<i32> = order_party::Entity::find()
        .select_only()
        .column(order_party::Column::PersonId)
        .filter(order_party::Column::OrderId.eq(o.id))
        .into_tuple::<i32>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    order_party::Entity::delete_many()
        .filter(order_party::Column::OrderId.eq(o.id))
        .exec(&txn)
        .await?;
    insert_parties(&txn, &[(o.id, new.parties.as_slice())], stamp).await?;
    // Scan-time persons the data entry did not keep, and no other order names, go.
    let still_named: BTreeSet<i32> = order_party::Entity::find()
        .select_only()
        .column(order_party::Column::PersonId)
        .filter(order_party::Column::PersonId.is_in(scan_persons.iter().copied()))
        .into_tuple::<i32>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    let dropped: Vec<i32> = scan_persons.difference(&still_named).copied().collect();
    if !dropped.is_empty() {
        person::Entity::delete_many()
            .filter(person::Column::Id.is_in(dropped.iter().copied()))
            .exec(&txn)
            .await?;
    }
    entities::order_event::Entity::insert(event(
        o.id,
        EventKind::Issued,
        new.issued_at,
        None,
        None,
        new.source,
    ))
    .exec_without_returning(&txn)
    .await?;
    let mut outbox = outbox_rows(&[o.id], stamp);
    outbox.extend(dropped.iter().map(|&pid| search_outbox::ActiveModel {
        order_id: Set(None),
        person_id: Set(Some(pid)),
        created_at: Set(stamp),
        updated_at: Set(stamp),
        ..Default::default()
    }));
    insert_chunked(&txn, outbox).await?;
    // Keyed at last: the order enters CARPOS now.
    crate::carpos::outbox::queue_entries(&txn, &[o.id]).await?;
    txn.commit().await?;
    Ok(o.id)
}
