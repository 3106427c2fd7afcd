//! The reference CARPOS peer (`ccpor carpos-sim`) as a separate process, driven over real sockets
//! by the client the transmitter uses (docs/wire/carpos.md).
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use ccpor::carpos::client::{self, SendError, TransportError};
use ccpor::carpos::ledger::{Ledger, RecordStatus};
use ccpor::carpos::message::{
    Ack, Answer, Fcn, Field, FieldCode, IdempotencyKey, Message, MessageKey, RejectReason,
    strict_ori,
};
use ccpor::carpos::wire;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);
const CASE: &str = "24DV00123";

/// A running peer; killed when dropped.
pub(crate) struct Peer {
    child: Child,
    pub(crate) addr: String,
    _stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// Starts `ccpor carpos-sim` on `dir` with `flags` and reads the address it printed.
    pub(crate) fn start(dir: &Path, flags: &[&str]) -> Peer {
        Peer::start_on("127.0.0.1:0", dir, flags)
    }

    /// `start`, listening on `addr`.
    pub(crate) fn start_on(addr: &str, dir: &Path, flags: &[&str]) -> Peer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ccpor"))
            .args(["carpos-sim", "--addr", addr, "--data-dir"])
            .arg(dir)
            .args(flags)
            .env_remove("CCPOR_DATA_DIR")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line.trim().to_owned();
        assert!(
            addr.parse::<std::net::SocketAddr>().is_ok(),
            "first line is the address: {line:?}"
        );
        Peer {
            child,
            addr,
            _stdout: stdout,
        }
    }

    async fn send(&self, m: &Message) -> Answer {
        client::send(&self.addr, m, WAIT).await.unwrap()
    }

    async fn ack(&self, m: &Message) -> Ack {
        self.send(m).await.into_result().unwrap()
    }

    async fn reject(&self, m: &Message) -> (RejectReason, Option<FieldCode>) {
        let r = self.send(m).await.into_result().unwrap_err();
        (r.reason, r.field)
    }

    /// SIGKILL: whatever was not synced is lost.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn entry_fields(oca: &str) -> Vec<Field> {
    [
        (FieldCode::Cti, "CA019013A"),
        (FieldCode::Oca, oca),
        (FieldCode::Isd, "20260105"),
        (FieldCode::Exp, "20260126"),
        (FieldCode::Nam, "DOE,JOHN Q"),
        (FieldCode::Sex, "M"),
        (FieldCode::Rac, "W"),
        (FieldCode::Dob, "19800214"),
        (FieldCode::Hgt, "511"),
        (FieldCode::Wgt, "180"),
        (FieldCode::Hai, "BRO"),
        (FieldCode::Ppn, "DOE,JANE"),
        (FieldCode::Pco, "01"),
        (FieldCode::Mis, "stay 100 yd away. see order/attachment"),
    ]
    .into_iter()
    .map(|(c, v)| Field::new(c, v))
    .collect()
}

fn message(key: MessageKey, fcn: Option<&Fcn>, fields: Vec<Field>) -> Message {
    let ori = strict_ori("CA0190000").unwrap();
    Message::new(key, ori, IdempotencyKey::generate(), fcn.cloned(), fields).unwrap()
}

fn entry(oca: &str) -> Message {
    message(MessageKey::EnterTemporary, None, entry_fields(oca))
}

fn records(dir: &Path) -> usize {
    Ledger::read(dir).unwrap().records().count()
}

