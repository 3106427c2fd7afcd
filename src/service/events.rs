//! Order lifecycle notices for subscribers in this process (the `orderEvents` subscription).
//!
//! The durable record is the `order_event` row, written in the same transaction as the change.
//! A relay task per process reads new rows back and broadcasts them here, so a write on any
//! instance (or by the CLI, an import or the expiry sweep) reaches every instance's subscribers:
//! on PostgreSQL the rows are announced by `NOTIFY` on commit (migration 000011); on SQLite, one
//! file with one writer, the relay polls for ids past the last it saw. A notice is a nudge, not
//! a queue: a subscriber that lags past `CAPACITY` misses notices and can re-read the history.
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{court, order, order_event, order_party};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::broadcast;

use crate::domain::codes::EventKind;

/// Notices kept for slow subscribers before they start missing some.
const CAPACITY: usize = 1024;
/// How often the SQLite relay looks for new rows (and the PostgreSQL one re-checks after a
/// lost connection).
const POLL: Duration = Duration::from_millis(200);
/// Rows read back per statement.
const BATCH: u64 = 500;
/// Event ids remembered to drop a row announced twice (PostgreSQL id ranges can overlap
/// another transaction's rows).
const SEEN: usize = 8192;

/// One recorded event, with what subscribers filter on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNotice {
    pub event: Arc<order_event::Model>,
    pub order_id: i32,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
    /// County of the issuing court (CRC 1.51 scoping is by county for narrowed tokens).
    pub county: String,
    /// Persons named on the order (restrained and protected).
    pub person_ids: BTreeSet<i32>,
}

/// The broadcast channel; cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier(broadcast::Sender<OrderNotice>);

impl Default for Notifier {
    fn default() -> Self {
        Self(broadcast::channel(CAPACITY).0)
    }
}

impl Notifier {
    pub fn subscribe(&self) -> broadcast::Receiver<OrderNotice> {
        self.0.subscribe()
    }

    /// Sends to current subscribers; none listening is fine.
    pub fn publish(&self, notice: OrderNotice) {
        let _ = self.0.send(notice);
    }

    /// Whether anyone listens (the relay reads nothing back for nobody).
    pub fn has_subscribers(&self) -> bool {
        self.0.receiver_count() > 0
    }
}

/// Reads the events `rows` back with their order's county and persons.
async fn notices(
    db: &DatabaseConnection,
    rows: Vec<order_event::Model>,
) -> Result<Vec<OrderNotice>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let order_ids: Vec<i32> = rows
        .iter()
        .map(|e| e.order_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let orders: HashMap<i32, i32> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .column(order::Column::CourtId)
        .filter(order::Column::Id.is_in(order_ids.clone()))
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let court_ids: BTreeSet<i32> = orders.values().copied().collect();
    let counties: HashMap<i32, String> = court::Entity::find()
        .select_only()
        .column(court::Column::Id)
        .column(court::Column::County)
        .filter(court::Column::Id.is_in(court_ids))
        .into_tuple::<(i32, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut persons: HashMap<i32, BTreeSet<i32>> = HashMap::new();
    for (order_id, person_id) in order_party::Entity::find()
        .select_only()
        .column(order_party::Column::OrderId)
        .column(order_party::Column::PersonId)
        .filter(order_party::Column::OrderId.is_in(order_ids))
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
    {
        persons.entry(order_id).or_default().insert(person_id);
    }
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let (Some(kind), Some(county)) = (
            EventKind::from_db(&e.kind).ok(),
            orders.get(&e.order_id).and_then(|c| counties.get(c)),
        ) else {
            tracing::warn!(
                event = e.id,
                "order event without a known kind or court; not relayed"
            );
            continue;
        };
        out.push(OrderNotice {
            order_id: e.order_id,
            kind,
            occurred_at: e.occurred_at,
            county: county.clone(),
            person_ids: persons.remove(&e.order_id).unwrap_or_default(),
            event: Arc::new(e),
        });
    }
    Ok(out)
}

/// Ids already relayed, bounded.
#[derive(Default)]
struct Seen {
    order: VecDeque<i32>,
    set: HashSet<i32>,
}

impl Seen {
    /// False when `id` was relayed before.
    fn first_time(&mut self, id: i32) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > SEEN
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

/// The relay's reading position and memory.
struct Relay {
    db: DatabaseConnection,
    notifier: Notifier,
    /// Highest event id handled.
    last: i32,
    seen: Seen,
}

impl Relay {
    async fn new(db: DatabaseConnection, notifier: Notifier) -> Result<Relay, DbErr> {
        let last = max_id(&db).await?;
        Ok(Relay {
            db,
            notifier,
            last,
            seen: Seen::default(),
        })
    }

