//! Order status, derived at query time from the lifecycle projections
//! (docs/law/lifecycle.md#status): never stored, so an order that expired at midnight is not shown
//! active a second later.
use chrono::{DateTime, Utc};

use super::codes::code_enum;

code_enum!(
    /// Status of an order at an instant.
    OrderStatus {
        /// In force.
        Active => "active",
        /// Past its expiry.
        Expired => "expired",
        /// Ended by a court order.
        Terminated => "terminated",
        /// Entered in error.
        Cancelled => "cancelled",
        /// Replaced by a modification or renewal.
        Superseded => "superseded",
        /// Issue time is after the instant asked about.
        Pending => "pending",
    }
);

/// The lifecycle facts status is derived from.
#[derive(Debug, Clone, Copy)]
pub struct Lifecycle {
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub terminated_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Lifecycle {
    /// Status as of `at`. Precedence: cancelled, terminated, superseded, expired, active.
    pub fn status_at(&self, at: DateTime<Utc>) -> OrderStatus {
        let by = |t: Option<DateTime<Utc>>| t.is_some_and(|t| t <= at);
        if self.issued_at > at {
            OrderStatus::Pending
        } else if by(self.cancelled_at) {
            OrderStatus::Cancelled
        } else if by(self.terminated_at) {
            OrderStatus::Terminated
        } else if by(self.superseded_at) {
            OrderStatus::Superseded
        } else if by(self.expires_at) {
            OrderStatus::Expired
        } else {
            OrderStatus::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn status_over_time() {
        let issued = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
        let mut l = Lifecycle {
            issued_at: issued,
            expires_at: Some(issued + Duration::days(10)),
            superseded_at: None,
            terminated_at: None,
            cancelled_at: None,
        };
        assert_eq!(
            l.status_at(issued - Duration::seconds(1)),
            OrderStatus::Pending
        );
        assert_eq!(l.status_at(issued), OrderStatus::Active);
        assert_eq!(
            l.status_at(issued + Duration::days(10)),
            OrderStatus::Expired
        );
        l.terminated_at = Some(issued + Duration::days(5));
        assert_eq!(l.status_at(issued + Duration::days(4)), OrderStatus::Active);
        assert_eq!(
            l.status_at(issued + Duration::days(6)),
            OrderStatus::Terminated
        );
        l.cancelled_at = Some(issued + Duration::days(7));
        assert_eq!(
            l.status_at(issued + Duration::days(8)),
            OrderStatus::Cancelled
        );
    }
}
