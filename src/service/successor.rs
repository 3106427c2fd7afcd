//! Modification and renewal: one path for both. Each enters a new order of the same chain (same
//! court, case, parties; terms as changed) and marks the order it supersedes, in one transaction;
//! they differ only in what may change and in the rules the new order's dates must follow.
use chrono::{DateTime, Utc};
use entities::{order, order_event, order_party};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::carpos::mapping::Trigger;
use crate::carpos::outbox;
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, Channel, ContactLevel, EntrySource, EventKind, PartyRole, PcoCode,
};
use crate::domain::epo;
use crate::domain::law_records::{self, CriminalStage, ForeignIssuer, ForeignKind};
use crate::domain::order_rules::{
    Limit, OrderFamily, OrderKind, check_expiry, check_form, check_minimum, implied_expiry,
    renewable, renewal_rule,
};
use crate::domain::renewal::{Renewal, check_renewal};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::search::Search;
use crate::service::commands::{ModifyOrder, OrderChange, Patch, RenewOrder};
use crate::service::conflicts::{self, Conflict};
use crate::service::descriptors;
use crate::service::lifecycle::{CHANGED_ELSEWHERE, load_order, require_open, set_once};
use crate::service::model::{Conditions, LawRecord, NewOrder, NewParty, PartyPerson, Supersedes};
use crate::service::orders::{event, first, insert_batch};
use crate::service::validate;

/// A successor entered: the new order, the one it superseded, and the active orders of other
/// chains the new one conflicts with (a successor is a new order and is checked like one).
#[derive(Debug)]
pub struct Changed {
    pub order_id: i32,
    pub previous_order_id: i32,
    pub conflicts: Vec<Conflict>,
}

/// `modifyOrder` and `renewOrder` as a whole: enters the successor, then checks it for conflicts.
pub async fn change_checked(
    db: &DatabaseConnection,
    search: &Search,
    change: &OrderChange,
) -> AppResult<Changed> {
    let (order_id, previous_order_id) = change_order(db, change).await?;
    let conflicts = conflicts::after_create(db, search, order_id).await?;
    Ok(Changed {
        order_id,
        previous_order_id,
        conflicts,
    })
}

/// Enters the successor order and supersedes the old one. Returns (new id, old id).
pub async fn change_order(db: &DatabaseConnection, change: &OrderChange) -> AppResult<(i32, i32)> {
    let txn = crate::db::begin_write(db).await?;
    let ids = change_order_in(&txn, change, Channel::Graphql).await?;
    txn.commit().await?;
    Ok(ids)
}

/// `change_order` inside the caller's write transaction (a feed message stores its own record
/// with the order it changes), the successor marked as coming by `channel`.
pub async fn change_order_in<C: ConnectionTrait>(
    txn: &C,
    change: &OrderChange,
    channel: Channel,
) -> AppResult<(i32, i32)> {
    let now = time::now();
    let (issued_at, action, kind, too_early) = match change {
        OrderChange::Modify(m) => (
            m.issued_at,
            "modify",
            EventKind::Modified,
            "a modification cannot be issued before the order it modifies",
        ),
        OrderChange::Renew(r) => (
            r.issued_at,
            "renew",
            EventKind::Renewed,
            "a renewal cannot be issued before the order it renews",
        ),
    };
    let issued_at = validate::issued_at("issuedAt", issued_at, now)?;
    let reason = match change {
        OrderChange::Modify(m) => {
            validate::text("reason", m.reason.as_deref(), validate::MAX_TEXT)?
        }
        OrderChange::Renew(_) => None,
    };
    let restrained = match change {
        OrderChange::Modify(m) => m.restrained.as_ref(),
        OrderChange::Renew(_) => None,
    };
    if let Some(d) = restrained {
        descriptors::check(d)?;
    }
    let old = load_order(txn, "orderId", change.order_id()).await?;
    require_open(&old, now, action)?;
    if matches!(change, OrderChange::Renew(_)) {
        check_renewable(&old, issued_at)?;
    }
    if issued_at < old.issued_at {
        return Err(AppError::invalid("issuedAt", too_early));
    }
    let mut new = successor_template(txn, &old, issued_at).await?;
    new.channel = channel;
    match change {
        OrderChange::Modify(m) => modified(&mut new, m, issued_at)?,
        OrderChange::Renew(r) => renewed(&mut new, r, &old, issued_at)?,
    }
    let new_id = first(insert_batch(txn, std::slice::from_ref(&new)).await?)?;
    supersede(txn, &old, new_id, issued_at, kind, reason).await?;
    let trigger = match change {
        OrderChange::Renew(_) => Trigger::Renewal,
        OrderChange::Modify(_) if after_hearing(&old, &new) => Trigger::OrderAfterHearing,
        OrderChange::Modify(_) => Trigger::Modification,
    };
    if let Some(d) = restrained {
        descriptors::apply(txn, new_id, d).await?;
    }
    outbox::queue_change(txn, new_id, trigger).await?;
    Ok((new_id, old.id))
}

/// A temporary or emergency order followed by an order after hearing (a DV-110 by a DV-130).
fn after_hearing(old: &order::Model, new: &NewOrder) -> bool {
    matches!(
        OrderKind::from_db(&old.kind),
        Ok(OrderKind::Temporary | OrderKind::Emergency)
    ) && new.kind == OrderKind::AfterHearing
}

/// Only some orders are renewed; the others end, and a new order is issued instead.
/// Which are: the rules table's `[[renewal]]` rows in force on the renewal's issue day.
fn check_renewable(old: &order::Model, issued_at: DateTime<Utc>) -> AppResult<()> {
    let family = OrderFamily::from_db(&old.family)?;
    let kind = OrderKind::from_db(&old.kind)?;
    if !renewable(family, kind, issued_at) {
        return Err(AppError::conflict(format!(
            "a {} order of kind {} cannot be renewed; issue a new order",
            old.form_number,
            kind.as_db()
        )));
    }
    Ok(())
}

