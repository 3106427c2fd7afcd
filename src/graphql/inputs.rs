//! GraphQL input types, and their conversion into the service's commands (`service::commands`).
//! The NDJSON import parses each line into `CreateOrderInput` too (`import_adapter`), so a feed
//! line and a mutation go through the same parsing and validation.
use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, EyeColor, HairColor, PartyRole, PartyType, Race,
    ServiceMethod, Sex,
};
use crate::domain::law_records::{CriminalStage, ForeignKind};
use crate::domain::order_rules::{OrderFamily, OrderKind};
use crate::service::commands::{
    Alias, CancelOrder, CreateOrder, ForeignIssuer, ImageOnlyOrder, ImageOnlyParty, ModifyOrder,
    Party, Patch, PersonDetails, RecordService, RenewOrder, RestrainedDescriptors, TerminateOrder,
    Terms,
};

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
    /// Criminal orders (family CR): PRE_JUDGMENT runs until the case ends or the court
    /// terminates it (PC 136.2(a)); POST_CONVICTION states its expiry, up to 10 years
    /// (PC 136.2(i)(1)). When omitted, an order with an expiry is taken as post-conviction.
    pub criminal_stage: Option<CriminalStage>,
    /// Domestic violence orders: the child custody and visitation orders made in the order
    /// (DV-130 item), which stay in effect after the restraining order ends.
    pub custody_terms: Option<String>,
    /// Orders registered from another state, tribe or territory (family OUT_OF_STATE), and
    /// required for them: who issued the order (18 U.S.C. 2265; Fam. Code 6400 ff.). `courtCode`
    /// is then the California court registering it; `issuedAt` and `expiresAt` are as written.
    pub foreign_issuer: Option<ForeignIssuerInput>,
}

/// The issuer of an out-of-state, tribal or territorial order.
#[derive(InputObject, Debug, Clone)]
pub struct ForeignIssuerInput {
    pub kind: ForeignKind,
    /// Postal code of the state or territory (`NV`, `PR`), or the tribe's name.
    pub jurisdiction: String,
    /// The issuing court, as written.
    pub court: String,
    /// The case number in the issuing court, as written.
    pub case_number: String,
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
    /// A criminal order's stage; omitted: unchanged (checked against the new expiry).
    pub criminal_stage: Option<CriminalStage>,
    /// Replaces the custody and visitation terms of a domestic violence order when given.
    pub custody_terms: Option<String>,
    /// The restrained person's descriptors as found at the hearing: given fields replace the
    /// person record's. An entry CARPOS could not take for lack of them goes out with them.
    pub restrained_descriptors: Option<DescriptorsInput>,
}

