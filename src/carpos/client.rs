//! Sends messages to a CARPOS peer and reads their answers: one message per connection
//! (`send`, `deliver`), or many pipelined on one connection (`deliver_all`, the transmitter's;
//! docs/wire/carpos.md#framing). A `TransportError` leaves the outcome unknown and is always
//! worth retrying with the same message (its idempotency key makes the retry safe); a
//! `Reject` in the answer is final.
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
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
    #[error("no answer from CARPOS at {addr} to a pipelined message: {cause}")]
    Unanswered { addr: String, cause: String },
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

/// What a pass of pipelined messages allows each answer beyond the first's wait: a peer that
/// answers 1,024 messages at 20 a second is slow, not gone.
pub const PER_ANSWER: Duration = Duration::from_millis(50);

/// How long [`deliver_all`] waits for the answers of a pass of `messages`, given `timeout` for
/// one answer: `timeout` plus [`PER_ANSWER`] for every message, so the bound grows with the pass
/// (one bound of `timeout` for the whole pass gave up on a slow peer's later answers in every
/// large pass). One deadline for the pass, not a timer per answer: a timeout around each read
/// made the deliver stage of a 1,024-message pass ~20 % slower (147 -> 170-177 ms, two
/// alternated runs).
pub fn pass_deadline(timeout: Duration, messages: usize) -> Duration {
    let n = u32::try_from(messages).unwrap_or(u32::MAX);
    timeout.saturating_add(PER_ANSWER.saturating_mul(n))
}

/// Sends `messages` on one connection, all written before their answers are read (pipelined:
/// the peer answers in order, docs/wire/carpos.md#framing), and returns each one's outcome in
/// the same order, all within `within` ([`pass_deadline`]). The messages must not depend on each other's answers
/// (the transmitter sends at most one message of a chain at a time). A message whose answer did
/// not come, or came garbled, is a transient failure: send it again with the same key.
pub async fn deliver_all(
    addr: &str,
    messages: &[Message],
    within: Duration,
) -> Vec<Result<Ack, SendError>> {
    let deadline = tokio::time::Instant::now() + within;
    let mut got: Vec<Result<Ack, SendError>> = Vec::with_capacity(messages.len());
    let failure = match tokio::time::timeout_at(deadline, pipeline(addr, messages, &mut got)).await
    {
        Ok(Ok(())) => return got,
        Ok(Err(e)) => e,
        Err(_) => TransportError::Timeout {
            addr: addr.to_owned(),
            timeout: within,
        },
    };
    let cause = failure.to_string();
    let mut failure = Some(failure);
    while got.len() < messages.len() {
        // The first unanswered message carries the failure itself, the others its words.
        let e = failure
            .take()
            .unwrap_or_else(|| TransportError::Unanswered {
                addr: addr.to_owned(),
                cause: cause.clone(),
            });
        got.push(Err(SendError::Transient(e)));
    }
    got
}

/// Writes every message and reads the answers into `got` as they come.
async fn pipeline(
    addr: &str,
    messages: &[Message],
    got: &mut Vec<Result<Ack, SendError>>,
) -> Result<(), TransportError> {
    let owned = || addr.to_owned();
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|source| TransportError::Connect {
            addr: owned(),
            source,
        })?;
    let (read, mut write) = stream.into_split();
    let mut bytes = Vec::new();
    for m in messages {
        bytes.extend_from_slice(wire::format_message(m).as_bytes());
        bytes.push(b'\n');
    }
    // Written while the answers are read, so neither side waits for the other's buffer.
    let writing = async move {
        write.write_all(&bytes).await?;
        write.flush().await?;
        Ok::<_, std::io::Error>(write)
    };
    let reading = async {
        let mut read = BufReader::new(read);
        let mut last: Option<IdempotencyKey> = None;
        while let Some(m) = messages.get(got.len()) {
            let text = read_answer(addr, &mut read).await?;
            let answer = wire::parse_answer(&text).map_err(|source| TransportError::Garbled {
                addr: owned(),
                source,
            })?;
            match answer.idempotency_key() {
                Some(k) if k == m.idempotency_key() => {}
                // The answer before, repeated (a peer may): ignored.
                Some(k) if last.as_ref() == Some(k) => continue,
                Some(k) => {
                    return Err(TransportError::Mismatch {
                        addr: owned(),
                        sent: m.idempotency_key().clone(),
                        got: k.clone(),
                    });
                }
                None => {}
            }
            last = answer.idempotency_key().cloned();
            got.push(answer.into_result().map_err(SendError::from));
        }
        Ok::<_, TransportError>(())
    };
    let (written, read) = tokio::join!(writing, reading);
    read?;
    // Every answer came, so every message was written; close our side cleanly.
    if let Ok(mut write) = written {
        let _ = write.shutdown().await;
    }
    Ok(())
}

/// Reads one answer frame.
async fn read_answer<R: tokio::io::AsyncBufRead + Unpin>(
    addr: &str,
    read: &mut R,
) -> Result<String, TransportError> {
    let owned = || addr.to_owned();
    match read_frame(read).await {
        Ok(Some(text)) => Ok(text),
        Ok(None) | Err(FrameError::Truncated) => Err(TransportError::Closed { addr: owned() }),
        Err(FrameError::Io(source)) => Err(TransportError::Io {
            addr: owned(),
            source,
        }),
        Err(source) => Err(TransportError::Frame {
            addr: owned(),
            source,
        }),
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{PER_ANSWER, pass_deadline};

    #[test]
    fn a_pass_waits_longer_for_more_answers() {
        let timeout = Duration::from_secs(10);
        assert_eq!(pass_deadline(timeout, 0), timeout);
        assert_eq!(pass_deadline(timeout, 1), timeout + PER_ANSWER);
        assert_eq!(
            pass_deadline(timeout, 1024),
            Duration::from_millis(10_000 + 50 * 1024)
        );
        assert!(pass_deadline(timeout, usize::MAX) >= pass_deadline(timeout, 1024));
    }
}
