//! Turns commands (`service::commands`, from GraphQL or NDJSON) into validated write models.
//! Every error names its field path.
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::Invalid;
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{
    BradyIndicator, ContactLevel, EntrySource, ParticipationMode, PartyRole, PartyType, PcoCode,
};
use crate::domain::court_code::CourtCode;
use crate::domain::dob::{Dob, parse_estimated_age};
use crate::domain::epo;
use crate::domain::ids::{self, Kind};
use crate::domain::law_records;
use crate::domain::names::{NamePart, name_key, parse_organization, parse_suffix};
use crate::domain::order_rules::{
    FormRule, OrderFamily, OrderKind, check_expiry, check_form, check_minimum, implied_expiry,
};
use crate::domain::ori::Ori;
use crate::domain::time::to_seconds;
use crate::service::commands::{CreateOrder, Party, PersonDetails, Terms};
use crate::service::model::{
    Conditions, LawRecord, NewAlias, NewOrder, NewParty, NewPerson, PartyPerson,
};
use crate::service::refs::{CourtRef, Refs};

pub const MAX_TEXT: usize = 4000;
pub const MAX_PARTIES: usize = 50;
/// Clock skew tolerated on issue times sent by other systems.
const FUTURE_SKEW: Duration = Duration::minutes(5);

/// Validates a `createOrder` command.
pub fn create_order(
    input: &CreateOrder,
    refs: &Refs,
    now: DateTime<Utc>,
) -> Result<NewOrder, Invalid> {
    let (code, court) = court(&input.court_code, refs)?;
    if court.mode == ParticipationMode::NotParticipating {
        return Err(Invalid::new(
            "courtCode",
            format!(
                "court {} does not participate in the registry",
                code.as_str()
            ),
        ));
    }
    let case_number = CaseNumber::parse("caseNumber", &input.case_number)?;
    let issued_at = issued_at("issuedAt", input.issued_at, now)?;
    let rule = check_form("formNumber", input.family, &input.form_number, issued_at)?;
    check_kind(rule, input.kind)?;
    let expires_at = input
        .expires_at
        .map(to_seconds)
        .or_else(|| implied_expiry(rule, issued_at));
    check_minimum("expiresAt", rule, issued_at, expires_at)?;
    check_expiry(
        "expiresAt",
        issued_at,
        expires_at,
        rule.expiry_required,
        rule.limit,
        &rule.source,
        &rule.form,
    )?;
    epo::check_expiry("expiresAt", rule, issued_at, expires_at)?;
    let law = LawRecord {
        criminal_stage: law_records::criminal_stage(
            "criminalStage",
            input.family,
            input.criminal_stage,
            expires_at,
        )?,
        custody_terms: law_records::custody_terms(
            "custodyTerms",
            input.family,
            text("custodyTerms", input.custody_terms.as_deref(), MAX_TEXT)?,
        )?,
        foreign_issuer: law_records::foreign_issuer(
            "foreignIssuer",
            input.family,
            input.foreign_issuer.as_ref().map(|f| {
                (
                    f.kind,
                    f.jurisdiction.as_str(),
                    f.court.as_str(),
                    f.case_number.as_str(),
                )
            }),
        )?,
    };
    let hearing_date = hearing_date("hearingDate", input.hearing_date, issued_at)?;
    let conditions = conditions(&input.terms, issued_at).map_err(|e| e.at("conditions"))?;
    let (source, entered_by_court_id, entered_by_agency_id) = entry(input, court.id, refs)?;
    let parties = parties(&input.parties, input.family, now.date_naive(), issued_at)?;
    Ok(NewOrder {
        court_id: court.id,
        case_number,
        family: input.family,
        form_number: rule.form.as_str(),
        kind: rule.kind,
        issued_at,
        hearing_date,
        expires_at,
        judicial_officer: text("judicialOfficer", input.judicial_officer.as_deref(), 120)?,
        conditions,
        source,
        entered_by_court_id,
        entered_by_agency_id,
        parties,
        supersedes: None,
        image_only: false,
        law,
        channel: crate::domain::codes::Channel::Graphql,
    })
}