#[tokio::test]
async fn an_entry_is_modified_and_cleared_by_its_fcn() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &[]);
    let fcn = peer.ack(&entry(CASE)).await.fcn;
    assert_eq!(fcn.as_str().len(), 13);

    let wgt = vec![Field::new(FieldCode::Wgt, "175")];
    let modify = message(MessageKey::Modify, Some(&fcn), wgt);
    assert_eq!(peer.ack(&modify).await.fcn, fcn);
    let ppn = vec![Field::new(FieldCode::Ppn, "DOE,JUNIOR")];
    let supplemental = message(MessageKey::Supplemental, Some(&fcn), ppn);
    assert_eq!(peer.ack(&supplemental).await.fcn, fcn);
    let clear = message(MessageKey::Clear, Some(&fcn), vec![]);
    assert_eq!(peer.ack(&clear).await.fcn, fcn);

    let late = message(
        MessageKey::Modify,
        Some(&fcn),
        vec![Field::new(FieldCode::Wgt, "170")],
    );
    assert_eq!(
        peer.reject(&late).await,
        (RejectReason::Inactive, Some(FieldCode::Fcn))
    );
    let ledger = Ledger::read(dir.path()).unwrap();
    let record = ledger.record(&fcn).unwrap();
    assert_eq!(record.status, RecordStatus::Cleared);
    assert_eq!(record.value(FieldCode::Wgt), Some("175"));
    assert_eq!(record.supplements.len(), 1);
}

#[tokio::test]
async fn duplicates_unknown_fcns_and_missing_fields_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &[]);
    peer.ack(&entry(CASE)).await;
    assert_eq!(
        peer.reject(&entry(CASE)).await,
        (RejectReason::Duplicate, Some(FieldCode::Oca))
    );

    let unknown = Fcn::parse("9990000000777").unwrap();
    let keys = [
        MessageKey::Modify,
        MessageKey::Clear,
        MessageKey::Cancel,
        MessageKey::Supplemental,
    ];
    for key in keys {
        let fields = match key {
            MessageKey::Modify => vec![Field::new(FieldCode::Wgt, "175")],
            MessageKey::Supplemental => vec![Field::new(FieldCode::Ppn, "DOE,JUNIOR")],
            _ => vec![],
        };
        let m = message(key, Some(&unknown), fields);
        let got = peer.reject(&m).await;
        assert_eq!(
            got,
            (RejectReason::UnknownFcn, Some(FieldCode::Fcn)),
            "{key}"
        );
    }

    let no_height = entry_fields("24DV00999")
        .into_iter()
        .filter(|f| f.code != FieldCode::Hgt)
        .collect();
    let m = message(MessageKey::Enter, None, no_height);
    let answer = peer.send(&m).await;
    let Answer::Reject(r) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(
        (r.reason, r.field),
        (RejectReason::Missing, Some(FieldCode::Hgt))
    );
    assert_eq!(r.idempotency_key.as_ref(), Some(m.idempotency_key()));
    assert!(r.detail.contains("HGT"), "{}", r.detail);

    let mut bad = entry_fields("24DV00998");
    bad[5] = Field::new(FieldCode::Sex, "Q");
    let m = message(MessageKey::Enter, None, bad);
    assert_eq!(
        peer.reject(&m).await,
        (RejectReason::Malformed, Some(FieldCode::Sex))
    );
    assert_eq!(records(dir.path()), 1);
}

/// A frame our formatter would never write gets a syntax rejection naming the field.
#[tokio::test]
async fn a_malformed_frame_is_rejected_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &[]);
    let stream = tokio::net::TcpStream::connect(&peer.addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = tokio::io::BufReader::new(read).lines();
    for (frame, field) in [
        ("EPO.CA0190000.IDK/a.NAM/DOE/JOHN\n", "FLD/NAM"),
        ("EPO.CA0190000.IDK/b.MIS/x\\q\n", "FLD/MIS"),
        ("QQQ.CA0190000.IDK/c\n", "FLD/MKE"),
    ] {
        write.write_all(frame.as_bytes()).await.unwrap();
        let answer = lines.next_line().await.unwrap().unwrap();
        assert!(answer.starts_with("REJ.RSN/SYNTAX."), "{answer}");
        assert!(answer.contains(field), "{answer}");
    }
    // An over-long frame: rejected, and the connection closed (the rest cannot start a frame).
    let stream = tokio::net::TcpStream::connect(&peer.addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let frame = format!("EPO.CA0190000.IDK/d.MIS/{}\n", "A".repeat(9000));
    write.write_all(frame.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let answer = lines.next_line().await.unwrap().unwrap();
    assert!(
        answer.starts_with("REJ.RSN/SYNTAX.TXT/frame longer"),
        "{answer}"
    );
    assert!(matches!(lines.next_line().await, Ok(None) | Err(_)));
}

#[tokio::test]
async fn the_same_idempotency_key_twice_makes_one_record_with_one_fcn() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &[]);
    let m = entry(CASE);
    let first = peer.ack(&m).await;
    let second = peer.ack(&m).await;
    assert!(!first.replay);
    assert!(second.replay);
    assert_eq!(first.fcn, second.fcn);
    assert_eq!(records(dir.path()), 1);
}

