//! Transmission to CARPOS, the DOJ's restraining-order system reached through CLETS (Fam. Code
//! 6380). DOJ's message formats are not public, so the registry speaks an NCIC-style stand-in
//! behind this adapter (docs/wire/carpos.md): the canonical message and the peer's answers
//! (`message`), their text form (`wire`, framed by `frame`), the reference peer (`sim`, keeping
//! its records in a `ledger` and applying the Protection Order File's edits in `rules`), and a
//! client (`client`).

pub mod batch;
pub mod client;
pub mod facts;
pub mod frame;
pub mod ledger;
pub mod mapping;
pub mod message;
pub mod outbox;
pub mod outcome;
pub mod rules;
pub mod sim;
pub mod status;
pub mod transmitter;
pub mod wire;
