//! The reference peer's records: what CARPOS would hold. Every answer to a readable message is
//! appended to a journal in the data dir (JSON lines holding the message and answer in their wire
//! form, docs/wire/carpos.md#the-reference-peer) and synced before the answer leaves, so a
//! restarted peer replays it and remembers every record and every idempotency key it answered.
//! Messages that arrive together are decided together and synced once (group commit,
//! `handle_batch`): none of their answers leaves before that one sync.
use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::message::{
    Ack, Answer, Fcn, Field, FieldCode, IdempotencyKey, Message, MessageKey, Reject, RejectReason,
};
use super::{rules, wire};

/// The journal's file name in the data dir.
pub const JOURNAL: &str = "carpos-sim.jsonl";

/// The first digits of every FCN this peer assigns (a real agency prefix has three digits too;
/// 999 marks ours as synthetic).
const FCN_PREFIX: &str = "999";

/// Why the ledger cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("journal {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal {} line {line}: {problem}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("every FCN with prefix {FCN_PREFIX} has been assigned")]
    Exhausted,
    #[error("an earlier journal write failed; the ledger answers nothing more")]
    Broken,
}

/// One journal line.
#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    at: DateTime<Utc>,
    message: String,
    answer: String,
}

/// Whether a record is in effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStatus {
    Active,
    Cleared,
    Cancelled,
}

/// One entered order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The key it was entered with (enter or enter temporary).
    pub entered_as: MessageKey,
    pub status: RecordStatus,
    /// Its fields as last modified (empty values removed).
    pub fields: Vec<Field>,
    /// Supplemental records: more protected persons.
    pub supplements: Vec<Vec<Field>>,
}

impl Record {
    pub fn value(&self, code: FieldCode) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.code == code)
            .map(|f| f.value.as_str())
    }

    /// The court ORI and case number that make two entries duplicates.
    fn case(&self) -> Option<(String, String)> {
        case_of(&self.fields)
    }
}

fn case_of(fields: &[Field]) -> Option<(String, String)> {
    let value = |code| fields.iter().find(|f: &&Field| f.code == code);
    Some((
        value(FieldCode::Cti)?.value.clone(),
        value(FieldCode::Oca)?.value.clone(),
    ))
}

/// The records, the answers given by idempotency key, and the journal.
#[derive(Debug, Default)]
pub struct Ledger {
    records: BTreeMap<Fcn, Record>,
    active_cases: HashMap<(String, String), Fcn>,
    answers: HashMap<IdempotencyKey, Answer>,
    last_sequence: u64,
    journal: Option<(PathBuf, File)>,
    /// A journal write or sync failed after answers were decided in memory: those answers never
    /// left, and the memory is ahead of the disk, so nothing more is answered (restart replays).
    broken: bool,
}

impl Ledger {
    /// A ledger without a journal (tests).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// Opens (or starts) the journal in `dir` and replays it. A last line cut short by a crash
    /// was never answered, and is dropped.
    pub fn open(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(JOURNAL);
        let io = |source: std::io::Error| LedgerError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let complete = complete_lines(&text);
        if complete.len() < text.len() {
            file.set_len(complete.len() as u64).map_err(io)?;
        }
        let mut ledger = Self::default();
        ledger.replay(&path, complete)?;
        ledger.journal = Some((path, file));
        Ok(ledger)
    }

    /// Replays the journal in `dir` without writing to it: what a peer on that dir knows.
    pub fn read(dir: &Path) -> Result<Self, LedgerError> {
        let path = dir.join(JOURNAL);
        let text = std::fs::read_to_string(&path).map_err(|source| LedgerError::Io {
            path: path.clone(),
            source,
        })?;
        let mut ledger = Self::default();
        ledger.replay(&path, complete_lines(&text))?;
        Ok(ledger)
    }

    fn replay(&mut self, path: &Path, text: &str) -> Result<(), LedgerError> {
        for (i, line) in text.lines().enumerate() {
            let corrupt = |problem: String| LedgerError::Corrupt {
                path: path.to_owned(),
                line: i + 1,
                problem,
            };
            let entry: Entry = serde_json::from_str(line).map_err(|e| corrupt(e.to_string()))?;
            let message =
                wire::parse_message(&entry.message).map_err(|e| corrupt(e.to_string()))?;
            let answer = wire::parse_answer(&entry.answer).map_err(|e| corrupt(e.to_string()))?;
            self.apply(&message, &answer);
        }
        Ok(())
    }

