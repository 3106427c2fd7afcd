//! The audit log: one append-only, hash-chained row per access to person, order or image data,
//! per write, per denial and per failed authentication (CJIS AU-2, AU-3, AU-9).
//!
//! `chain` appends and verifies; `anchor` keeps the chain's head signed outside the database;
//! `clean` bounds client-supplied text; `appender` is the writer's long-lived appender; `writer`
//! batches concurrent requests' rows into one
//! transaction; `access` collects, during a request, what the request touched.

pub mod access;
pub mod anchor;
pub mod appender;
pub mod chain;
pub mod clean;
pub mod digest;
pub mod writer;

pub use access::AccessLog;
pub use anchor::Anchor;
pub use appender::{Appender, Path};
pub use chain::{AuditRecord, Outcome, VerifyReport, append, append_many, verify};
pub use writer::AuditWriter;

/// What a client is told when its request cannot be audited and is therefore refused (CJIS
/// AU-5: fail closed).
pub const UNAVAILABLE: &str = "the audit log cannot be written, so no data is served";
