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
use tokio::sync::mpsc;

use super::frame::{FrameError, read_frame};
use super::ledger::{Ledger, LedgerError};
use super::message::{Answer, Reject, RejectReason};
use super::wire;

/// How long a connection may sit idle between frames.
const IDLE: Duration = Duration::from_secs(60);
/// Frames decided together at most (one journal sync for them all).
const GROUP: usize = 1024;
/// Bytes read ahead on a connection: the frames already received are decided together.
const READ_BUFFER: usize = 256 * 1024;

/// Misbehaviour on request, for tests of the sender.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Wait this long after deciding before answering (once for the frames decided together).
    pub delay: Duration,
    /// Write the answers one at a time, each this long after the one before (zero: each group's
    /// in one write).
    pub answer_gap: Duration,
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

    /// Answers frame after frame until the sender closes. Frames that are already here when one
    /// is read (a sender pipelining its messages) are decided together, with one journal sync,
    /// and answered together, in order. Deciding does not wait for answering: the answers go out
    /// from a task of their own (after the fault's delay), so every frame received is decided
    /// even when nobody reads the answers any more.
    async fn connection(self: Arc<Self>, stream: TcpStream) -> Result<(), ConnectionError> {
        let (read, write) = stream.into_split();
        let mut read = BufReader::with_capacity(READ_BUFFER, read);
        let (answers, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(Arc::clone(&self).answer(write, queue));
        let end = Arc::clone(&self).decide_frames(&mut read, &answers).await;
        drop(answers);
        let write = writer.await??;
        match end? {
            End::Closed => Ok(()),
            End::Unreadable => Ok(linger(read, write).await?),
        }
    }

    /// Reads and decides frames until the sender closes, a frame is unreadable, or the fault
    /// drops the connection; hands each group's answers to `answer`.
    async fn decide_frames(
        self: Arc<Self>,
        read: &mut BufReader<OwnedReadHalf>,
        answers: &mpsc::UnboundedSender<Decided>,
    ) -> Result<End, ConnectionError> {
        loop {
            let frame = tokio::time::timeout(IDLE, read_frame(read))
                .await
                .map_err(|_| ConnectionError::Idle)?;
            let mut texts = Vec::new();
            // A frame that cannot be read ends the connection, after the ones before it.
            let mut bad = None;
            match frame {
                Ok(Some(text)) => texts.push(text),
                Ok(None) => return Ok(End::Closed),
                Err(e @ (FrameError::TooLong | FrameError::NotUtf8)) => bad = Some(e),
                Err(e) => return Err(e.into()),
            }
            while bad.is_none() && texts.len() < GROUP && read.buffer().contains(&b'\n') {
                match read_frame(read).await {
                    Ok(Some(text)) => texts.push(text),
                    Ok(None) => break,
                    Err(e @ (FrameError::TooLong | FrameError::NotUtf8)) => bad = Some(e),
                    Err(e) => return Err(e.into()),
                }
            }
            let first = self
                .received
                .fetch_add(texts.len() as u64, Ordering::SeqCst)
                + 1;
            let mut decided = Arc::clone(&self).answer_all(texts).await?;
            let at = tokio::time::Instant::now();
            let dropped = self.faults.drop_every.and_then(|d| {
                (first..)
                    .take(decided.len())
                    .position(|n| n.is_multiple_of(d.get()))
            });
            if let Some(i) = dropped {
                tracing::info!(
                    n = first + i as u64,
                    "carpos-sim: dropping the connection instead of answering"
                );
                decided.truncate(i);
                // The writer may be gone (the sender closed): the answers have nobody to go to.
                let _ = answers.send((at, decided));
                return Ok(End::Closed);
            }
            if let Some(e) = bad {
                // The rest of the stream cannot be trusted to start a frame: answer, close.
                decided.push(syntax_reject(None, e.to_string()));
                let _ = answers.send((at, decided));
                return Ok(End::Unreadable);
            }
            let _ = answers.send((at, decided));
        }
    }

    /// Decides frames: a syntax rejection each for those that are not messages, the ledger's
    /// answers for the others, decided together off the async threads (the ledger syncs its
    /// journal to disk once for them all).
    async fn answer_all(
        self: Arc<Self>,
        texts: Vec<String>,
    ) -> Result<Vec<Answer>, ConnectionError> {
        let mut messages = Vec::with_capacity(texts.len());
        let mut slots = Vec::with_capacity(texts.len());
        for text in &texts {
            match wire::parse_message(text) {
                Ok(m) => {
                    messages.push(m);
                    slots.push(None);
                }
                Err(e) => slots.push(Some(syntax_reject(e.field(), e.to_string()))),
            }
        }
        if messages.is_empty() {
            return Ok(slots.into_iter().flatten().collect());
        }
        tokio::task::spawn_blocking(move || {
            let decided = {
                let mut ledger = self.ledger.lock().map_err(|_| ConnectionError::Poisoned)?;
                ledger.handle_batch(&messages)?
            };
            let mut decided = decided.into_iter();
            slots
                .into_iter()
                .map(|slot| match slot {
                    Some(answer) => Ok(answer),
                    None => decided
                        .next()
                        .ok_or(ConnectionError::Ledger(LedgerError::Broken)),
                })
                .collect()
        })
        .await?
    }

    /// Writes each group's answers, in one write, once the fault's delay after deciding them has
    /// passed; returns the writing side when the reader is done.
    async fn answer(
        self: Arc<Self>,
        mut write: OwnedWriteHalf,
        mut queue: mpsc::UnboundedReceiver<Decided>,
    ) -> std::io::Result<OwnedWriteHalf> {
        while let Some((at, answers)) = queue.recv().await {
            if answers.is_empty() {
                continue;
            }
            tokio::time::sleep_until(at + self.faults.delay).await;
            let gap = self.faults.answer_gap;
            let mut bytes = Vec::new();
            for answer in &answers {
                let text = wire::format_answer(answer);
                let times = if self.faults.ack_twice { 2 } else { 1 };
                for _ in 0..times {
                    bytes.extend_from_slice(text.as_bytes());
                    bytes.push(b'\n');
                }
                if !gap.is_zero() {
                    tokio::time::sleep(gap).await;
                    write.write_all(&bytes).await?;
                    write.flush().await?;
                    bytes.clear();
                }
            }
            if !bytes.is_empty() {
                write.write_all(&bytes).await?;
                write.flush().await?;
            }
        }
        Ok(write)
    }
}

/// Answers decided together, and when.
type Decided = (tokio::time::Instant, Vec<Answer>);

/// How a connection's reading ended.
enum End {
    /// The sender closed, or the fault dropped the connection.
    Closed,
    /// An unreadable frame was refused: close without losing that answer.
    Unreadable,
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
