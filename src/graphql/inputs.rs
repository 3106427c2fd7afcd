//! GraphQL input types. The NDJSON import parses each line into `CreateOrderInput` too, so a feed
//! line and a mutation go through the same parsing and validation.
use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EyeColor, HairColor, PartyRole, PartyType, Race,
    ServiceMethod, Sex,
};
use crate::domain::order_rules::{OrderFamily, OrderKind};

/// A new order with its parties, entered in one transaction.
#[derive(InputObject, Debug, Clone)]
pub struct CreateOrderInput {
    /// Issuing court code, e.g. `SC19` (Los Angeles) or `TC01`.
    pub court_code: String,
    /// As written on the order.
    pub case_number: String,
    pub family: OrderFamily,
    /// Judicial Council form, e.g. `DV-110`; must belong to `family`.
    pub form_number: String,
    /// Defaults to the form's kind; if given it must match.
    pub kind: Option<OrderKind>,
    pub issued_at: DateTime<Utc>,
    pub hearing_date: Option<NaiveDate>,
    /// Omit or null for orders that run until further order, where the law allows it.
    pub expires_at: Option<DateTime<Utc>>,
    pub judicial_officer: Option<String>,
    #[graphql(default)]
    pub conditions: ConditionsInput,
    /// At least one restrained and one protected party.
    pub parties: Vec<PartyInput>,
    /// Who is entering the order; defaults to the issuing court.
    pub source: Option<EntrySource>,
    /// Required when `source` is `LEA`.
    pub entered_by_agency_ori: Option<String>,
}

/// Terms of an order.
#[derive(InputObject, Debug, Clone, Default)]
pub struct ConditionsInput {
    /// NCIC PCO codes `01`–`09`.
    #[graphql(default)]
    pub pco_codes: Vec<String>,
    pub contact_level: Option<ContactLevel>,
    /// Stay-away distance in yards.
    pub stay_away_yards: Option<i32>,
    #[graphql(default)]
    pub move_out: bool,
    #[graphql(default)]
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTime<Utc>>,
    pub brady_indicator: Option<BradyIndicator>,
    pub special_conditions: Option<String>,
    pub notes: Option<String>,
}

/// A party: an existing person by id, or a new person.
#[derive(InputObject, Debug, Clone)]
pub struct PartyInput {
    pub role: PartyRole,
    /// Relationship to the protected person, as on the form.
    pub relationship: Option<String>,
    pub person_id: Option<ID>,
    pub person: Option<NewPersonInput>,
}

/// A person or organization not yet in the registry.
#[derive(InputObject, Debug, Clone)]
pub struct NewPersonInput {
    pub party_type: Option<PartyType>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub suffix: Option<String>,
    /// For `ORGANIZATION` parties.
    pub organization_name: Option<String>,
    #[graphql(default)]
    pub aliases: Vec<AliasInput>,
    pub dob: Option<NaiveDate>,
    /// When the DOB is unknown.
    pub estimated_age: Option<i32>,
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub hair: Option<HairColor>,
    pub eye: Option<EyeColor>,
    pub driver_license_number: Option<String>,
    pub driver_license_state: Option<String>,
    /// Home or mailing address (CLETS-001; shown to court and law-enforcement roles only).
    pub address: Option<String>,
    /// Telephone (CLETS-001; shown to court and law-enforcement roles only).
    pub phone: Option<String>,
    /// Keep this person's identity confidential (a minor, Fam. Code 6301.5).
    #[graphql(default)]
    pub confidential: bool,
}

/// Another name a person is known by.
#[derive(InputObject, Debug, Clone)]
pub struct AliasInput {
    pub last_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
}

/// Proof of service.
#[derive(InputObject, Debug, Clone)]
pub struct RecordServiceInput {
    pub order_id: ID,
    pub served_at: DateTime<Utc>,
    pub method: ServiceMethod,
    pub server_name: Option<String>,
    /// ORI of the serving agency.
    pub agency_ori: Option<String>,
    pub notes: Option<String>,
}

/// A modification: a new order that supersedes `orderId`. Fields left out keep their values.
#[derive(InputObject, Debug, Clone)]
pub struct ModifyOrderInput {
    pub order_id: ID,
    pub issued_at: DateTime<Utc>,
    pub form_number: Option<String>,
    pub kind: Option<OrderKind>,
    /// Null: until further order (where the law allows it); omitted: unchanged.
    pub expires_at: MaybeUndefined<DateTime<Utc>>,
    pub hearing_date: MaybeUndefined<NaiveDate>,
    pub judicial_officer: Option<String>,
    /// Replaces all terms when given.
    pub conditions: Option<ConditionsInput>,
    pub reason: Option<String>,
}

/// A renewal of an order after hearing.
#[derive(InputObject, Debug, Clone)]
pub struct RenewOrderInput {
    pub order_id: ID,
    pub issued_at: DateTime<Utc>,
    /// Null: permanent, where the law allows it (Fam. Code 6345(a)).
    pub expires_at: Option<DateTime<Utc>>,
    pub form_number: Option<String>,
    pub judicial_officer: Option<String>,
    /// The date the request for renewal was filed; required for a domestic violence order, whose
    /// request must be filed in the 3 months before expiry (Fam. Code 6345(a)).
    pub request_filed_on: Option<NaiveDate>,
}

/// A court order ending an order.
#[derive(InputObject, Debug, Clone)]
pub struct TerminateOrderInput {
    pub order_id: ID,
    pub terminated_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// Marks an order as entered in error; history is kept.
#[derive(InputObject, Debug, Clone)]
pub struct CancelOrderInput {
    pub order_id: ID,
    pub reason: String,
}

/// The minimal index record an image-only court types when it scans an order.
#[derive(InputObject, Debug, Clone)]
pub struct ImageOnlyOrderInput {
    /// Issuing court code; the court's participation mode must be `IMAGE_ONLY`.
    pub court_code: String,
    /// As written on the order.
    pub case_number: String,
    pub family: OrderFamily,
    /// Issue time as written on the order, when typed; default: the time of registration.
    pub issued_at: Option<DateTime<Utc>>,
    /// At least one restrained and one protected party, as typed at scan time.
    pub parties: Vec<ImageOnlyPartyInput>,
}

/// A party of an image-only order: name and date of birth only.
#[derive(InputObject, Debug, Clone)]
pub struct ImageOnlyPartyInput {
    pub role: PartyRole,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    /// For protected organizations (retail-crime and workplace-violence orders).
    pub organization_name: Option<String>,
    pub dob: Option<NaiveDate>,
    /// Keep this person's identity confidential (a minor, Fam. Code 6301.5).
    #[graphql(default)]
    pub confidential: bool,
}
