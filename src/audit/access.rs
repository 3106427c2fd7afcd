//! What one request touched, filled in by loaders and resolvers and written to the audit log
//! when the request ends. It also gathers what decides whether, and for how long, the request's
//! whole answer may be reused (`http::graphql::reuse`): the next instant anything served changes on
//! its own, and whether anything was computed for this moment only.
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Object ids and confidential fields a request read or wrote.
#[derive(Debug, Default)]
pub struct AccessLog {
    inner: Mutex<Touched>,
}

#[derive(Debug, Default, Clone)]
struct Touched {
    objects: BTreeSet<String>,
    fields: BTreeSet<String>,
    /// The first instant after which something served reads differently (an order expiring).
    changes_at: Option<DateTime<Utc>>,
    /// Something served holds the moment it was computed (a signed link, a conflict check).
    momentary: bool,
    /// The query's complexity, as charged to the caller's budget.
    cost: usize,
    /// A subscription's current event: the subscription as its resolver describes it, and the
    /// event (its audit row's operation and detail).
    note: Option<(String, String)>,
}

/// What one subscription event touched, taken from the log as the event is delivered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub objects: Vec<String>,
    pub fields: Vec<String>,
    /// (operation, detail) as noted by the resolver.
    pub note: Option<(String, String)>,
}

impl AccessLog {
    fn with<R>(&self, f: impl FnOnce(&mut Touched) -> R) -> R {
        match self.inner.lock() {
            Ok(mut t) => f(&mut t),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Records global ids of objects served.
    pub fn objects<I: IntoIterator<Item = String>>(&self, ids: I) {
        self.with(|t| t.objects.extend(ids));
    }

    /// Records orders served: their ids, and the first instant one of them changes status on
    /// its own.
    pub fn orders<'a>(&self, rows: impl IntoIterator<Item = &'a entities::order::Model>) {
        let now = Utc::now();
        let mut ids = Vec::new();
        for o in rows {
            ids.push(crate::domain::ids::encode(
                crate::domain::ids::Kind::Order,
                o.id,
            ));
            if let Some(at) = crate::cache::next_change(o, now) {
                self.changes_at(at);
            }
        }
        self.objects(ids);
    }

    /// Records a confidential field served (`Person.address`).
    pub fn field(&self, name: &str) {
        self.with(|t| {
            t.fields.insert(name.to_owned());
        });
    }

    /// Records that what was served reads differently from `at` on (if that is ahead).
    pub fn changes_at(&self, at: DateTime<Utc>) {
        self.with(|t| t.changes_at = Some(t.changes_at.map_or(at, |c| c.min(at))));
    }

    /// Records that what was served was computed for this moment only.
    pub fn momentary(&self) {
        self.with(|t| t.momentary = true);
    }

    /// Records the query's complexity.
    pub fn cost(&self, cost: usize) {
        self.with(|t| t.cost = cost);
    }

    /// The recorded complexity.
    pub fn charged(&self) -> usize {
        self.with(|t| t.cost)
    }

    /// How long the whole answer may be reused: `None` for a momentary answer, else the cache's
    /// default cut to the first recorded change still ahead of `now`.
    pub fn reusable_for(&self, now: DateTime<Utc>) -> Option<Duration> {
        let (momentary, changes_at) = self.with(|t| (t.momentary, t.changes_at));
        match changes_at {
            _ if momentary => None,
            // Changed already, while the request ran.
            Some(at) if at <= now => None,
            _ => Some(crate::cache::ttl_until([changes_at], now)),
        }
    }

    /// Notes what the subscription event being resolved is.
    pub fn note(&self, operation: String, detail: String) {
        self.with(|t| t.note = Some((operation, detail)));
    }

    /// What was recorded since the last take, sorted, and forgets it: a subscription's log
    /// lives as long as the subscription, and each event's audit row names what that event sent.
    pub fn take(&self) -> Delivery {
        self.with(|t| Delivery {
            objects: std::mem::take(&mut t.objects).into_iter().collect(),
            fields: std::mem::take(&mut t.fields).into_iter().collect(),
            note: t.note.take(),
        })
    }

    /// Everything recorded so far, sorted.
    pub fn snapshot(&self) -> (Vec<String>, Vec<String>) {
        self.with(|t| {
            (
                t.objects.iter().cloned().collect(),
                t.fields.iter().cloned().collect(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_change_ahead_bounds_reuse_and_a_momentary_answer_is_never_reused() {
        let now = Utc::now();
        let log = AccessLog::default();
        assert_eq!(log.reusable_for(now), Some(crate::cache::DEFAULT_TTL));
        log.changes_at(now + chrono::Duration::seconds(90));
        log.changes_at(now + chrono::Duration::seconds(30));
        log.changes_at(now + chrono::Duration::seconds(60));
        assert_eq!(log.reusable_for(now), Some(Duration::from_secs(30)));
        assert_eq!(log.reusable_for(now + chrono::Duration::seconds(30)), None);
        log.momentary();
        assert_eq!(log.reusable_for(now), None);
    }
}
