//! What an answer from CARPOS leaves in the registry besides the transmission's state, in the
//! same transaction: an order event, `TRANSMITTED` when the message was acknowledged and
//! `TRANSMISSION_REJECTED` when it was refused, so the order's history shows it and `orderEvents`
//! subscribers (a clerk's screen) hear of it (docs/law/lifecycle.md#events, Fam. Code 6380(a)).
use chrono::{DateTime, Utc};
use entities::{carpos_transmission as tx, order, order_event};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::codes::{EntrySource, EventKind};
use crate::error::{AppError, AppResult};
use crate::service::orders::event;

/// CARPOS's final answer to one message.
pub enum Answer<'a> {
    /// Acknowledged, with the record's File Control Number.
    Acknowledged(&'a str),
    /// Refused, with the reason the peer gave.
    Rejected(&'a str),
}

/// Writes the order event of `answer` to `row`'s message.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    row: &tx::Model,
    answer: Answer<'_>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let o = order::Entity::find_by_id(row.order_id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("order {}", row.order_id)))?;
    let source = EntrySource::from_db(&o.source)?;
    let key = &row.message_key;
    let (kind, reason) = match answer {
        Answer::Acknowledged(fcn) => (
            EventKind::Transmitted,
            format!("CARPOS acknowledged {key} (FCN {fcn})"),
        ),
        Answer::Rejected(why) => (
            EventKind::TransmissionRejected,
            format!("CARPOS rejected {key}: {why}"),
        ),
    };
    order_event::Entity::insert(event(row.order_id, kind, now, None, Some(reason), source))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}
