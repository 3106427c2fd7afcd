use super::super::message::strict_ori;
use super::*;

const CASE: &str = "24DV00123";

fn entry_fields(oca: &str) -> Vec<Field> {
    [
        (FieldCode::Cti, "CA019013A"),
        (FieldCode::Oca, oca),
        (FieldCode::Isd, "20260105"),
        (FieldCode::Exp, "20290105"),
        (FieldCode::Nam, "DOE,JOHN"),
        (FieldCode::Sex, "M"),
        (FieldCode::Rac, "W"),
        (FieldCode::Dob, "19800214"),
        (FieldCode::Hgt, "511"),
        (FieldCode::Wgt, "180"),
        (FieldCode::Hai, "BRO"),
        (FieldCode::Ppn, "DOE,JANE"),
    ]
    .into_iter()
    .map(|(c, v)| Field::new(c, v))
    .collect()
}

fn message(key: MessageKey, idk: &str, fcn: Option<&Fcn>, fields: Vec<Field>) -> Message {
    let ori = strict_ori("CA0190000").unwrap();
    let idk = IdempotencyKey::new(idk).unwrap();
    Message::new(key, ori, idk, fcn.cloned(), fields).unwrap()
}

fn enter(ledger: &mut Ledger, idk: &str, oca: &str) -> Answer {
    let m = message(MessageKey::Enter, idk, None, entry_fields(oca));
    ledger.handle(&m).unwrap()
}

fn acked(answer: Answer) -> Ack {
    answer.into_result().unwrap()
}

fn rejected(answer: Answer) -> (RejectReason, Option<FieldCode>) {
    let r = answer.into_result().unwrap_err();
    (r.reason, r.field)
}

#[test]
fn entries_get_13_digit_fcns_and_duplicates_are_refused() {
    let mut ledger = Ledger::in_memory();
    let first = acked(enter(&mut ledger, "a", CASE));
    assert_eq!(first.fcn.as_str(), "9990000000001");
    assert!(!first.replay);
    let dup = rejected(enter(&mut ledger, "b", CASE));
    assert_eq!(dup, (RejectReason::Duplicate, Some(FieldCode::Oca)));
    let other = acked(enter(&mut ledger, "c", "24DV00124"));
    assert_eq!(other.fcn.as_str(), "9990000000002");
}

#[test]
fn the_same_key_gets_the_same_answer_and_no_second_record() {
    let mut ledger = Ledger::in_memory();
    let first = acked(enter(&mut ledger, "a", CASE));
    let again = acked(enter(&mut ledger, "a", CASE));
    assert_eq!(again.fcn, first.fcn);
    assert!(again.replay);
    assert_eq!(ledger.records().count(), 1);
    let refused = message(MessageKey::Enter, "r", None, vec![]);
    let before = ledger.handle(&refused).unwrap();
    assert_eq!(ledger.handle(&refused).unwrap(), before);
}

#[test]
fn follow_ups_need_a_known_active_record() {
    let mut ledger = Ledger::in_memory();
    let fcn = acked(enter(&mut ledger, "a", CASE)).fcn;
    let unknown = Fcn::parse("9990000000999").unwrap();
    let mis = || vec![Field::new(FieldCode::Mis, "x")];
    let m = message(MessageKey::Modify, "m0", Some(&unknown), mis());
    let got = rejected(ledger.handle(&m).unwrap());
    assert_eq!(got, (RejectReason::UnknownFcn, Some(FieldCode::Fcn)));

    let wgt = vec![Field::new(FieldCode::Wgt, "175")];
    let m = message(MessageKey::Modify, "m1", Some(&fcn), wgt);
    assert_eq!(acked(ledger.handle(&m).unwrap()).fcn, fcn);
    assert_eq!(
        ledger.record(&fcn).unwrap().value(FieldCode::Wgt),
        Some("175")
    );

    let m = message(MessageKey::Clear, "c1", Some(&fcn), mis());
    acked(ledger.handle(&m).unwrap());
    assert_eq!(ledger.record(&fcn).unwrap().status, RecordStatus::Cleared);
    let m = message(MessageKey::Modify, "m2", Some(&fcn), mis());
    let got = rejected(ledger.handle(&m).unwrap());
    assert_eq!(got, (RejectReason::Inactive, Some(FieldCode::Fcn)));
    // A cleared order no longer blocks a new entry for the case.
    acked(enter(&mut ledger, "a2", CASE));
}

#[test]
fn a_modify_cannot_move_a_record_onto_another_case() {
    let mut ledger = Ledger::in_memory();
    acked(enter(&mut ledger, "a", CASE));
    let second = acked(enter(&mut ledger, "b", "24DV00124")).fcn;
    let onto = vec![Field::new(FieldCode::Oca, CASE)];
    let m = message(MessageKey::Modify, "m", Some(&second), onto);
    let got = rejected(ledger.handle(&m).unwrap());
    assert_eq!(got, (RejectReason::Duplicate, Some(FieldCode::Oca)));
}

#[test]
fn a_reopened_journal_remembers_records_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let fcn = {
        let mut ledger = Ledger::open(dir.path()).unwrap();
        let fcn = acked(enter(&mut ledger, "a", CASE)).fcn;
        let m = message(MessageKey::Supplemental, "s", Some(&fcn), vec![]);
        rejected(ledger.handle(&m).unwrap());
        fcn
    };
    // A crash in the middle of a line: that answer never left.
    let path = dir.path().join(JOURNAL);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(b"{\"at\":\"2026").unwrap();

    let mut ledger = Ledger::open(dir.path()).unwrap();
    assert_eq!(acked(enter(&mut ledger, "a", CASE)).fcn, fcn);
    let m = message(MessageKey::Supplemental, "s", Some(&fcn), vec![]);
    let got = rejected(ledger.handle(&m).unwrap());
    assert_eq!(got, (RejectReason::Missing, Some(FieldCode::Ppn)));
    let next = acked(enter(&mut ledger, "b", "24DV00124")).fcn;
    assert_eq!(next.as_str(), "9990000000002");
    assert_eq!(Ledger::read(dir.path()).unwrap().records().count(), 2);
}

#[test]
fn a_corrupt_journal_line_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(JOURNAL), "not json\n").unwrap();
    let e = Ledger::open(dir.path()).unwrap_err();
    assert!(e.to_string().contains("line 1"), "{e}");
}