/// A modification: any of form, kind, dates, judicial officer and terms, each checked against
/// the (possibly new) form's rules.
fn modified(new: &mut NewOrder, input: &ModifyOrder, issued_at: DateTime<Utc>) -> AppResult<()> {
    let rule = check_form(
        "formNumber",
        new.family,
        input.form_number.as_deref().unwrap_or(new.form_number),
        issued_at,
    )?;
    validate::check_kind(rule, input.kind)?;
    new.form_number = rule.form.as_str();
    new.kind = rule.kind;
    match input.expires_at {
        Patch::Keep => {}
        Patch::Clear => new.expires_at = None,
        Patch::Set(t) => new.expires_at = Some(time::to_seconds(t)),
    }
    if new.expires_at.is_none() {
        new.expires_at = implied_expiry(rule, issued_at);
    }
    check_minimum("expiresAt", rule, issued_at, new.expires_at)?;
    check_expiry(
        "expiresAt",
        issued_at,
        new.expires_at,
        rule.expiry_required,
        rule.limit,
        &rule.source,
        &rule.form,
    )?;
    epo::check_expiry("expiresAt", rule, issued_at, new.expires_at)?;
    match input.hearing_date {
        Patch::Keep => {}
        Patch::Clear => new.hearing_date = None,
        Patch::Set(d) => {
            new.hearing_date = validate::hearing_date("hearingDate", Some(d), issued_at)?;
        }
    }
    if let Some(j) = &input.judicial_officer {
        new.judicial_officer = validate::text("judicialOfficer", Some(j), 120)?;
    }
    if let Some(c) = &input.terms {
        new.conditions = validate::conditions(c, issued_at).map_err(|e| e.at("conditions"))?;
    }
    // A stage given replaces the old one; either way it must fit the new expiry (PC 136.2(i)(1)).
    new.law.criminal_stage = law_records::criminal_stage(
        "criminalStage",
        new.family,
        input.criminal_stage.or(new.law.criminal_stage),
        new.expires_at,
    )?;
    if let Some(c) = &input.custody_terms {
        new.law.custody_terms = law_records::custody_terms(
            "custodyTerms",
            new.family,
            validate::text("custodyTerms", Some(c), validate::MAX_TEXT)?,
        )?;
    }
    Ok(())
}

/// What the law recorded on a stored order, carried over to its successor.
pub fn law_record_of(o: &order::Model) -> AppResult<LawRecord> {
    let foreign_issuer = match (
        &o.foreign_kind,
        &o.foreign_jurisdiction,
        &o.foreign_court,
        &o.foreign_case_number,
    ) {
        (Some(k), Some(j), Some(c), Some(n)) => Some(ForeignIssuer {
            kind: ForeignKind::from_db(k)?,
            jurisdiction: j.clone(),
            court: c.clone(),
            case_number: n.clone(),
        }),
        _ => None,
    };
    Ok(LawRecord {
        criminal_stage: o
            .criminal_stage
            .as_deref()
            .map(CriminalStage::from_db)
            .transpose()?,
        custody_terms: o.custody_terms.clone(),
        foreign_issuer,
    })
}

/// A renewal: a new expiry under the renewal limits (and, for a domestic violence order, the
/// request's timing), optionally a new form of the same kind and a judicial officer.
fn renewed(
    new: &mut NewOrder,
    input: &RenewOrder,
    old: &order::Model,
    issued_at: DateTime<Utc>,
) -> AppResult<()> {
    let (family, kind) = (new.family, new.kind);
    if let Some(f) = &input.form_number {
        let rule = check_form("formNumber", family, f, issued_at)?;
        if rule.kind != kind {
            return Err(AppError::invalid(
                "formNumber",
                format!("form {} is not a {} order", rule.form, kind.as_db()),
            ));
        }
        new.form_number = rule.form.as_str();
    }
    new.expires_at = input.expires_at.map(time::to_seconds);
    let rule = renewal_rule(family, issued_at).ok_or_else(|| {
        AppError::conflict(format!(
            "orders of family {} are not renewed on {}; issue a new order",
            family.as_db(),
            issued_at.date_naive()
        ))
    })?;
    check_renewal(
        rule,
        Renewal {
            old_expires_at: old.expires_at,
            issued_at,
            expires_at: new.expires_at,
            request_filed_on: input.request_filed_on,
        },
    )?;
    let required = !matches!(rule.max, Limit::Unlimited);
    check_expiry(
        "expiresAt",
        issued_at,
        new.expires_at,
        required,
        rule.max,
        &rule.source,
        "a renewal",
    )?;
    if let Some(j) = &input.judicial_officer {
        new.judicial_officer = validate::text("judicialOfficer", Some(j), 120)?;
    }
    Ok(())
}

/// The terms an order was stored with.
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
    // The stored form, named as the rules table spells it (any of its rows: the successor is
    // judged by the rows in force on its own issue day).
    let form = crate::domain::rules::active()
        .form_rows(&o.form_number)
        .next()
        .ok_or_else(|| {
            AppError::invalid(
                "formNumber",
                format!("the rules table has no form {}", o.form_number),
            )
        })?;
    Ok(NewOrder {
        court_id: o.court_id,
        case_number: CaseNumber::parse("caseNumber", &o.case_number)?,
        family,
        form_number: form.form.as_str(),
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
        law: law_record_of(o)?,
        channel: crate::domain::codes::Channel::Graphql,
    })
}

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
