//! Instants as the registry stores them: UTC, whole seconds. Whole seconds keep comparisons exact
//! on SQLite, which stores timestamps as text.
use chrono::{DateTime, SubsecRound, Utc};

/// Truncates to whole seconds.
pub fn to_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(0)
}

/// Now, in whole seconds.
pub fn now() -> DateTime<Utc> {
    to_seconds(Utc::now())
}
