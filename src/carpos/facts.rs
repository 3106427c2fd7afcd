//! What the registry knows of an order, as CARPOS fields: loaded for many orders at once (an
//! import queues thousands in one transaction), turned into the data fields of a message, and
//! checked against the Protection Order File's mandatory data (docs/law/ncic.md#mandatory-data).
//! The same facts decide at queue time whether an entry is held and at send time what it says.
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Utc};
use entities::{court, order, order_party, person, service_record};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::mapping::Tables;
use super::message::{Field, FieldCode};
use crate::domain::codes::{PartyRole, PcoCode};
use crate::domain::court_days::california_date;
use crate::domain::order_rules::OrderKind;
use crate::error::AppResult;

/// Ids per `IN (…)` lookup.
const CHUNK: usize = 2000;

/// An order with its court's ORI and its parties.
#[derive(Debug, Clone)]
pub struct Facts {
    pub order: order::Model,
    pub court_ori: String,
    pub restrained: Option<person::Model>,
    /// In the order they were entered; the first goes in the entry, the others in supplementals.
    pub protected: Vec<person::Model>,
}

/// The facts of `order_ids` (those that exist), by order id.
pub async fn load<C: ConnectionTrait>(
    conn: &C,
    order_ids: &[i32],
) -> AppResult<HashMap<i32, Facts>> {
    let mut orders = Vec::with_capacity(order_ids.len());
    let mut parties = Vec::new();
    for chunk in order_ids.chunks(CHUNK) {
        orders.extend(
            order::Entity::find()
                .filter(order::Column::Id.is_in(chunk.iter().copied()))
                .all(conn)
                .await?,
        );
        parties.extend(
            order_party::Entity::find()
                .filter(order_party::Column::OrderId.is_in(chunk.iter().copied()))
                .order_by_asc(order_party::Column::Id)
                .all(conn)
                .await?,
        );
    }
    let person_ids: Vec<i32> = parties
        .iter()
        .map(|p| p.person_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let persons = load_persons(conn, &person_ids).await?;
    let oris = court_oris(conn, orders.iter().map(|o| o.court_id)).await?;
    let parties: Vec<(i32, i32, &str)> = parties
        .iter()
        .map(|p| (p.order_id, p.person_id, p.role.as_str()))
        .collect();
    assemble(orders, &parties, &persons, &oris)
}

/// The person rows of `ids` (those that exist), by id.
pub async fn load_persons<C: ConnectionTrait>(
    conn: &C,
    ids: &[i32],
) -> AppResult<HashMap<i32, person::Model>> {
    let mut persons = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        for p in person::Entity::find()
            .filter(person::Column::Id.is_in(chunk.iter().copied()))
            .all(conn)
            .await?
        {
            persons.insert(p.id, p);
        }
    }
    Ok(persons)
}