    /// Answers a message: as before when its idempotency key was answered already, else by the
    /// rules and the records; the answer is in the journal before it is returned.
    pub fn handle(&mut self, message: &Message) -> Result<Answer, LedgerError> {
        let mut answers = self.handle_batch(std::slice::from_ref(message))?;
        answers.pop().ok_or(LedgerError::Broken)
    }

    /// Answers messages in their order, each as `handle` would one after the other, with one
    /// journal write and one sync for all of them before any answer is returned.
    pub fn handle_batch(&mut self, messages: &[Message]) -> Result<Vec<Answer>, LedgerError> {
        if self.broken {
            return Err(LedgerError::Broken);
        }
        let mut answers = Vec::with_capacity(messages.len());
        let mut lines = String::new();
        for message in messages {
            if let Some(previous) = self.answers.get(message.idempotency_key()) {
                answers.push(replayed(previous));
                continue;
            }
            let decided = self.decide(message).and_then(|answer| {
                self.journal_line(&mut lines, message, &answer)
                    .map(|()| answer)
            });
            let answer = match decided {
                Ok(a) => a,
                Err(e) => {
                    // Decided answers not yet synced are in memory: keep them off the wire.
                    if !lines.is_empty() {
                        self.broken = true;
                    }
                    return Err(e);
                }
            };
            self.apply(message, &answer);
            answers.push(answer);
        }
        if let Err(e) = self.append(&lines) {
            self.broken = true;
            return Err(e);
        }
        Ok(answers)
    }

    pub fn record(&self, fcn: &Fcn) -> Option<&Record> {
        self.records.get(fcn)
    }

    pub fn records(&self) -> impl Iterator<Item = (&Fcn, &Record)> {
        self.records.iter()
    }

    fn decide(&self, m: &Message) -> Result<Answer, LedgerError> {
        let checked = rules::check(m).and_then(|()| self.check_records(m));
        let fcn = match checked {
            Err(reject) => return Ok(Answer::Reject(reject)),
            Ok(Some(fcn)) => fcn,
            Ok(None) => self.next_fcn()?,
        };
        Ok(Answer::Ack(Ack {
            idempotency_key: m.idempotency_key().clone(),
            fcn,
            replay: false,
        }))
    }

    /// The record the message changes (`None` for an entry), or why it cannot.
    fn check_records(&self, m: &Message) -> Result<Option<Fcn>, Reject> {
        let reject = |reason, field, detail| Reject {
            idempotency_key: Some(m.idempotency_key().clone()),
            reason,
            field: Some(field),
            detail,
        };
        let Some(fcn) = m.fcn() else {
            return match self.duplicate_of(case_of(m.fields()), None) {
                Some(d) => Err(reject(RejectReason::Duplicate, FieldCode::Oca, d)),
                None => Ok(None),
            };
        };
        let Some(record) = self.records.get(fcn) else {
            let detail = format!("no record has FCN {fcn}");
            return Err(reject(RejectReason::UnknownFcn, FieldCode::Fcn, detail));
        };
        if record.status != RecordStatus::Active {
            let detail = format!("record {fcn} is {:?}", record.status).to_lowercase();
            return Err(reject(RejectReason::Inactive, FieldCode::Fcn, detail));
        }
        if m.key() == MessageKey::Modify {
            let mut fields = record.fields.clone();
            merge(&mut fields, m.fields());
            if let Some(d) = self.duplicate_of(case_of(&fields), Some(fcn)) {
                return Err(reject(RejectReason::Duplicate, FieldCode::Oca, d));
            }
        }
        Ok(Some(fcn.clone()))
    }

    /// Another active record of the same court and case, described.
    fn duplicate_of(&self, case: Option<(String, String)>, this: Option<&Fcn>) -> Option<String> {
        let (cti, oca) = case?;
        let key = (cti, oca);
        let other = self.active_cases.get(&key).filter(|f| Some(*f) != this)?;
        Some(format!(
            "record {other} is in effect for court {} case {}",
            key.0, key.1
        ))
    }

