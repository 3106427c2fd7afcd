//! Sends one message to a CARPOS peer and reads its answer: one connection per message
//! (docs/wire/carpos.md#framing). A `TransportError` leaves the outcome unknown and is always
//! worth retrying with the same message (its idempotency key makes the retry safe); a
//! `Reject` in the answer is final.
use std::time::Duration;

use tokio::io::BufReader;
use tokio::net::TcpStream;

use super::frame::{FrameError, read_frame, write_frame};
use super::message::{Ack, Answer, IdempotencyKey, Message, Reject};
use super::wire::{self, WireError};

/// The message may or may not have reached the peer: send it again, unchanged.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("cannot connect to CARPOS at {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no answer from CARPOS at {addr} within {timeout:?}")]
    Timeout { addr: String, timeout: Duration },
    #[error("CARPOS at {addr} closed the connection without answering")]
    Closed { addr: String },
    #[error("talking to CARPOS at {addr}: {source}")]
    Io {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("unreadable frame from CARPOS at {addr}: {source}")]
    Frame {
        addr: String,
        #[source]
        source: FrameError,
    },
    #[error("unreadable answer from CARPOS at {addr}: {source}")]
    Garbled {
        addr: String,
        #[source]
        source: WireError,
    },
    #[error("CARPOS at {addr} answered for idempotency key {got}, not {sent}")]
    Mismatch {
        addr: String,
        sent: IdempotencyKey,
        got: IdempotencyKey,
    },
}

/// A send that did not end in an acknowledgement: retry a transient failure, fix a rejection.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Transient(#[from] TransportError),
    #[error(transparent)]
    Rejected(#[from] Reject),
}

impl SendError {
    pub fn is_transient(&self) -> bool {
        matches!(self, SendError::Transient(_))
    }
}

/// Sends `message` to the peer at `addr` (`HOST:PORT`) and returns its answer, all within
/// `timeout`.
pub async fn send(
    addr: &str,
    message: &Message,
    timeout: Duration,
) -> Result<Answer, TransportError> {
    tokio::time::timeout(timeout, exchange(addr, message))
        .await
        .map_err(|_| TransportError::Timeout {
            addr: addr.to_owned(),
            timeout,
        })?
}

/// [`send`], with a rejection as an error.
pub async fn deliver(addr: &str, message: &Message, timeout: Duration) -> Result<Ack, SendError> {
    Ok(send(addr, message, timeout).await?.into_result()?)
}

async fn exchange(addr: &str, message: &Message) -> Result<Answer, TransportError> {
    let owned = || addr.to_owned();
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| TransportError::Connect {
            addr: owned(),
            source,
        })?;
    let (read, mut write) = stream.into_split();
    write_frame(&mut write, &wire::format_message(message))
        .await
        .map_err(|source| TransportError::Io {
            addr: owned(),
            source,
        })?;
    let text = match read_frame(&mut BufReader::new(read)).await {
        Ok(Some(text)) => text,
        Ok(None) | Err(FrameError::Truncated) => {
            return Err(TransportError::Closed { addr: owned() });
        }
        Err(FrameError::Io(source)) => {
            return Err(TransportError::Io {
                addr: owned(),
                source,
            });
        }
        Err(source) => {
            return Err(TransportError::Frame {
                addr: owned(),
                source,
            });
        }
    };
    let answer = wire::parse_answer(&text).map_err(|source| TransportError::Garbled {
        addr: owned(),
        source,
    })?;
    match answer.idempotency_key() {
        Some(got) if got != message.idempotency_key() => Err(TransportError::Mismatch {
            addr: owned(),
            sent: message.idempotency_key().clone(),
            got: got.clone(),
        }),
        _ => Ok(answer),
    }
}
