//! Rate limiting per token, charged by query cost (complexity), not by request count: one deep
//! query costs as much as many shallow ones (OWASP GraphQL Cheat Sheet, "rate limiting").
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota};

/// KiB of automatic persisted queries one token may register an hour. Apollo clients register
/// each document once a day, a few KB each; the store is shared by every server and keeps a
/// document a day, so without a bound one token could fill it (issue 22, item 18).
pub const APQ_KIB_PER_HOUR: u32 = 1024;

/// Cost buckets keyed by token id.
pub struct CostLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl CostLimiter {
    /// `per_minute` units per token per minute, all of them available at once; 0 disables.
    pub fn new(per_minute: u32) -> CostLimiter {
        CostLimiter {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
        }
    }

    /// `per_hour` units per token per hour, all of them available at once; 0 disables.
    pub fn per_hour(per_hour: u32) -> CostLimiter {
        CostLimiter {
            limiter: NonZeroU32::new(per_hour)
                .map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_hour(n))),
        }
    }

    /// Charges `cost` to `key`; false when the bucket cannot pay it now.
    pub fn charge(&self, key: &str, cost: usize) -> bool {
        let Some(l) = &self.limiter else {
            return true;
        };
        let cost = NonZeroU32::new(u32::try_from(cost.max(1)).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        matches!(l.check_key_n(&key.to_owned(), cost), Ok(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_by_cost_per_key() {
        let l = CostLimiter::new(100);
        assert!(l.charge("a", 60));
        assert!(!l.charge("a", 60), "only 40 left");
        assert!(l.charge("b", 60), "another token has its own bucket");
        assert!(!l.charge("c", 101), "more than a whole bucket never passes");
        assert!(CostLimiter::new(0).charge("a", 1_000_000));
    }
}