/// The ORIs of the courts `court_ids`, by court id.
pub async fn court_oris<C: ConnectionTrait>(
    conn: &C,
    court_ids: impl IntoIterator<Item = i32>,
) -> AppResult<HashMap<i32, String>> {
    let court_ids: BTreeSet<i32> = court_ids.into_iter().collect();
    Ok(court::Entity::find()
        .filter(court::Column::Id.is_in(court_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| (c.id, c.ori))
        .collect())
}

/// The facts of `orders` from rows at hand: their parties as `(order id, person id, role)` in
/// the order they were entered, the persons by id and the courts' ORIs. For a batch just
/// written (`insert_batch`), which need not read back what it wrote.
pub fn assemble(
    orders: Vec<order::Model>,
    parties: &[(i32, i32, &str)],
    persons: &HashMap<i32, person::Model>,
    oris: &HashMap<i32, String>,
) -> AppResult<HashMap<i32, Facts>> {
    let mut out: HashMap<i32, Facts> = orders
        .into_iter()
        .map(|o| {
            let facts = Facts {
                court_ori: oris.get(&o.court_id).cloned().unwrap_or_default(),
                order: o,
                restrained: None,
                protected: Vec::new(),
            };
            (facts.order.id, facts)
        })
        .collect();
    for &(order_id, person_id, role) in parties {
        let (Some(f), Some(person)) = (out.get_mut(&order_id), persons.get(&person_id)) else {
            continue;
        };
        match PartyRole::from_db(role)? {
            PartyRole::Restrained => f.restrained = Some(person.clone()),
            // The named protected person first, the additional ones (Item 4) after.
            PartyRole::Protected => f.protected.insert(0, person.clone()),
            PartyRole::AdditionalProtected => f.protected.push(person.clone()),
        }
    }
    Ok(out)
}

/// The latest proof of service of an order, for a service message.
pub async fn latest_service<C: ConnectionTrait>(
    conn: &C,
    order_id: i32,
) -> AppResult<Option<service_record::Model>> {
    Ok(service_record::Entity::find()
        .filter(service_record::Column::OrderId.eq(order_id))
        .order_by_desc(service_record::Column::ServedAt)
        .one(conn)
        .await?)
}

/// A date as NCIC writes it (`YYYYMMDD`), on the California calendar.
pub fn ncic_date(t: DateTime<Utc>) -> String {
    california_date(t).format("%Y%m%d").to_string()
}

/// `LAST,FIRST MIDDLE SUFFIX`, upper case, at most 30 characters (NCIC NAM); an organization's
/// name before the comma.
pub fn ncic_name(p: &person::Model) -> Option<String> {
    let name = match (&p.organization_name, &p.last_name, &p.first_name) {
        (Some(org), _, _) if p.party_type == "organization" => format!("{org},"),
        (_, Some(last), Some(first)) if !last.trim().is_empty() && !first.trim().is_empty() => {
            let rest: Vec<&str> = [
                Some(first.as_str()),
                p.middle_name.as_deref(),
                p.suffix.as_deref(),
            ]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
            format!("{},{}", last.trim(), rest.join(" "))
        }
        _ => return None,
    };
    let clean: String = name
        .to_uppercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(30)
        .collect();
    Some(clean)
}

/// Height in inches as NCIC's three digits, feet then inches (`511`).
fn ncic_height(inches: i32) -> Option<String> {
    let (feet, rest) = (inches / 12, inches % 12);
    (1..=9).contains(&feet).then(|| format!("{feet}{rest:02}"))
}

fn ncic_weight(pounds: i32) -> Option<String> {
    (1..=999).contains(&pounds).then(|| format!("{pounds:03}"))
}

/// A date of birth, or one estimated from the age (January 1 of the year the age gives) with a
/// remark saying so: the POF takes DOB or age, the stand-in wire format a DOB.
fn dob(p: &person::Model, at: DateTime<Utc>) -> Option<(String, Option<String>)> {
    if let Some(d) = p.dob {
        return Some((d.format("%Y%m%d").to_string(), None));
    }
    let age = p.estimated_age?;
    let year = california_date(at).year() - age;
    Some((
        format!("{year:04}0101"),
        Some(format!("DOB ESTIMATED FROM AGE {age}")),
    ))
}

/// The data fields of the order's CARPOS record and the mandatory ones it lacks (by field code;
/// `MKE` when the order type is not known, as for an image-only order not yet keyed).
pub fn record_fields(f: &Facts, t: &Tables) -> (Vec<Field>, Vec<String>) {
    let o = &f.order;
    let mut fields = Vec::new();
    let mut missing = Vec::new();
    let mut remarks = Vec::new();
    if OrderKind::from_db(&o.kind).is_ok_and(|k| k == OrderKind::NotKeyed) {
        missing.push(FieldCode::Mke.code().to_owned());
    }
    let mut put =
        |fields: &mut Vec<Field>, code: FieldCode, v: Option<String>, mandatory: bool| match v
            .filter(|v| !v.is_empty())
        {
            Some(v) => fields.push(Field::new(code, v)),
            None if mandatory => missing.push(code.code().to_owned()),
            None => {}
        };
    put(&mut fields, FieldCode::Cti, Some(f.court_ori.clone()), true);
    put(
        &mut fields,
        FieldCode::Oca,
        Some(o.case_number.clone()),
        true,
    );
    put(
        &mut fields,
        FieldCode::Isd,
        Some(ncic_date(o.issued_at)),
        true,
    );
    let exp = match o.expires_at {
        Some(e) => Some(ncic_date(e)),
        None => t.code("expiry", "none").map(str::to_owned),
    };
    put(&mut fields, FieldCode::Exp, exp, true);
    let r = f.restrained.as_ref();
    let code = |list: &str, v: Option<&String>| v.and_then(|v| t.code(list, v)).map(str::to_owned);
    put(&mut fields, FieldCode::Nam, r.and_then(ncic_name), true);
    put(
        &mut fields,
        FieldCode::Sex,
        code("sex", r.and_then(|p| p.sex.as_ref())),
        true,
    );
    put(
        &mut fields,
        FieldCode::Rac,
        code("race", r.and_then(|p| p.race.as_ref())),
        true,
    );
    let birth = r.and_then(|p| dob(p, o.issued_at));
    if let Some((_, Some(remark))) = &birth {
        remarks.push(remark.clone());
    }
    put(&mut fields, FieldCode::Dob, birth.map(|b| b.0), true);
    let hgt = r.and_then(|p| p.height_inches).and_then(ncic_height);
    put(&mut fields, FieldCode::Hgt, hgt, true);
    let wgt = r.and_then(|p| p.weight_pounds).and_then(ncic_weight);
    put(&mut fields, FieldCode::Wgt, wgt, true);
    put(
        &mut fields,
        FieldCode::Hai,
        code("hair", r.and_then(|p| p.hair.as_ref())),
        true,
    );
    put(
        &mut fields,
        FieldCode::Eye,
        code("eye", r.and_then(|p| p.eye.as_ref())),
        false,
    );
    let oln = r
        .and_then(|p| p.dl_number.clone())
        .map(|n| n.to_uppercase())
        .filter(|n| super::rules::value_ok(FieldCode::Oln, n).is_ok());
    put(&mut fields, FieldCode::Oln, oln, false);
    let first = f.protected.first();
    put(&mut fields, FieldCode::Ppn, first.and_then(ncic_name), true);
    protected_descriptors(&mut fields, first, o.issued_at, t);
    let brd = t.code("brady", &o.brady_indicator).map(str::to_owned);
    put(&mut fields, FieldCode::Brd, brd, false);
    for pco in PcoCode::list_from_db(&o.pco_codes) {
        fields.push(Field::new(FieldCode::Pco, pco.as_str()));
    }
    if let Some(yards) = o.stay_away_yards {
        remarks.push(format!("STAY {yards} YD AWAY"));
    }
    remarks.push(format!("FORM {}", o.form_number));
    let mis: String = remarks.join("; ").chars().take(500).collect();
    put(&mut fields, FieldCode::Mis, Some(mis), false);
    (fields, missing)
}

/// PSX, PPR and PPB of a protected person, when known.
fn protected_descriptors(
    fields: &mut Vec<Field>,
    p: Option<&person::Model>,
    at: DateTime<Utc>,
    t: &Tables,
) {
    let Some(p) = p else { return };
    if let Some(v) = p.sex.as_ref().and_then(|s| t.code("sex", s)) {
        fields.push(Field::new(FieldCode::Psx, v));
    }
    if let Some(v) = p.race.as_ref().and_then(|s| t.code("race", s)) {
        fields.push(Field::new(FieldCode::Ppr, v));
    }
    if let Some((d, _)) = dob(p, at) {
        fields.push(Field::new(FieldCode::Ppb, d));
    }
}

/// The fields of a supplemental record naming another protected person.
pub fn supplemental_fields(p: &person::Model, at: DateTime<Utc>, t: &Tables) -> Vec<Field> {
    let mut fields = Vec::new();
    if let Some(n) = ncic_name(p) {
        fields.push(Field::new(FieldCode::Ppn, n));
    }
    protected_descriptors(&mut fields, Some(p), at, t);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_weights_and_names_take_the_ncic_shapes() {
        assert_eq!(ncic_height(71).as_deref(), Some("511"));
        assert_eq!(ncic_height(60).as_deref(), Some("500"));
        assert_eq!(ncic_height(5), None);
        assert_eq!(ncic_weight(75).as_deref(), Some("075"));
        assert_eq!(ncic_weight(0), None);
        let now = Utc::now();
        let p = person::Model {
            id: 1,
            party_type: "individual".into(),
            last_name: Some("Quintero Vale".into()),
            first_name: Some("Ramiro".into()),
            middle_name: Some("J".into()),
            suffix: None,
            organization_name: None,
            name_key: String::new(),
            dob: None,
            estimated_age: Some(35),
            sex: Some("x".into()),
            race: None,
            height_inches: None,
            weight_pounds: None,
            hair: None,
            eye: None,
            dl_number: None,
            dl_state: None,
            address: None,
            phone: None,
            confidential: false,
            clets_purged_at: None,
            created_at: now,
            updated_at: now,
        };
        assert_eq!(ncic_name(&p).as_deref(), Some("QUINTERO VALE,RAMIRO J"));
        let (d, remark) = dob(&p, now).unwrap();
        assert!(d.ends_with("0101") && remark.is_some());
    }
}
