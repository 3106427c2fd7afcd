//! The audit log: one append-only, hash-chained row per access to person, order or image data,
//! per write, per denial and per failed authentication (CJIS AU-2, AU-3, AU-9).
//!
//! `chain` appends and verifies; `access` collects, during a request, what the request touched.

pub mod access;
pub mod chain;

pub use access::AccessLog;
pub use chain::{AuditRecord, Outcome, VerifyReport, append, verify};
