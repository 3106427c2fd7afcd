//! How long an answer may be kept: the default, cut short by the next instant at which an
//! order it holds changes status on its own.
use std::time::Duration;

use chrono::{DateTime, Utc};

/// TTL of an entry with nothing time-dependent in it.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// TTL of an answer holding these orders: the default, but never past an instant still ahead at
/// which an order's status changes on its own (an order that has expired by then reads as
/// expired; one issued with a later effective time stops reading as pending).
pub fn ttl_for_orders<'a>(
    orders: impl IntoIterator<Item = &'a entities::order::Model>,
    now: DateTime<Utc>,
) -> Duration {
    ttl_until(orders.into_iter().flat_map(lifecycle_instants), now)
}

/// The first instant after `now` at which `o`'s status changes without a write.
pub fn next_change(o: &entities::order::Model, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    lifecycle_instants(o)
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min()
}

/// Every instant `domain::status` compares with the time asked about.
fn lifecycle_instants(o: &entities::order::Model) -> [Option<DateTime<Utc>>; 5] {
    [
        Some(o.issued_at),
        o.expires_at,
        o.superseded_at,
        o.terminated_at,
        o.cancelled_at,
    ]
}

/// The default TTL, cut to the first of these instants still ahead of `now`.
pub fn ttl_until(
    instants: impl IntoIterator<Item = Option<DateTime<Utc>>>,
    now: DateTime<Utc>,
) -> Duration {
    instants
        .into_iter()
        .flatten()
        .filter(|e| *e > now)
        .filter_map(|e| (e - now).to_std().ok())
        .fold(DEFAULT_TTL, Duration::min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_kept_past_an_expiry_ahead() {
        let now = Utc::now();
        let soon = now + chrono::Duration::seconds(2);
        let later = now + chrono::Duration::days(2);
        let past = now - chrono::Duration::seconds(5);
        assert_eq!(ttl_until([None, Some(later)], now), DEFAULT_TTL);
        assert_eq!(
            ttl_until([Some(later), Some(soon), None], now),
            Duration::from_secs(2)
        );
        // An expiry already passed changes nothing any more.
        assert_eq!(ttl_until([Some(past)], now), DEFAULT_TTL);
        assert_eq!(ttl_until([], now), DEFAULT_TTL);
    }
}
