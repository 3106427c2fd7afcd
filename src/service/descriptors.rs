//! A modification may bring the restrained person's physical descriptors as found at the
//! hearing: the Protection Order File's mandatory data (docs/law/ncic.md#mandatory-data). Given
//! fields replace the person record's in the modification's transaction, so an entry held for
//! lack of them (`HELD_INCOMPLETE`) goes out with the modification (Fam. Code 6380(a)).
use chrono::Utc;
use entities::{order_party, person};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::domain::codes::PartyRole;
use crate::error::{AppError, AppResult};
use crate::service::commands::RestrainedDescriptors;
use crate::service::validate;

/// Checks the descriptors; the error names the field under `restrainedDescriptors`.
pub fn check(d: &RestrainedDescriptors) -> AppResult<()> {
    validate::height_weight(d.height_inches, d.weight_pounds)
        .map_err(|e| AppError::from(e.at("restrainedDescriptors")))
}

/// Writes the given descriptors to the restrained person of `order_id`.
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    order_id: i32,
    d: &RestrainedDescriptors,
) -> AppResult<()> {
    let party = order_party::Entity::find()
        .filter(order_party::Column::OrderId.eq(order_id))
        .filter(order_party::Column::Role.eq(PartyRole::Restrained.as_db()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "restrainedDescriptors",
                "the order names no restrained person",
            )
        })?;
    let p = person::Entity::find_by_id(party.person_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("person {}", party.person_id)))?;
    let mut m: person::ActiveModel = p.into();
    if let Some(v) = d.sex {
        m.sex = Set(Some(v.as_db().to_owned()));
    }
    if let Some(v) = d.race {
        m.race = Set(Some(v.as_db().to_owned()));
    }
    if let Some(v) = d.height_inches {
        m.height_inches = Set(Some(v));
    }
    if let Some(v) = d.weight_pounds {
        m.weight_pounds = Set(Some(v));
    }
    if let Some(v) = d.hair {
        m.hair = Set(Some(v.as_db().to_owned()));
    }
    if let Some(v) = d.eye {
        m.eye = Set(Some(v.as_db().to_owned()));
    }
    m.updated_at = Set(Utc::now());
    m.update(conn).await?;
    Ok(())
}
