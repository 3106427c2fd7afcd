//! The reference CARPOS peer behind `ccpor carpos-sim`: a TCP server speaking the wire format
//! (docs/wire/carpos.md#the-reference-peer), answering from its `Ledger`, with faults to inject
//! for tests (docs/wire/carpos.md#faults).
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use super::frame::{FrameError, read_frame, write_frame};
use super::ledger::{Ledger, LedgerError};
use super::message::{Answer, Reject, RejectReason};
use super::wire;

/// How long a connection may sit idle between frames.
const IDLE: Duration = Duration::from_secs(60);

/// Misbehaviour on request, for tests of the sender.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Wait this long after deciding before answering.
    pub delay: Duration,
    /// Close the connection instead of answering every Nth message received (counting from the
    /// peer's start); the message has been decided and recorded, as when an answer is lost.
    pub drop_every: Option<NonZeroU64>,
    /// Close every connection as soon as it is accepted.
    pub refuse: bool,
    /// Send every answer twice.
    pub ack_twice: bool,
}

/// Why the peer cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Why one connection ended early (logged, never fatal to the peer).
#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("idle for {IDLE:?}")]
    Idle,
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("the ledger is unusable after a panic")]
    Poisoned,
    #[error("deciding: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// The peer: its ledger, its faults, and how many messages it has received.
#[derive(Debug)]
pub struct Sim {
    ledger: Mutex<Ledger>,
    faults: Faults,
    received: AtomicU64,
}

impl Sim {
    /// Opens the ledger in `data_dir` (replaying its journal).
    pub fn open(data_dir: &Path, faults: Faults) -> Result<Arc<Self>, SimError> {
        Ok(Arc::new(Self {
            ledger: Mutex::new(Ledger::open(data_dir)?),
            faults,
            received: AtomicU64::new(0),
        }))
    }

    /// Accepts connections until the task is dropped.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors and the like: wait for some to free up.
                    tracing::warn!(error = %e, "carpos-sim: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if self.faults.refuse {
                drop(stream);
                continue;
            }
            let sim = Arc::clone(&self);
            tokio::spawn(async move {
                if let Err(e) = sim.connection(stream).await {
                    tracing::info!(error = %e, "carpos-sim: connection ended");
                }
            });
        }
    }

    /// Answers frame after frame until the sender closes.
    async fn connection(self: Arc<Self>, stream: TcpStream) -> Result<(), ConnectionError> {
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        loop {
            let frame = tokio::time::timeout(IDLE, read_frame(&mut read))
                .await
                .map_err(|_| ConnectionError::Idle)?;
            let text = match frame {
                Ok(Some(text)) => text,
                Ok(None) => return Ok(()),
                Err(e @ (FrameError::TooLong | FrameError::NotUtf8)) => {
                    // The rest of the stream cannot be trusted to start a frame: answer, close.
                    let answer = syntax_reject(None, e.to_string());
                    self.send(&mut write, &answer).await?;
                    return Ok(linger(read, write).await?);
                }
                Err(e) => return Err(e.into()),
            };
            let n = self.received.fetch_add(1, Ordering::SeqCst) + 1;
            let answer = Arc::clone(&self).answer(text).await?;
            if self
                .faults
                .drop_every
                .is_some_and(|d| n.is_multiple_of(d.get()))
            {
                tracing::info!(
                    n,
                    "carpos-sim: dropping the connection instead of answering"
                );
                return Ok(());
            }
            self.send(&mut write, &answer).await?;
        }
    }

    /// Decides a frame: a syntax rejection, or the ledger's answer (decided off the async
    /// threads, since the ledger syncs its journal to disk).
    async fn answer(self: Arc<Self>, text: String) -> Result<Answer, ConnectionError> {
        let message = match wire::parse_message(&text) {
            Ok(m) => m,
            Err(e) => return Ok(syntax_reject(e.field(), e.to_string())),
        };
        tokio::task::spawn_blocking(move || {
            let mut ledger = self.ledger.lock().map_err(|_| ConnectionError::Poisoned)?;
            Ok(ledger.handle(&message)?)
        })
        .await?
    }

    async fn send(&self, write: &mut OwnedWriteHalf, answer: &Answer) -> std::io::Result<()> {
        if !self.faults.delay.is_zero() {
            tokio::time::sleep(self.faults.delay).await;
        }
        let text = wire::format_answer(answer);
        write_frame(write, &text).await?;
        if self.faults.ack_twice {
            write_frame(write, &text).await?;
        }
        Ok(())
    }
}

/// Closes after a refused frame without losing the answer: closing with unread input would
/// reset the connection, and the sender could lose the answer already sent. So: end the writing
/// side, then read and discard what is still coming, for a moment.
async fn linger(
    mut read: BufReader<OwnedReadHalf>,
    mut write: OwnedWriteHalf,
) -> std::io::Result<()> {
    write.shutdown().await?;
    let mut rest = (&mut read).take(1 << 20);
    let mut sink = tokio::io::sink();
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::io::copy(&mut rest, &mut sink),
    )
    .await;
    Ok(())
}

fn syntax_reject(field: Option<super::message::FieldCode>, detail: String) -> Answer {
    Answer::Reject(Reject {
        idempotency_key: None,
        reason: RejectReason::Syntax,
        field,
        detail,
    })
}