    fn next_fcn(&self) -> Result<Fcn, LedgerError> {
        let next = self.last_sequence + 1;
        let text = format!("{FCN_PREFIX}{next:010}");
        Fcn::parse(&text).map_err(|_| LedgerError::Exhausted)
    }

    /// Adds the journal line of an answered message to `lines`.
    fn journal_line(
        &self,
        lines: &mut String,
        m: &Message,
        answer: &Answer,
    ) -> Result<(), LedgerError> {
        if self.journal.is_none() {
            return Ok(());
        }
        let entry = Entry {
            at: Utc::now(),
            message: wire::format_message(m),
            answer: wire::format_answer(answer),
        };
        let line = serde_json::to_string(&entry).map_err(|e| LedgerError::Io {
            path: self
                .journal
                .as_ref()
                .map(|(p, _)| p.clone())
                .unwrap_or_default(),
            source: e.into(),
        })?;
        lines.push_str(&line);
        lines.push('\n');
        Ok(())
    }

    /// Writes journal lines and syncs them.
    fn append(&mut self, lines: &str) -> Result<(), LedgerError> {
        let Some((path, file)) = &mut self.journal else {
            return Ok(());
        };
        if lines.is_empty() {
            return Ok(());
        }
        let io = |source: std::io::Error| LedgerError::Io {
            path: path.clone(),
            source,
        };
        file.write_all(lines.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }

    /// Takes in an answered message: remembers the answer and, on an acknowledgement, its effect.
    fn apply(&mut self, m: &Message, answer: &Answer) {
        self.answers
            .insert(m.idempotency_key().clone(), answer.clone());
        let Answer::Ack(ack) = answer else {
            return;
        };
        let sequence = ack.fcn.as_str()[FCN_PREFIX.len()..].parse().unwrap_or(0);
        self.last_sequence = self.last_sequence.max(sequence);
        let fcn = ack.fcn.clone();
        if m.key().is_entry() {
            let mut fields = Vec::new();
            merge(&mut fields, m.fields());
            self.records.insert(
                fcn.clone(),
                Record {
                    entered_as: m.key(),
                    status: RecordStatus::Active,
                    fields,
                    supplements: Vec::new(),
                },
            );
        } else {
            self.change(&fcn, m);
        }
        self.index(&fcn);
    }

    fn change(&mut self, fcn: &Fcn, m: &Message) {
        let Some(record) = self.records.get_mut(fcn) else {
            return;
        };
        if let Some(case) = record.case() {
            self.active_cases.remove(&case);
        }
        match m.key() {
            MessageKey::Modify => merge(&mut record.fields, m.fields()),
            MessageKey::Clear => record.status = RecordStatus::Cleared,
            MessageKey::Cancel => record.status = RecordStatus::Cancelled,
            MessageKey::Supplemental => record.supplements.push(m.fields().to_vec()),
            MessageKey::Enter | MessageKey::EnterTemporary => {}
        }
    }

    /// Keeps the duplicate index in step with a record.
    fn index(&mut self, fcn: &Fcn) {
        if let Some(record) = self.records.get(fcn)
            && record.status == RecordStatus::Active
            && let Some(case) = record.case()
        {
            self.active_cases.insert(case, fcn.clone());
        }
    }
}

/// The same answer again, an acknowledgement marked as a replay.
fn replayed(previous: &Answer) -> Answer {
    match previous {
        Answer::Ack(a) => Answer::Ack(Ack {
            replay: true,
            ..a.clone()
        }),
        Answer::Reject(r) => Answer::Reject(r.clone()),
    }
}

/// Applies changed fields: every code given replaces all values of that code (a PCO list is
/// replaced whole); an empty value removes the field.
fn merge(fields: &mut Vec<Field>, changes: &[Field]) {
    fields.retain(|f| changes.iter().all(|c| c.code != f.code));
    fields.extend(changes.iter().filter(|c| !c.value.is_empty()).cloned());
}

/// The text up to and including its last line end.
fn complete_lines(text: &str) -> &str {
    text.rfind('\n').map_or("", |i| &text[..=i])
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