#[tokio::test]
async fn a_restarted_peer_remembers_its_records_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &[]);
    let m = entry(CASE);
    let fcn = peer.ack(&m).await.fcn;
    peer.kill();

    let peer = Peer::start(dir.path(), &[]);
    let modify = message(
        MessageKey::Modify,
        Some(&fcn),
        vec![Field::new(FieldCode::Eye, "BLU")],
    );
    assert_eq!(peer.ack(&modify).await.fcn, fcn);
    let again = peer.ack(&m).await;
    assert!(again.replay);
    assert_eq!(again.fcn, fcn);
    assert_eq!(
        peer.reject(&entry(CASE)).await,
        (RejectReason::Duplicate, Some(FieldCode::Oca))
    );
    let next = peer.ack(&entry("24DV00124")).await.fcn;
    assert_ne!(next, fcn);
}

#[tokio::test]
async fn a_lost_answer_is_transient_and_the_resend_makes_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::start(dir.path(), &["--drop-every", "2"]);
    peer.ack(&entry(CASE)).await;
    let m = entry("24DV00124");
    let lost = client::deliver(&peer.addr, &m, WAIT).await.unwrap_err();
    assert!(lost.is_transient(), "{lost}");
    assert_eq!(
        records(dir.path()),
        2,
        "the peer recorded it before dropping"
    );
    let resent = peer.ack(&m).await;
    assert!(resent.replay);
    assert_eq!(records(dir.path()), 2);
    let record = Ledger::read(dir.path()).unwrap();
    assert_eq!(
        record.record(&resent.fcn).unwrap().value(FieldCode::Oca),
        Some("24DV00124")
    );
}

#[tokio::test]
async fn refusal_delay_and_double_answers_are_survivable() {
    let dir = tempfile::tempdir().unwrap();
    let refusing = Peer::start(&dir.path().join("refuse"), &["--refuse"]);
    let e = client::deliver(&refusing.addr, &entry(CASE), WAIT)
        .await
        .unwrap_err();
    assert!(matches!(e, SendError::Transient(_)), "{e}");

    let slow = Peer::start(&dir.path().join("slow"), &["--delay-ms", "1500"]);
    let m = entry(CASE);
    let e = client::send(&slow.addr, &m, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Timeout { .. }), "{e}");
    let late = slow.ack(&m).await;
    assert!(late.replay, "the first try was recorded before the delay");

    let twice = Peer::start(&dir.path().join("twice"), &["--ack-twice"]);
    let first = twice.ack(&entry(CASE)).await;
    let second = twice.ack(&entry("24DV00124")).await;
    assert_ne!(first.fcn, second.fcn);
    assert_eq!(records(&dir.path().join("twice")), 2);
    // The answer does come twice.
    let stream = tokio::net::TcpStream::connect(&twice.addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let frame = format!("{}\n", wire::format_message(&entry("24DV00125")));
    write.write_all(frame.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::new(read).lines();
    let one = lines.next_line().await.unwrap().unwrap();
    assert!(one.starts_with("ACK."), "{one}");
    assert_eq!(lines.next_line().await.unwrap(), Some(one));
}
