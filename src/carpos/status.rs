//! The CARPOS queue at a glance, for `ccpor carpos status` and the transmitter's metrics: rows by
//! state, the oldest message not yet acknowledged, and how many are past their Fam. Code 6380(a)
//! due time (the end of the next court day after the event). Metric names carry no personal
//! data: states only.
use chrono::{DateTime, Utc};
use entities::carpos_transmission as tx;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::outbox::{self, TxState};
use crate::error::AppResult;

/// States whose message has not reached CARPOS yet (rejected ones wait for a clerk).
const UNFINISHED: [TxState; 5] = [
    TxState::Queued,
    TxState::HeldIncomplete,
    TxState::Sent,
    TxState::Retrying,
    TxState::Rejected,
];

/// Where the queue stands.
pub struct Status {
    /// Rows by state, every state listed.
    pub by_state: Vec<(TxState, i64)>,
    /// When the oldest message not yet acknowledged was queued.
    pub oldest_unsent: Option<DateTime<Utc>>,
    /// Messages not acknowledged and past their due time.
    pub overdue: i64,
    /// The unfinished messages, oldest first (at most the number asked for).
    pub unfinished: Vec<tx::Model>,
}

impl Status {
    /// Messages not yet acknowledged.
    pub fn depth(&self) -> i64 {
        self.by_state
            .iter()
            .filter(|(s, _)| *s != TxState::Acknowledged)
            .map(|(_, n)| n)
            .sum()
    }
}

fn unfinished() -> impl Iterator<Item = &'static str> {
    UNFINISHED.iter().map(|s| s.as_db())
}

/// Which rows `read` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every state, the acknowledged history too (a scan of every message ever sent):
    /// `ccpor carpos status`.
    All,
    /// The unfinished states only, read through the state index in time proportional to the
    /// queue: the gauges, refreshed every two seconds (at 1,000,000 acknowledged rows the whole
    /// count took 67 ms on PostgreSQL, this 0.6 ms). Acknowledgements are counted as they happen
    /// (`ccpor_carpos_acknowledged_total`).
    Unfinished,
}

/// Reads the queue, its rows counted by state within `scope`; lists up to `list` unfinished
/// messages.
pub async fn read<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    list: u64,
    scope: Scope,
) -> AppResult<Status> {
    let states: Vec<&str> = unfinished().collect();
    let counts = match scope {
        Scope::All => outbox::counts(conn, None).await?,
        Scope::Unfinished => outbox::counts(conn, Some(&states)).await?,
    };
    let by_state = TxState::ALL
        .iter()
        .filter(|s| scope == Scope::All || UNFINISHED.contains(s))
        .map(|&s| {
            let n = counts
                .iter()
                .find(|(db, _)| db == s.as_db())
                .map_or(0, |(_, n)| *n);
            (s, n)
        })
        .collect();
    let oldest_unsent: Option<DateTime<Utc>> = tx::Entity::find()
        .select_only()
        .column(tx::Column::QueuedAt)
        .filter(tx::Column::State.is_in(unfinished()))
        .order_by_asc(tx::Column::QueuedAt)
        .into_tuple()
        .one(conn)
        .await?;
    let overdue = tx::Entity::find()
        .filter(tx::Column::State.is_in(unfinished()))
        .filter(tx::Column::DueBy.lt(now))
        .count(conn)
        .await?;
    let unfinished = if list == 0 {
        Vec::new()
    } else {
        tx::Entity::find()
            .filter(tx::Column::State.is_in(unfinished()))
            .order_by_asc(tx::Column::QueuedAt)
            .order_by_asc(tx::Column::Id)
            .limit(list)
            .all(conn)
            .await?
    };
    Ok(Status {
        by_state,
        oldest_unsent,
        overdue: i64::try_from(overdue).unwrap_or(i64::MAX),
        unfinished,
    })
}

/// Sets the queue gauges: `ccpor_carpos_queue{state}` (the states `s` counted),
/// `ccpor_carpos_oldest_unsent_seconds`
/// (0 when nothing waits) and `ccpor_carpos_overdue` (late against Fam. Code 6380(a)).
pub fn publish(s: &Status, now: DateTime<Utc>) {
    for (state, n) in &s.by_state {
        metrics::gauge!("ccpor_carpos_queue", "state" => state.as_db()).set(*n as f64);
    }
    let age = s
        .oldest_unsent
        .map_or(0.0, |q| (now - q).num_milliseconds().max(0) as f64 / 1000.0);
    metrics::gauge!("ccpor_carpos_oldest_unsent_seconds").set(age);
    metrics::gauge!("ccpor_carpos_overdue").set(s.overdue as f64);
}

/// Records one acknowledgement: its latency from the event (`ccpor_carpos_ack_latency_seconds`)
/// and whether it came after the due time (`ccpor_carpos_acknowledged_total{late}`).
pub fn acknowledged(row: &tx::Model, at: DateTime<Utc>) {
    let latency = (at - row.queued_at).num_milliseconds().max(0) as f64 / 1000.0;
    metrics::histogram!("ccpor_carpos_ack_latency_seconds").record(latency);
    let late = if at > row.due_by { "true" } else { "false" };
    metrics::counter!("ccpor_carpos_acknowledged_total", "late" => late).increment(1);
}
