//! The write commands the service takes, whoever sends them (a GraphQL mutation, an NDJSON import
//! line, an image upload's record): plain data, not yet checked. `validate` turns them into the
//! write models of `model`, naming each offending field by its input path (`parties[0].person.dob`).
//! Ids are the opaque global ids callers send; validation decodes them, so a bad id is reported
//! in its turn and with its field like any other error.
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EyeColor, HairColor, PartyRole, PartyType, Race,
    ServiceMethod, Sex,
};
use crate::domain::law_records::{CriminalStage, ForeignKind};
use crate::domain::order_rules::{OrderFamily, OrderKind};

/// A field of a change: left as it is, cleared, or set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// `createOrder` (and each import line, and the data entry of an image-only order).
#[derive(Debug, Clone)]
pub struct CreateOrder {
    pub court_code: String,
    pub case_number: String,
    pub family: OrderFamily,
    pub form_number: String,
    /// Defaults to the form's kind.
    pub kind: Option<OrderKind>,
    pub issued_at: DateTime<Utc>,
    pub hearing_date: Option<NaiveDate>,
    /// None: until further order, where the law allows it.
    pub expires_at: Option<DateTime<Utc>>,
    pub judicial_officer: Option<String>,
    pub terms: Terms,
    pub parties: Vec<Party>,
    /// Defaults to the issuing court.
    pub source: Option<EntrySource>,
    pub entered_by_agency_ori: Option<String>,
    /// Criminal orders only; read from the expiry when not given.
    pub criminal_stage: Option<CriminalStage>,
    /// DV orders only: custody and visitation terms, which outlive the order.
    pub custody_terms: Option<String>,
    /// Out-of-state orders only, and required for them.
    pub foreign_issuer: Option<ForeignIssuer>,
}

impl CreateOrder {
    /// The restrained person's descriptors as the order states them, when it states any: a
    /// feed's modification carries the whole order, so it completes an entry CARPOS holds for
    /// lack of them as a clerk's `restrainedDescriptors` would.
    pub fn restrained_descriptors(&self) -> Option<RestrainedDescriptors> {
        let p = self
            .parties
            .iter()
            .find(|p| p.role == PartyRole::Restrained)?
            .person
            .as_ref()?;
        let d = RestrainedDescriptors {
            sex: p.sex,
            race: p.race,
            height_inches: p.height_inches,
            weight_pounds: p.weight_pounds,
            hair: p.hair,
            eye: p.eye,
        };
        let any = d.sex.is_some()
            || d.race.is_some()
            || d.height_inches.is_some()
            || d.weight_pounds.is_some()
            || d.hair.is_some()
            || d.eye.is_some();
        any.then_some(d)
    }
}

/// Who issued an order registered from another state, tribe or territory.
#[derive(Debug, Clone)]
pub struct ForeignIssuer {
    pub kind: ForeignKind,
    pub jurisdiction: String,
    pub court: String,
    pub case_number: String,
}

/// The terms of an order.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub pco_codes: Vec<String>,
    pub contact_level: Option<ContactLevel>,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTime<Utc>>,
    pub brady_indicator: Option<BradyIndicator>,
    pub special_conditions: Option<String>,
    pub notes: Option<String>,
}

/// A party: an existing person by global id, or a new person (exactly one of the two).
#[derive(Debug, Clone)]
pub struct Party {
    pub role: PartyRole,
    pub relationship: Option<String>,
    pub person_id: Option<String>,
    pub person: Option<PersonDetails>,
}

/// A person or organization not yet in the registry.
#[derive(Debug, Clone, Default)]
pub struct PersonDetails {
    pub party_type: Option<PartyType>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub suffix: Option<String>,
    pub organization_name: Option<String>,
    pub aliases: Vec<Alias>,
    pub dob: Option<NaiveDate>,
    pub estimated_age: Option<i32>,
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub hair: Option<HairColor>,
    pub eye: Option<EyeColor>,
    pub driver_license_number: Option<String>,
    pub driver_license_state: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub confidential: bool,
}

/// Another name a person is known by.
#[derive(Debug, Clone)]
pub struct Alias {
    pub last_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
}

