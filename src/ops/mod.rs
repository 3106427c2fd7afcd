//! Operator tools that look at a whole deployment: the consistency check and backups.
pub mod backup;
pub mod check;
