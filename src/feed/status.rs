//! What a court's feed did (issue 24): messages received, accepted, rejected and waiting, by
//! day (UTC), the messages still waiting for a predecessor with their age, and the statewide
//! figures `/metrics` shows. A resent message is recognised and not stored again, so a day
//! counts each message once, on the day it first arrived.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entities::{feed_message, feed_rejection};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::error::AppResult;

/// One day's messages of one court.
#[derive(Debug, Clone, Default, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct FeedDay {
    /// The day (UTC) the messages first arrived.
    pub day: NaiveDate,
    /// Every line taken that day: stored messages and refused lines.
    pub received: i32,
    pub accepted: i32,
    /// Lines refused (bad content, another court, an id reused with other content) and
    /// waiting messages that failed when their turn came.
    pub rejected: i32,
    /// Messages of that day still waiting for their predecessor.
    pub deferred: i32,
}

/// A message waiting for its predecessor in `sequence`.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct DeferredMessage {
    pub message_id: String,
    pub external_id: String,
    pub sequence: i64,
    /// `ISSUE`, `MODIFY`, … as sent.
    pub action: String,
    pub received_at: DateTime<Utc>,
    /// Seconds since it arrived.
    pub age_seconds: i64,
}

/// A court's feed status.
#[derive(Debug, Clone, PartialEq, Eq, async_graphql::SimpleObject)]
pub struct FeedStatus {
    /// Days with messages, oldest first.
    pub days: Vec<FeedDay>,
    /// Messages waiting for a predecessor, oldest first.
    pub deferred: Vec<DeferredMessage>,
}

/// The status of court `court_id`'s feed since `since`, as of `now`.
pub async fn of_court<C: ConnectionTrait>(
    db: &C,
    court_id: i32,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<FeedStatus> {
    let mut days: BTreeMap<NaiveDate, FeedDay> = BTreeMap::new();
    let stored = feed_message::Entity::find()
        .filter(feed_message::Column::CourtId.eq(court_id))
        .filter(feed_message::Column::ReceivedAt.gte(since))
        .all(db)
        .await?;
    for m in stored {
        let (at, status) = (m.received_at, m.status);
        let d = day(&mut days, at);
        d.received += 1;
        match status.as_str() {
            "accepted" => d.accepted += 1,
            "deferred" => d.deferred += 1,
            _ => d.rejected += 1,
        }
    }
    let refused = feed_rejection::Entity::find()
        .filter(feed_rejection::Column::CourtId.eq(court_id))
        .filter(feed_rejection::Column::ReceivedAt.gte(since))
        .all(db)
        .await?;
    for r in refused {
        let d = day(&mut days, r.received_at);
        d.received += 1;
        d.rejected += 1;
    }
    let deferred = feed_message::Entity::find()
        .filter(feed_message::Column::CourtId.eq(court_id))
        .filter(feed_message::Column::Status.eq("deferred"))
        .order_by_asc(feed_message::Column::ReceivedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|m| DeferredMessage {
            age_seconds: (now - m.received_at).num_seconds().max(0),
            message_id: m.message_id,
            external_id: m.external_id,
            sequence: m.sequence,
            action: m.action.to_ascii_uppercase(),
            received_at: m.received_at,
        })
        .collect();
    Ok(FeedStatus {
        days: days.into_values().collect(),
        deferred,
    })
}

fn day(days: &mut BTreeMap<NaiveDate, FeedDay>, at: DateTime<Utc>) -> &mut FeedDay {
    let key = at.date_naive();
    days.entry(key).or_insert_with(|| FeedDay {
        day: key,
        ..FeedDay::default()
    })
}

/// Statewide: how many messages wait for a predecessor, and the age in seconds of the oldest.
pub async fn waiting<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<(i64, i64)> {
    let rows = feed_message::Entity::find()
        .filter(feed_message::Column::Status.eq("deferred"))
        .all(db)
        .await?;
    let oldest = rows
        .iter()
        .map(|m| m.received_at)
        .min()
        .map_or(0, |t| (now - t).num_seconds().max(0));
    Ok((rows.len() as i64, oldest))
}

/// The CMS's id of the order chain an order came in by (`externalId`), if it came by a feed or
/// an import of message lines.
pub async fn external_id<C: ConnectionTrait>(db: &C, order_id: i32) -> AppResult<Option<String>> {
    Ok(feed_message::Entity::find()
        .select_only()
        .column(feed_message::Column::ExternalId)
        .filter(feed_message::Column::OrderId.eq(order_id))
        .into_tuple::<String>()
        .one(db)
        .await?)
}