/// The court named by `courtCode`, with its parsed code.
pub fn court<'r>(code: &str, refs: &'r Refs) -> Result<(CourtCode, &'r CourtRef), Invalid> {
    let code = CourtCode::parse("courtCode", code)?;
    let court = refs.court(code.as_str()).ok_or_else(|| {
        Invalid::new("courtCode", format!("no court with code {}", code.as_str()))
    })?;
    Ok((code, court))
}

/// A kind given with a form must be the form's kind.
pub fn check_kind(rule: &FormRule, kind: Option<OrderKind>) -> Result<(), Invalid> {
    match kind {
        Some(k) if k != rule.kind => Err(Invalid::new(
            "kind",
            format!("form {} is a {:?} order, not {:?}", rule.form, rule.kind, k),
        )),
        _ => Ok(()),
    }
}

/// An issue time: whole seconds, not in the future.
pub fn issued_at(
    field: &str,
    t: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, Invalid> {
    if t > now + FUTURE_SKEW {
        return Err(Invalid::new(field, "issue time is in the future"));
    }
    Ok(to_seconds(t))
}

/// A hearing date not before the day of issuance (one day of slack for time zones).
pub fn hearing_date(
    field: &str,
    d: Option<NaiveDate>,
    issued_at: DateTime<Utc>,
) -> Result<Option<NaiveDate>, Invalid> {
    match d {
        Some(d) if d < (issued_at - Duration::days(1)).date_naive() => Err(Invalid::new(
            field,
            "hearing date is before the order was issued",
        )),
        other => Ok(other),
    }
}

/// Optional free text, trimmed, bounded.
pub fn text(field: &str, s: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(Invalid::new(field, format!("longer than {max} characters")))
        }
        Some(t) if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err(Invalid::new(field, "contains control characters"))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// Validates the terms of an order.
pub fn conditions(c: &Terms, issued_at: DateTime<Utc>) -> Result<Conditions, Invalid> {
    let mut pco_codes = c
        .pco_codes
        .iter()
        .enumerate()
        .map(|(i, s)| PcoCode::parse(&format!("pcoCodes[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?;
    pco_codes.sort();
    pco_codes.dedup();
    if let Some(y) = c.stay_away_yards
        && !(1..=5280).contains(&y)
    {
        return Err(Invalid::new(
            "stayAwayYards",
            "stay-away distance must be 1 to 5280 yards",
        ));
    }
    let firearm_due_at = c.firearm_due_at.map(to_seconds);
    if let Some(due) = firearm_due_at {
        if !c.firearm_relinquishment {
            return Err(Invalid::new(
                "firearmDueAt",
                "a relinquishment due time needs firearmRelinquishment: true",
            ));
        }
        if due < issued_at {
            return Err(Invalid::new(
                "firearmDueAt",
                "due before the order was issued",
            ));
        }
    }
    Ok(Conditions {
        pco_codes,
        contact_level: c.contact_level.unwrap_or(ContactLevel::None),
        stay_away_yards: c.stay_away_yards,
        move_out: c.move_out,
        firearm_relinquishment: c.firearm_relinquishment,
        firearm_due_at,
        brady_indicator: c.brady_indicator.unwrap_or(BradyIndicator::Unknown),
        special_conditions: text(
            "specialConditions",
            c.special_conditions.as_deref(),
            MAX_TEXT,
        )?,
        notes: text("notes", c.notes.as_deref(), MAX_TEXT)?,
    })
}

fn entry(
    input: &CreateOrder,
    court_id: i32,
    refs: &Refs,
) -> Result<(EntrySource, Option<i32>, Option<i32>), Invalid> {
    let source = input.source.unwrap_or(EntrySource::Court);
    let agency = match input.entered_by_agency_ori.as_deref() {
        Some(o) => {
            let ori = Ori::parse("enteredByAgencyOri", o)?;
            Some(refs.agency(ori.as_str()).ok_or_else(|| {
                Invalid::new(
                    "enteredByAgencyOri",
                    format!("no agency with ORI {}", ori.as_str()),
                )
            })?)
        }
        None => None,
    };
    match source {
        EntrySource::Lea if agency.is_none() => Err(Invalid::new(
            "enteredByAgencyOri",
            "an order entered by law enforcement needs the agency's ORI",
        )),
        EntrySource::Lea => Ok((source, None, agency)),
        _ => Ok((source, Some(court_id), agency)),
    }
}

/// `issued_at` picks the rules in force (which families may protect an organisation).
pub fn parties(
    input: &[Party],
    family: OrderFamily,
    today: NaiveDate,
    issued_at: DateTime<Utc>,
) -> Result<Vec<NewParty>, Invalid> {
    if input.len() > MAX_PARTIES {
        return Err(Invalid::new(
            "parties",
            format!("more than {MAX_PARTIES} parties"),
        ));
    }
    let restrained = input
        .iter()
        .filter(|p| p.role == PartyRole::Restrained)
        .count();
    let protected = input
        .iter()
        .filter(|p| p.role == PartyRole::Protected)
        .count();
    if restrained == 0 || protected == 0 {
        return Err(Invalid::new(
            "parties",
            "an order needs at least one RESTRAINED and one PROTECTED party",
        ));
    }
    let mut out = Vec::with_capacity(input.len());
    let mut existing = Vec::new();
    for (i, p) in input.iter().enumerate() {
        let at = format!("parties[{i}]");
        let person = match (&p.person_id, &p.person) {
            (Some(id), None) => {
                let id = ids::decode("personId", Kind::Person, id).map_err(|e| e.at(&at))?;
                if existing.contains(&id) {
                    return Err(Invalid::new(
                        format!("{at}.personId"),
                        "person appears twice",
                    ));
                }
                existing.push(id);
                PartyPerson::Existing(id)
            }
            (None, Some(np)) => {
                let np = person(np, today).map_err(|e| e.at(&format!("{at}.person")))?;
                if np.party_type == PartyType::Organization {
                    if p.role == PartyRole::Restrained {
                        return Err(Invalid::new(
                            format!("{at}.person.partyType"),
                            "an organization can only be a protected party",
                        ));
                    }
                    let day = crate::domain::court_days::california_date(issued_at);
                    let table = crate::domain::rules::active();
                    if !table.protects_organisations(family, day) {
                        let may: Vec<&str> = table
                            .organisation_families(day)
                            .into_iter()
                            .map(OrderFamily::as_db)
                            .collect();
                        return Err(Invalid::new(
                            format!("{at}.person.partyType"),
                            format!(
                                "only orders of the families {} protect organizations (the rules table's [[organisation]] rows)",
                                may.join(", ")
                            ),
                        ));
                    }
                }
                PartyPerson::New(Box::new(np))
            }
            _ => {
                return Err(Invalid::new(
                    at,
                    "give exactly one of personId (an existing person) or person (a new one)",
                ));
            }
        };
        out.push(NewParty {
            role: p.role,
            relationship: text(&format!("{at}.relationship"), p.relationship.as_deref(), 80)?,
            person,
        });
    }
    Ok(out)
}

/// Validates a new person or organization.
pub fn person(p: &PersonDetails, today: NaiveDate) -> Result<NewPerson, Invalid> {
    let party_type = p.party_type.unwrap_or(PartyType::Individual);
    let (last, first, middle, suffix, org) = match party_type {
        PartyType::Individual => {
            let last = NamePart::parse(
                "lastName",
                p.last_name
                    .as_deref()
                    .ok_or_else(|| Invalid::new("lastName", "last name is required"))?,
            )?;
            let first = NamePart::parse_opt("firstName", p.first_name.as_deref())?;
            let middle = NamePart::parse_opt("middleName", p.middle_name.as_deref())?;
            let suffix = match p.suffix.as_deref().map(str::trim) {
                Some(s) if !s.is_empty() => Some(parse_suffix("suffix", s)?),
                _ => None,
            };
            if p.organization_name.is_some() {
                return Err(Invalid::new(
                    "organizationName",
                    "an individual has no organization name; set partyType: ORGANIZATION",
                ));
            }
            (Some(last), first, middle, suffix, None)
        }
        PartyType::Organization => {
            let org = parse_organization(
                "organizationName",
                p.organization_name.as_deref().ok_or_else(|| {
                    Invalid::new("organizationName", "organization name is required")
                })?,
            )?;
            if p.last_name.is_some() || p.first_name.is_some() || p.dob.is_some() {
                return Err(Invalid::new(
                    "partyType",
                    "an organization has no personal name or date of birth",
                ));
            }
            (None, None, None, None, Some(org))
        }
    };
    let name_key = match (&last, &org) {
        (Some(l), _) => name_key(&[
            l.as_str(),
            first.as_ref().map(NamePart::as_str).unwrap_or(""),
        ]),
        (None, Some(o)) => name_key(&[o]),
        (None, None) => String::new(),
    };
    let dob = p
        .dob
        .map(|d| Dob::parse("dob", d, today))
        .transpose()?
        .map(Dob::date);
    let estimated_age = p
        .estimated_age
        .map(|a| parse_estimated_age("estimatedAge", a))
        .transpose()?;
    height_weight(p.height_inches, p.weight_pounds)?;
    let dl_number = match p.driver_license_number.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => {
            if n.len() > 20 || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Invalid::new(
                    "driverLicenseNumber",
                    "driver licence number must be up to 20 letters and digits",
                ));
            }
            Some(n.to_ascii_uppercase())
        }
        _ => None,
    };
    let dl_state = match p.driver_license_state.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            if s.len() != 2 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(Invalid::new(
                    "driverLicenseState",
                    "driver licence state must be a two-letter code",
                ));
            }
            Some(s.to_ascii_uppercase())
        }
        _ => None,
    };
    let address = free_text("address", p.address.as_deref(), 200)?;
    let phone = match free_text("phone", p.phone.as_deref(), 30)? {
        Some(ph)
            if !ph
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().x".contains(c)) =>
        {
            return Err(Invalid::new(
                "phone",
                "telephone may hold only digits, spaces and + - ( ) . x",
            ));
        }
        other => other,
    };
    let aliases = p
        .aliases
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let at = format!("aliases[{i}]");
            Ok(NewAlias {
                last_name: NamePart::parse("lastName", &a.last_name)
                    .map_err(|e| e.at(&at))?
                    .into_string(),
                first_name: NamePart::parse_opt("firstName", a.first_name.as_deref())
                    .map_err(|e| e.at(&at))?
                    .map(NamePart::into_string),
                middle_name: NamePart::parse_opt("middleName", a.middle_name.as_deref())
                    .map_err(|e| e.at(&at))?
                    .map(NamePart::into_string),
            })
        })
        .collect::<Result<Vec<_>, Invalid>>()?;
    Ok(NewPerson {
        party_type,
        last_name: last.map(NamePart::into_string),
        first_name: first.map(NamePart::into_string),
        middle_name: middle.map(NamePart::into_string),
        suffix,
        organization_name: org,
        name_key,
        dob,
        estimated_age,
        sex: p.sex,
        race: p.race,
        height_inches: p.height_inches,
        weight_pounds: p.weight_pounds,
        hair: p.hair,
        eye: p.eye,
        dl_number,
        dl_state,
        address,
        phone,
        confidential: p.confidential,
        aliases,
    })
}

/// Trimmed optional free text of at most `max` characters, without control characters.
fn free_text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, Invalid> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => {
            Err(Invalid::new(field, format!("longer than {max} characters")))
        }
        Some(t) if t.chars().any(char::is_control) => {
            Err(Invalid::new(field, "contains control characters"))
        }
        Some(t) => Ok(Some(t.to_owned())),
    }
}

/// Height (20 to 108 inches) and weight (20 to 900 pounds), the ranges NCIC HGT and WGT can
/// carry.
pub fn height_weight(
    height_inches: Option<i32>,
    weight_pounds: Option<i32>,
) -> Result<(), Invalid> {
    if let Some(h) = height_inches
        && !(20..=108).contains(&h)
    {
        return Err(Invalid::new(
            "heightInches",
            "height must be 20 to 108 inches",
        ));
    }
    if let Some(w) = weight_pounds
        && !(20..=900).contains(&w)
    {
        return Err(Invalid::new(
            "weightPounds",
            "weight must be 20 to 900 pounds",
        ));
    }
    Ok(())
}
