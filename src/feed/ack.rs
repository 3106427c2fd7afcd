//! What a feed message gets back: its status, the order it touched, and what was wrong with it,
//! one acknowledgement per line in the answer's order.
use serde::Serialize;

use crate::error::AppError;
use crate::feed::message::{self, Action};

/// How a message was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Accepted,
    Duplicate,
    Rejected,
    Deferred,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "ACCEPTED",
            Status::Duplicate => "DUPLICATE",
            Status::Rejected => "REJECTED",
            Status::Deferred => "DEFERRED",
        }
    }
}

/// One wrong thing about a message: the input path (`order.parties[0].person.dob`) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckError {
    pub path: String,
    pub message: String,
}

/// The acknowledgement of one line, in the answer's order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ack {
    pub message_id: Option<String>,
    pub status: Status,
    pub order_id: Option<String>,
    pub errors: Vec<AckError>,
}

/// An acknowledged line with what its audit row needs.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub ack: Ack,
    pub action: Option<Action>,
    /// The message named another court than the sender's.
    pub other_court: bool,
    /// Orders written (new ones for ISSUE, MODIFY, RENEW), for the conflict check.
    pub new_order: Option<i32>,
}

pub(crate) fn rejected(message_id: Option<String>, errors: Vec<AckError>) -> Ack {
    Ack {
        message_id,
        status: Status::Rejected,
        order_id: None,
        errors,
    }
}

/// An error as the acknowledgement shows it (internals masked and logged).
pub fn ack_errors(e: &AppError) -> Vec<AckError> {
    let (path, message) = match e {
        AppError::Validation(inv) => (inv.field.clone(), inv.message.clone()),
        AppError::Internal(inner) => {
            tracing::error!(error = %inner, "feed message failed");
            (String::new(), "internal error".to_owned())
        }
        other => (String::new(), other.to_string()),
    };
    vec![AckError { path, message }]
}

/// The acknowledgement of a line the registry failed to take (a database failure).
pub fn rejected_internal(line: &str, e: &AppError) -> Ack {
    rejected(message::message_id_of(line), ack_errors(e))
}
