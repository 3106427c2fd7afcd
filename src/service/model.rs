//! Validated write models: what `validate` produces and `orders::insert_batch` stores.
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, Channel, ContactLevel, EntrySource, EyeColor, HairColor, PartyRole, PartyType,
    PcoCode, Race, Sex,
};
use crate::domain::law_records::{CriminalStage, ForeignIssuer};
use crate::domain::order_rules::{OrderFamily, OrderKind};

#[derive(Debug, Clone)]
pub struct NewAlias {
    pub last_name: String,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPerson {
    pub party_type: PartyType,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub suffix: Option<String>,
    pub organization_name: Option<String>,
    pub name_key: String,
    pub dob: Option<NaiveDate>,
    pub estimated_age: Option<i32>,
    pub sex: Option<Sex>,
    pub race: Option<Race>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub hair: Option<HairColor>,
    pub eye: Option<EyeColor>,
    pub dl_number: Option<String>,
    pub dl_state: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub confidential: bool,
    pub aliases: Vec<NewAlias>,
}

#[derive(Debug, Clone)]
pub enum PartyPerson {
    Existing(i32),
    New(Box<NewPerson>),
}

#[derive(Debug, Clone)]
pub struct NewParty {
    pub role: PartyRole,
    pub relationship: Option<String>,
    pub person: PartyPerson,
}

#[derive(Debug, Clone)]
pub struct Conditions {
    pub pco_codes: Vec<PcoCode>,
    pub contact_level: ContactLevel,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTime<Utc>>,
    pub brady_indicator: BradyIndicator,
    pub special_conditions: Option<String>,
    pub notes: Option<String>,
}

/// Link from a modification or renewal to the order it supersedes.
#[derive(Debug, Clone, Copy)]
pub struct Supersedes {
    pub order_id: i32,
    pub chain_root_id: i32,
}

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub court_id: i32,
    pub case_number: CaseNumber,
    pub family: OrderFamily,
    pub form_number: &'static str,
    pub kind: OrderKind,
    pub issued_at: DateTime<Utc>,
    pub hearing_date: Option<NaiveDate>,
    pub expires_at: Option<DateTime<Utc>>,
    pub judicial_officer: Option<String>,
    pub conditions: Conditions,
    pub source: EntrySource,
    pub entered_by_court_id: Option<i32>,
    pub entered_by_agency_id: Option<i32>,
    pub parties: Vec<NewParty>,
    pub supersedes: Option<Supersedes>,
    /// Registered by image with a minimal index record: data fields not keyed, no `issued` event.
    pub image_only: bool,
    /// How the order came in (`protective_order.entry_channel`).
    pub channel: Channel,
    pub law: LawRecord,
}

/// What the law records beyond the terms (`domain::law_records`).
#[derive(Debug, Clone, Default)]
pub struct LawRecord {
    pub criminal_stage: Option<CriminalStage>,
    pub custody_terms: Option<String>,
    pub foreign_issuer: Option<ForeignIssuer>,
}
