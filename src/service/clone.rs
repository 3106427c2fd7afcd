//! Cloning an order (a CCPOR feature): a new order started from an existing one's parties and
//! terms. The clone is a new order of its own, not a successor: it is validated like any
//! `createOrder` under the rules of its own form and issue date, and its parties are the same
//! person records.
use chrono::{DateTime, NaiveDate, Utc};
use entities::{order, order_party};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::codes::{BradyIndicator, ContactLevel, PartyRole, PcoCode};
use crate::domain::ids::{self, Kind};
use crate::domain::law_records::ForeignKind;
use crate::domain::order_rules::OrderFamily;
use crate::error::{AppError, AppResult};
use crate::service::commands::{CreateOrder, ForeignIssuer, Party, Terms};

/// What the clone changes; what is not given is the source's.
#[derive(Debug, Clone)]
pub struct CloneOrder {
    pub order_id: String,
    /// Defaults to the source's court.
    pub court_code: Option<String>,
    /// Defaults to the source's case number.
    pub case_number: Option<String>,
    /// Defaults to the source's family and form.
    pub family: Option<OrderFamily>,
    pub form_number: Option<String>,
    pub issued_at: DateTime<Utc>,
    /// Not carried over: the clone's own expiry, checked against its form (none: until further
    /// order, where the law allows it).
    pub expires_at: Option<DateTime<Utc>>,
    pub hearing_date: Option<NaiveDate>,
    pub judicial_officer: Option<String>,
}

/// The `createOrder` command for the clone of `source` (whose court's code is `court_code`).
/// The relinquishment due time is not carried over (it was set for the source's issuance), nor
/// a criminal order's stage (read anew from the clone's expiry).
pub async fn command<C: ConnectionTrait>(
    conn: &C,
    source: &order::Model,
    court_code: &str,
    input: &CloneOrder,
) -> AppResult<CreateOrder> {
    let parties = order_party::Entity::find()
        .filter(order_party::Column::OrderId.eq(source.id))
        .order_by_asc(order_party::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| {
            Ok(Party {
                role: PartyRole::from_db(&p.role)?,
                relationship: p.relationship,
                person_id: Some(ids::encode(Kind::Person, p.person_id)),
                person: None,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    let source_family = OrderFamily::from_db(&source.family)?;
    let family = input.family.unwrap_or(source_family);
    let form_number = match (&input.form_number, input.family) {
        (Some(f), _) => f.clone(),
        (None, Some(f)) if f != source_family => {
            return Err(AppError::invalid(
                "formNumber",
                "a clone into another family names its form",
            ));
        }
        (None, _) => source.form_number.clone(),
    };
    let foreign_issuer = match (
        family == source_family,
        &source.foreign_kind,
        &source.foreign_jurisdiction,
        &source.foreign_court,
        &source.foreign_case_number,
    ) {
        (true, Some(k), Some(j), Some(c), Some(n)) => Some(ForeignIssuer {
            kind: ForeignKind::from_db(k)?,
            jurisdiction: j.clone(),
            court: c.clone(),
            case_number: n.clone(),
        }),
        _ => None,
    };
    Ok(CreateOrder {
        court_code: input
            .court_code
            .clone()
            .unwrap_or_else(|| court_code.to_owned()),
        case_number: input
            .case_number
            .clone()
            .unwrap_or_else(|| source.case_number.clone()),
        family,
        form_number,
        kind: None,
        issued_at: input.issued_at,
        hearing_date: input.hearing_date,
        expires_at: input.expires_at,
        judicial_officer: input
            .judicial_officer
            .clone()
            .or_else(|| source.judicial_officer.clone()),
        terms: Terms {
            pco_codes: PcoCode::list_from_db(&source.pco_codes)
                .into_iter()
                .map(PcoCode::as_str)
                .collect(),
            contact_level: Some(ContactLevel::from_db(&source.contact_level)?),
            stay_away_yards: source.stay_away_yards,
            move_out: source.move_out,
            firearm_relinquishment: source.firearm_relinquishment,
            firearm_due_at: None,
            brady_indicator: Some(BradyIndicator::from_db(&source.brady_indicator)?),
            special_conditions: source.special_conditions.clone(),
            notes: source.notes.clone(),
        },
        parties,
        source: None,
        entered_by_agency_ori: None,
        criminal_stage: None,
        custody_terms: (family == OrderFamily::Dv)
            .then(|| source.custody_terms.clone())
            .flatten(),
        foreign_issuer,
    })
}