/// `recordService`: proof of service of an order.
#[derive(Debug, Clone)]
pub struct RecordService {
    pub order_id: String,
    pub served_at: DateTime<Utc>,
    pub method: ServiceMethod,
    pub server_name: Option<String>,
    pub agency_ori: Option<String>,
    pub notes: Option<String>,
}

/// `modifyOrder`: a new order superseding `order_id`; what is not given stays.
#[derive(Debug, Clone)]
pub struct ModifyOrder {
    pub order_id: String,
    pub issued_at: DateTime<Utc>,
    pub form_number: Option<String>,
    pub kind: Option<OrderKind>,
    /// Clear: until further order, where the law allows it.
    pub expires_at: Patch<DateTime<Utc>>,
    pub hearing_date: Patch<NaiveDate>,
    pub judicial_officer: Option<String>,
    /// Replaces all terms when given.
    pub terms: Option<Terms>,
    pub reason: Option<String>,
    /// A criminal order's stage (a post-conviction order replacing a pre-judgment one).
    pub criminal_stage: Option<CriminalStage>,
    /// Replaces the custody and visitation terms when given.
    pub custody_terms: Option<String>,
    /// The restrained person's descriptors as found at the hearing, when given.
    pub restrained: Option<RestrainedDescriptors>,
}

/// Physical descriptors of a restrained person that a modification may bring (the Protection
/// Order File's mandatory data, docs/law/ncic.md#mandatory-data); given fields replace the
/// person record's, the others stay.
#[derive(Debug, Clone, Default)]
pub struct RestrainedDescriptors {
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub hair: Option<HairColor>,
    pub eye: Option<EyeColor>,
}

/// `renewOrder`: a renewal superseding `order_id` after hearing.
#[derive(Debug, Clone)]
pub struct RenewOrder {
    pub order_id: String,
    pub issued_at: DateTime<Utc>,
    /// None: permanent, where the law allows it (Fam. Code 6345(a)).
    pub expires_at: Option<DateTime<Utc>>,
    pub form_number: Option<String>,
    pub judicial_officer: Option<String>,
    /// Required for a domestic violence order (Fam. Code 6345(a)).
    pub request_filed_on: Option<NaiveDate>,
}

/// A successor order: both supersede an order in force by a new one of the same chain.
#[derive(Debug, Clone)]
pub enum OrderChange {
    Modify(ModifyOrder),
    Renew(RenewOrder),
}

impl OrderChange {
    /// The order superseded, as its global id.
    pub fn order_id(&self) -> &str {
        match self {
            Self::Modify(m) => &m.order_id,
            Self::Renew(r) => &r.order_id,
        }
    }
}

/// `terminateOrder`: a court order ending an order.
#[derive(Debug, Clone)]
pub struct TerminateOrder {
    pub order_id: String,
    pub terminated_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// `cancelOrder`: entered in error.
#[derive(Debug, Clone)]
pub struct CancelOrder {
    pub order_id: String,
    pub reason: String,
}

/// The minimal index record of an order registered by its image.
#[derive(Debug, Clone)]
pub struct ImageOnlyOrder {
    pub court_code: String,
    pub case_number: String,
    pub family: OrderFamily,
    /// Default: the time of registration.
    pub issued_at: Option<DateTime<Utc>>,
    pub parties: Vec<ImageOnlyParty>,
}

/// A party of an image-only order: name and date of birth only.
#[derive(Debug, Clone)]
pub struct ImageOnlyParty {
    pub role: PartyRole,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub organization_name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub confidential: bool,
}

/// `recordFirearmCompliance`: the relinquishment receipt filed with the court, the court's
/// finding, or both (docs/law/firearms.md).
#[derive(Debug, Clone)]
pub struct RecordFirearms {
    pub order_id: String,
    /// `DV-800`, `GV-800`, ...: with `receipt_filed_at`.
    pub receipt_form: Option<String>,
    pub receipt_filed_at: Option<DateTime<Utc>>,
    /// The agency that took the firearms, by ORI; with a receipt only.
    pub agency_ori: Option<String>,
    pub finding: Option<crate::domain::firearms::FirearmFinding>,
}
