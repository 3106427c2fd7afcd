//! Order lifecycle notices for subscribers in this process (dashboards; a later GraphQL
//! subscription and the DOJ feed). The durable record is the `order_event` row written first;
//! a notice is only a nudge, so a subscriber that lags and misses some re-reads the events.
use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::domain::codes::EventKind;

/// Notices kept for slow subscribers before they start missing some.
const CAPACITY: usize = 1024;

/// One recorded event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNotice {
    pub order_id: i32,
    pub kind: EventKind,
    pub occurred_at: DateTime<Utc>,
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
}