    /// Publishes the rows selected by `filter` (in id order) that were not relayed before.
    async fn relay(&mut self, rows: Vec<order_event::Model>) -> Result<usize, DbErr> {
        let rows: Vec<order_event::Model> = rows
            .into_iter()
            .filter(|e| self.seen.first_time(e.id))
            .collect();
        if let Some(max) = rows.iter().map(|e| e.id).max() {
            self.last = self.last.max(max);
        }
        if !self.notifier.has_subscribers() {
            return Ok(0);
        }
        let sent = notices(&self.db, rows).await?;
        let n = sent.len();
        for notice in sent {
            self.notifier.publish(notice);
        }
        Ok(n)
    }

    /// Everything past `last`, in batches.
    async fn catch_up(&mut self) -> Result<(), DbErr> {
        loop {
            let rows = order_event::Entity::find()
                .filter(order_event::Column::Id.gt(self.last))
                .order_by_asc(order_event::Column::Id)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let done = (rows.len() as u64) < BATCH;
            if rows.is_empty() {
                return Ok(());
            }
            self.relay(rows).await?;
            if done {
                return Ok(());
            }
        }
    }

    /// The rows of one `NOTIFY` (`lo:hi`).
    async fn announced(&mut self, payload: &str) -> Result<(), DbErr> {
        let Some((lo, hi)) = payload
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)))
        else {
            tracing::warn!(payload, "unreadable order-event notice");
            return Ok(());
        };
        let mut from = lo;
        while from <= hi {
            let rows = order_event::Entity::find()
                .filter(order_event::Column::Id.between(from, hi))
                .order_by_asc(order_event::Column::Id)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let Some(next) = rows.last().map(|e| e.id + 1) else {
                break;
            };
            self.relay(rows).await?;
            from = next;
        }
        Ok(())
    }
}

async fn max_id(db: &DatabaseConnection) -> Result<i32, DbErr> {
    Ok(order_event::Entity::find()
        .select_only()
        .column_as(order_event::Column::Id.max(), "max")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// Starts the relay from `db`'s current last event (subscribers hear of what happens from now
/// on). Returns once it is listening, so a write made after this returns is relayed.
pub async fn spawn_relay(
    db: DatabaseConnection,
    notifier: Notifier,
) -> Result<tokio::task::JoinHandle<()>, DbErr> {
    let mut relay = Relay::new(db, notifier).await?;
    if relay.db.get_database_backend() == DatabaseBackend::Postgres {
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(
            relay.db.get_postgres_connection_pool(),
        )
        .await
        .map_err(|e| DbErr::Custom(format!("LISTEN connection: {e}")))?;
        listener
            .listen(migrations::ORDER_EVENT_CHANNEL)
            .await
            .map_err(|e| DbErr::Custom(format!("LISTEN: {e}")))?;
        // Anything committed between reading `last` and listening.
        relay.catch_up().await?;
        return Ok(tokio::spawn(listen(relay, listener)));
    }
    Ok(tokio::spawn(poll(relay)))
}

async fn listen(mut relay: Relay, mut listener: sea_orm::sqlx::postgres::PgListener) {
    loop {
        match listener.try_recv().await {
            Ok(Some(n)) => {
                if let Err(e) = relay.announced(n.payload()).await {
                    tracing::warn!(error = %e, "relaying order events");
                }
            }
            // The connection dropped and notices may have been lost: read what was missed.
            Ok(None) => {
                tracing::warn!("order-event LISTEN connection lost; reconnecting");
                if let Err(e) = relay.catch_up().await {
                    tracing::warn!(error = %e, "catching up on order events");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "order-event LISTEN failed; retrying");
                tokio::time::sleep(POLL).await;
                if let Err(e) = relay.catch_up().await {
                    tracing::warn!(error = %e, "catching up on order events");
                }
            }
        }
    }
}

async fn poll(mut relay: Relay) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = relay.catch_up().await {
            tracing::warn!(error = %e, "polling order events");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn an_id_is_relayed_once_and_memory_is_bounded() {
        let mut seen = Seen::default();
        assert!(seen.first_time(7));
        assert!(!seen.first_time(7));
        for id in 100..(100 + super::SEEN as i32 + 10) {
            assert!(seen.first_time(id));
        }
        assert!(seen.set.len() <= super::SEEN);
        // Forgotten after enough newer ids; ids only grow, so that is never needed again.
        assert!(seen.first_time(7));
    }
}