/// Physical descriptors of a restrained person (NCIC SEX, RAC, HGT, WGT, HAI, EYE).
#[derive(InputObject, Debug, Clone)]
pub struct DescriptorsInput {
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub hair: Option<HairColor>,
    pub eye: Option<EyeColor>,
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

impl<T> From<MaybeUndefined<T>> for Patch<T> {
    fn from(v: MaybeUndefined<T>) -> Self {
        match v {
            MaybeUndefined::Undefined => Self::Keep,
            MaybeUndefined::Null => Self::Clear,
            MaybeUndefined::Value(t) => Self::Set(t),
        }
    }
}

impl From<CreateOrderInput> for CreateOrder {
    fn from(i: CreateOrderInput) -> Self {
        Self {
            court_code: i.court_code,
            case_number: i.case_number,
            family: i.family,
            form_number: i.form_number,
            kind: i.kind,
            issued_at: i.issued_at,
            hearing_date: i.hearing_date,
            expires_at: i.expires_at,
            judicial_officer: i.judicial_officer,
            terms: i.conditions.into(),
            parties: i.parties.into_iter().map(Party::from).collect(),
            source: i.source,
            entered_by_agency_ori: i.entered_by_agency_ori,
            criminal_stage: i.criminal_stage,
            custody_terms: i.custody_terms,
            foreign_issuer: i.foreign_issuer.map(|f| ForeignIssuer {
                kind: f.kind,
                jurisdiction: f.jurisdiction,
                court: f.court,
                case_number: f.case_number,
            }),
        }
    }
}

impl From<ConditionsInput> for Terms {
    fn from(c: ConditionsInput) -> Self {
        Self {
            pco_codes: c.pco_codes,
            contact_level: c.contact_level,
            stay_away_yards: c.stay_away_yards,
            move_out: c.move_out,
            firearm_relinquishment: c.firearm_relinquishment,
            firearm_due_at: c.firearm_due_at,
            brady_indicator: c.brady_indicator,
            special_conditions: c.special_conditions,
            notes: c.notes,
        }
    }
}

impl From<PartyInput> for Party {
    fn from(p: PartyInput) -> Self {
        Self {
            role: p.role,
            relationship: p.relationship,
            person_id: p.person_id.map(|id| id.0),
            person: p.person.map(PersonDetails::from),
        }
    }
}

impl From<NewPersonInput> for PersonDetails {
    fn from(p: NewPersonInput) -> Self {
        Self {
            party_type: p.party_type,
            last_name: p.last_name,
            first_name: p.first_name,
            middle_name: p.middle_name,
            suffix: p.suffix,
            organization_name: p.organization_name,
            aliases: p.aliases.into_iter().map(Alias::from).collect(),
            dob: p.dob,
            estimated_age: p.estimated_age,
            sex: p.sex,
            race: p.race,
            height_inches: p.height_inches,
            weight_pounds: p.weight_pounds,
            hair: p.hair,
            eye: p.eye,
            driver_license_number: p.driver_license_number,
            driver_license_state: p.driver_license_state,
            address: p.address,
            phone: p.phone,
            confidential: p.confidential,
        }
    }
}

impl From<AliasInput> for Alias {
    fn from(a: AliasInput) -> Self {
        Self {
            last_name: a.last_name,
            first_name: a.first_name,
            middle_name: a.middle_name,
        }
    }
}

impl From<RecordServiceInput> for RecordService {
    fn from(i: RecordServiceInput) -> Self {
        Self {
            order_id: i.order_id.0,
            served_at: i.served_at,
            method: i.method,
            server_name: i.server_name,
            agency_ori: i.agency_ori,
            notes: i.notes,
        }
    }
}

impl From<ModifyOrderInput> for ModifyOrder {
    fn from(i: ModifyOrderInput) -> Self {
        Self {
            order_id: i.order_id.0,
            issued_at: i.issued_at,
            form_number: i.form_number,
            kind: i.kind,
            expires_at: i.expires_at.into(),
            hearing_date: i.hearing_date.into(),
            judicial_officer: i.judicial_officer,
            terms: i.conditions.map(Terms::from),
            reason: i.reason,
            criminal_stage: i.criminal_stage,
            custody_terms: i.custody_terms,
            restrained: i.restrained_descriptors.map(|d| RestrainedDescriptors {
                sex: d.sex,
                race: d.race,
                height_inches: d.height_inches,
                weight_pounds: d.weight_pounds,
                hair: d.hair,
                eye: d.eye,
            }),
        }
    }
}

impl From<RenewOrderInput> for RenewOrder {
    fn from(i: RenewOrderInput) -> Self {
        Self {
            order_id: i.order_id.0,
            issued_at: i.issued_at,
            expires_at: i.expires_at,
            form_number: i.form_number,
            judicial_officer: i.judicial_officer,
            request_filed_on: i.request_filed_on,
        }
    }
}

impl From<TerminateOrderInput> for TerminateOrder {
    fn from(i: TerminateOrderInput) -> Self {
        Self {
            order_id: i.order_id.0,
            terminated_at: i.terminated_at,
            reason: i.reason,
        }
    }
}

impl From<CancelOrderInput> for CancelOrder {
    fn from(i: CancelOrderInput) -> Self {
        Self {
            order_id: i.order_id.0,
            reason: i.reason,
        }
    }
}

impl From<ImageOnlyOrderInput> for ImageOnlyOrder {
    fn from(i: ImageOnlyOrderInput) -> Self {
        Self {
            court_code: i.court_code,
            case_number: i.case_number,
            family: i.family,
            issued_at: i.issued_at,
            parties: i.parties.into_iter().map(ImageOnlyParty::from).collect(),
        }
    }
}

impl From<ImageOnlyPartyInput> for ImageOnlyParty {
    fn from(p: ImageOnlyPartyInput) -> Self {
        Self {
            role: p.role,
            last_name: p.last_name,
            first_name: p.first_name,
            middle_name: p.middle_name,
            organization_name: p.organization_name,
            dob: p.dob,
            confidential: p.confidential,
        }
    }
}
