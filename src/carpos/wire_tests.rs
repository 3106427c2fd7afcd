use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;

fn entry(fields: Vec<Field>) -> Message {
    Message::new(
        MessageKey::Enter,
        strict_ori("CA0190000").unwrap(),
        IdempotencyKey::new("k-1").unwrap(),
        None,
        fields,
    )
    .unwrap()
}

#[test]
fn a_message_reads_as_documented() {
    let m = entry(vec![
        Field::new(FieldCode::Nam, "O'NEIL,MARY-ANN J."),
        Field::new(FieldCode::Mis, "stay 100 yd/91 m away\\ see order"),
        Field::new(FieldCode::Pco, "01"),
        Field::new(FieldCode::Pco, "04"),
    ]);
    let text = format_message(&m);
    assert_eq!(
        text,
        "EPO.CA0190000.IDK/k-1.NAM/O'NEIL,MARY-ANN J\\..MIS/stay 100 yd\\/91 m away\\\\ see order\
         .PCO/01.PCO/04"
    );
    assert_eq!(parse_message(&text).unwrap(), m);
}

#[test]
fn follow_ups_carry_the_fcn_after_the_key() {
    let m = Message::new(
        MessageKey::Clear,
        strict_ori("CA0190000").unwrap(),
        IdempotencyKey::new("k-2").unwrap(),
        Some(Fcn::parse("9990000000042").unwrap()),
        vec![Field::new(FieldCode::Mis, "terminated")],
    )
    .unwrap();
    let text = format_message(&m);
    assert_eq!(
        text,
        "CPO.CA0190000.IDK/k-2.FCN/9990000000042.MIS/terminated"
    );
    assert_eq!(parse_message(&text).unwrap(), m);
}

#[test]
fn answers_round_trip() {
    let k = IdempotencyKey::new("k-3").unwrap();
    let answers = [
        Answer::Ack(Ack {
            idempotency_key: k.clone(),
            fcn: Fcn::parse("9990000000001").unwrap(),
            replay: false,
        }),
        Answer::Ack(Ack {
            idempotency_key: k.clone(),
            fcn: Fcn::parse("9990000000001").unwrap(),
            replay: true,
        }),
        Answer::Reject(Reject {
            idempotency_key: Some(k),
            reason: RejectReason::Missing,
            field: Some(FieldCode::Hgt),
            detail: "HGT. is mandatory / required".to_owned(),
        }),
        Answer::Reject(Reject {
            idempotency_key: None,
            reason: RejectReason::Syntax,
            field: None,
            detail: String::new(),
        }),
    ];
    for a in answers {
        let text = format_answer(&a);
        assert_eq!(parse_answer(&text).unwrap(), a, "{text}");
    }
    assert_eq!(
        format_answer(&parse_answer("ACK.IDK/a.FCN/9990000000001.DUP/Y").unwrap()),
        "ACK.IDK/a.FCN/9990000000001.DUP/Y"
    );
}

