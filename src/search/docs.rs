//! Builds search documents for persons from the database: names, aliases, DOB, and what their
//! orders say (case numbers, courts, counties, roles, whether one is active).
use std::collections::{BTreeSet, HashMap};

use ccpor_index::{AliasName, PersonDoc, Role};
use chrono::{DateTime, Utc};
use entities::{court, order, order_party, person, person_alias};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::domain::status::OrderStatus;
use crate::error::AppResult;
use crate::service::reads::lifecycle;

/// Ids per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 2000;

/// Court code and county by court id (small, loaded once per batch).
pub async fn courts<C: ConnectionTrait>(db: &C) -> AppResult<HashMap<i32, (String, String)>> {
    Ok(court::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.code, c.county)))
        .collect())
}

/// Documents for `person_ids` (unknown ids are skipped).
pub async fn person_docs<C: ConnectionTrait>(
    db: &C,
    person_ids: &[i32],
    courts: &HashMap<i32, (String, String)>,
    now: DateTime<Utc>,
) -> AppResult<Vec<PersonDoc>> {
    let mut docs = Vec::with_capacity(person_ids.len());
    for chunk in person_ids.chunks(LOOKUP_CHUNK) {
        let ids = chunk.iter().copied();
        let persons = person::Entity::find()
            .filter(person::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?;
        let mut aliases: HashMap<i32, Vec<AliasName>> = HashMap::new();
        for a in person_alias::Entity::find()
            .filter(person_alias::Column::PersonId.is_in(ids.clone()))
            .all(db)
            .await?
        {
            aliases.entry(a.person_id).or_default().push(AliasName {
                last_name: a.last_name,
                first_name: a.first_name,
            });
        }
        let parties = order_party::Entity::find()
            .filter(order_party::Column::PersonId.is_in(ids))
            .all(db)
            .await?;
        let order_ids: BTreeSet<i32> = parties.iter().map(|p| p.order_id).collect();
        let mut orders: HashMap<i32, order::Model> = HashMap::new();
        let order_ids: Vec<i32> = order_ids.into_iter().collect();
        for oc in order_ids.chunks(LOOKUP_CHUNK) {
            for o in order::Entity::find()
                .filter(order::Column::Id.is_in(oc.iter().copied()))
                .all(db)
                .await?
            {
                orders.insert(o.id, o);
            }
        }
        let mut by_person: HashMap<i32, Vec<&order_party::Model>> = HashMap::new();
        for p in &parties {
            by_person.entry(p.person_id).or_default().push(p);
        }
        for p in persons {
            let mut case_numbers = BTreeSet::new();
            let mut court_codes = BTreeSet::new();
            let mut counties = BTreeSet::new();
            let mut roles = Vec::new();
            let mut active = false;
            for party in by_person.get(&p.id).map(Vec::as_slice).unwrap_or_default() {
                let role = if party.role == "restrained" {
                    Role::Restrained
                } else {
                    Role::Protected
                };
                if !roles.contains(&role) {
                    roles.push(role);
                }
                if let Some(o) = orders.get(&party.order_id) {
                    case_numbers.insert(o.case_number_key.clone());
                    if let Some((code, county)) = courts.get(&o.court_id) {
                        court_codes.insert(code.clone());
                        counties.insert(county.clone());
                    }
                    active |= lifecycle(o).status_at(now) == OrderStatus::Active;
                }
            }
            docs.push(PersonDoc {
                person_id: i64::from(p.id),
                last_name: p
                    .last_name
                    .clone()
                    .or_else(|| p.organization_name.clone())
                    .unwrap_or_default(),
                first_name: p.first_name,
                middle_name: p.middle_name,
                aliases: aliases.remove(&p.id).unwrap_or_default(),
                dob: p.dob,
                estimated_age: p.estimated_age,
                // The estimate was made when the order was keyed.
                age_as_of: p.estimated_age.map(|_| p.created_at.date_naive()),
                case_numbers: case_numbers.into_iter().collect(),
                courts: court_codes.into_iter().collect(),
                counties: counties.into_iter().collect(),
                roles,
                active,
            });
        }
    }
    Ok(docs)
}
