//! The published contract in code: the named operations clients use (`schema/operations/`) and
//! the trusted-documents manifest made from them.
pub mod operations;
pub mod persisted;