/// Each malformed frame, the error it gives and the field that error names.
#[test]
fn malformed_messages_name_the_field() {
    let cases: &[(&str, Option<FieldCode>, &str)] = &[
        ("", None, "empty frame"),
        ("EPO", Some(FieldCode::Ori), "ORI: missing"),
        (
            "ZZZ.CA0190000.IDK/a",
            Some(FieldCode::Mke),
            "`ZZZ` is not a message key",
        ),
        ("EPO.ca0190000.IDK/a", Some(FieldCode::Ori), "not an ORI"),
        (
            "EPO.CA0190000.NAM/A,B",
            Some(FieldCode::Idk),
            "IDK: expected here, found `NAM/…`",
        ),
        (
            "EPO.CA0190000.IDK/a b",
            Some(FieldCode::Idk),
            "not an idempotency key",
        ),
        (
            "MPO.CA0190000.IDK/a.NAM/A,B",
            Some(FieldCode::Fcn),
            "FCN: expected",
        ),
        (
            "MPO.CA0190000.IDK/a.FCN/12",
            Some(FieldCode::Fcn),
            "not a File Control Number",
        ),
        (
            "EPO.CA0190000.IDK/a.FCN/9990000000001",
            Some(FieldCode::Fcn),
            "FCN: belongs",
        ),
        (
            "EPO.CA0190000.IDK/a.NAM/A,B.NAM/C,D",
            Some(FieldCode::Nam),
            "NAM: given more",
        ),
        (
            "EPO.CA0190000.IDK/a.XYZ/1",
            None,
            "`XYZ` is not a field code",
        ),
        (
            "EPO.CA0190000.IDK/a.NAM/A/B",
            Some(FieldCode::Nam),
            "NAM: unescaped `/`",
        ),
        (
            "EPO.CA0190000.IDK/a.MIS/x\\q",
            Some(FieldCode::Mis),
            "MIS: bad escape `\\q`",
        ),
        (
            "EPO.CA0190000.IDK/a.MIS/x\\",
            Some(FieldCode::Mis),
            "MIS: bad escape",
        ),
        (
            "EPO.CA0190000.IDK/a.MIS/x\ry",
            Some(FieldCode::Mis),
            "MIS: raw line break",
        ),
        ("EPO.CA0190000.IDK/a.", None, "field 4: empty field"),
        ("EPO..IDK/a", None, "field 2: empty field"),
        (
            "EPO.CA0190000.IDK/a.SMITH",
            None,
            "field 4: `SMITH` has no `CODE/`",
        ),
    ];
    for (text, field, says) in cases {
        let e = parse_message(text).unwrap_err();
        assert_eq!(e.field(), *field, "{text}: {e}");
        assert!(e.to_string().contains(says), "{text}: `{e}` lacks `{says}`");
    }
}

#[test]
fn malformed_answers_are_refused() {
    for text in [
        "OK.IDK/a.FCN/9990000000001",
        "ACK.IDK/a",
        "ACK.FCN/9990000000001.IDK/a",
        "ACK.IDK/a.FCN/9990000000001.DUP/N",
        "ACK.IDK/a.FCN/9990000000001.EXTRA/1",
        "REJ.IDK/a.RSN/WHATEVER.TXT/x",
        "REJ.RSN/MISSING.FLD/QQQ.TXT/x",
        "REJ.RSN/MISSING",
    ] {
        assert!(parse_answer(text).is_err(), "{text}");
    }
}

/// Characters that stress the escaping: the separators, the escape, line breaks, non-ASCII.
const AWKWARD: &[char] = &[
    '.', '/', '\\', '\n', '\r', ' ', ',', 'A', 'z', '0', 'é', '→', '\t', '\0', '\'', 'n', 'r',
];

fn awkward_value(rng: &mut ChaCha8Rng) -> String {
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| AWKWARD[rng.random_range(0..AWKWARD.len())])
        .collect()
}

fn random_message(rng: &mut ChaCha8Rng) -> Message {
    let key = MessageKey::ALL[rng.random_range(0..MessageKey::ALL.len())];
    let fcn = (!key.is_entry()).then(|| Fcn::parse("9990000000007").unwrap());
    let data: Vec<FieldCode> = FieldCode::ALL
        .iter()
        .copied()
        .filter(|c| !c.is_header())
        .collect();
    let mut fields: Vec<Field> = Vec::new();
    for _ in 0..rng.random_range(0..8) {
        let code = data[rng.random_range(0..data.len())];
        if code.is_repeatable() || fields.iter().all(|f| f.code != code) {
            fields.push(Field::new(code, awkward_value(rng)));
        }
    }
    let idk = IdempotencyKey::generate();
    Message::new(key, strict_ori("CA0190000").unwrap(), idk, fcn, fields).unwrap()
}

#[test]
fn generated_messages_round_trip_on_one_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    for _ in 0..2000 {
        let m = random_message(&mut rng);
        let text = format_message(&m);
        assert!(!text.contains(['\n', '\r']), "{text:?}");
        assert_eq!(parse_message(&text).unwrap(), m, "{text:?}");
        let reject = Answer::Reject(Reject {
            idempotency_key: Some(m.idempotency_key().clone()),
            reason: RejectReason::Malformed,
            field: m.fields().first().map(|f| f.code),
            detail: m
                .fields()
                .first()
                .map(|f| f.value.clone())
                .unwrap_or_default(),
        });
        assert_eq!(parse_answer(&format_answer(&reject)).unwrap(), reject);
    }
}
