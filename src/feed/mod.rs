//! Court case-management feeds (issue 24): messages from a court's own system, resent safely,
//! acknowledged one by one, applied in `sequence` order per `(court, externalId)`. The HTTP
//! route is `http::feeds`; `ccpor import` takes the same lines (`import`).
pub mod ack;
pub mod message;
mod runs;
pub mod status;
pub mod store;

pub use ack::{Ack, AckError, Outcome, Status};
pub use store::{Feed, Sender};
