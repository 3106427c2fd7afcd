//! What an answer from CARPOS leaves in the registry besides the transmission's state, in the
//! same transaction: an order event, `TRANSMITTED` when the message was acknowledged and
//! `TRANSMISSION_REJECTED` when it was refused, so the order's history shows it and `orderEvents`
//! subscribers (a clerk's screen) hear of it (docs/law/lifecycle.md#events, Fam. Code 6380(a)).
//!
//! And once CARPOS acknowledged an entry, the CLETS-001 data it carried (address, telephone,
//! driver's licence of the order's persons) is purged from the registry: CRC 1.51(e) has a court
//! that enters the data into CLETS itself promptly destroy it
//! (docs/law/confidentiality.md#clets-001). The audit log says so before it happens, and
//! `Person.cletsPurgedAt` shows it afterwards.
use chrono::{DateTime, Utc};
use entities::{carpos_transmission as tx, person};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::audit::{AuditRecord, Outcome};
use crate::domain::codes::EventKind;
use crate::domain::ids::{self, Kind};
use crate::error::AppResult;

/// CARPOS's final answer to one message.
pub enum Answer<'a> {
    /// Acknowledged, with the record's File Control Number.
    Acknowledged(&'a str),
    /// Refused, with the reason the peer gave.
    Rejected(&'a str),
}

/// The order event's kind and reason for `answer` to `row`'s message.
pub fn event_of(row: &tx::Model, answer: &Answer<'_>) -> (EventKind, String) {
    let key = &row.message_key;
    match answer {
        Answer::Acknowledged(fcn) => (
            EventKind::Transmitted,
            format!("CARPOS acknowledged {key} (FCN {fcn})"),
        ),
        Answer::Rejected(why) => (
            EventKind::TransmissionRejected,
            format!("CARPOS rejected {key}: {why}"),
        ),
    }
}

/// The audit row announcing the purge of the CLETS-001 data of `persons` (of `row`'s order),
/// once CARPOS acknowledged the entry `row` with `fcn`.
pub fn purge_record(row: &tx::Model, fcn: &str, persons: &[i32]) -> AuditRecord {
    let mut rec = AuditRecord::new("carpos.clets_purge", Outcome::Allowed);
    rec.operation = Some(row.message_key.clone());
    rec.object_ids = std::iter::once(ids::encode(Kind::Order, row.order_id))
        .chain(persons.iter().map(|&p| ids::encode(Kind::Person, p)))
        .collect();
    rec.fields = CLETS_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    rec.detail = Some(format!(
        "transmission {}: CARPOS acknowledged {} (FCN {fcn}); CLETS-001 data purged (CRC 1.51(e))",
        row.id, row.message_key
    ));
    rec
}

/// The fields a purge clears, as the API names them.
const CLETS_FIELDS: [&str; 4] = [
    "Person.address",
    "Person.phone",
    "Person.driverLicenseNumber",
    "Person.driverLicenseState",
];

/// Clears the CLETS-001 data of `persons` and stamps `clets_purged_at`.
pub async fn purge<C: ConnectionTrait>(
    conn: &C,
    persons: &[i32],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if persons.is_empty() {
        return Ok(());
    }
    person::Entity::update_many()
        .col_expr(person::Column::Address, Expr::value(Option::<String>::None))
        .col_expr(person::Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(
            person::Column::DlNumber,
            Expr::value(Option::<String>::None),
        )
        .col_expr(person::Column::DlState, Expr::value(Option::<String>::None))
        .col_expr(person::Column::CletsPurgedAt, Expr::value(now))
        .col_expr(person::Column::UpdatedAt, Expr::value(now))
        .filter(person::Column::Id.is_in(persons.iter().copied()))
        // A person purged already (another entry of theirs) keeps the first stamp.
        .filter(holds_clets_data())
        .exec(conn)
        .await?;
    Ok(())
}

/// Whether `p` still holds CLETS-001 data: `holds_clets_data` for a row at hand.
pub(crate) fn holds_clets(p: &person::Model) -> bool {
    p.address.is_some() || p.phone.is_some() || p.dl_number.is_some() || p.dl_state.is_some()
}

/// Persons still holding CLETS-001 data (address, telephone, driver's licence) that the purge
/// after an acknowledged entry removes (CRC 1.51(e)).
pub(crate) fn holds_clets_data() -> Condition {
    Condition::any()
        .add(person::Column::Address.is_not_null())
        .add(person::Column::Phone.is_not_null())
        .add(person::Column::DlNumber.is_not_null())
        .add(person::Column::DlState.is_not_null())
}
