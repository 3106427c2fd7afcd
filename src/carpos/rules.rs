//! The edits the peer applies to a readable message, as a Protection Order File would: mandatory
//! fields per message key (docs/law/ncic.md#mandatory-data) and each field's format or code list
//! (docs/wire/carpos.md#field-values). Record-level checks (duplicates, unknown FCNs) are the
//! ledger's.
use chrono::NaiveDate;

use super::message::{FieldCode, Message, MessageKey, Reject, RejectReason};
use crate::domain::codes::{EyeColor, HairColor, PcoCode, Race};

/// What an entry must carry: the court's ORI, case number and dates, the restrained person's
/// name and descriptors, the protected person's name (the order type is the message key).
pub const ENTRY_MANDATORY: &[FieldCode] = &[
    FieldCode::Cti,
    FieldCode::Oca,
    FieldCode::Isd,
    FieldCode::Exp,
    FieldCode::Nam,
    FieldCode::Sex,
    FieldCode::Rac,
    FieldCode::Dob,
    FieldCode::Hgt,
    FieldCode::Wgt,
    FieldCode::Hai,
    FieldCode::Ppn,
];

/// The fields a supplemental record (another protected person) may carry.
const SUPPLEMENTAL_FIELDS: &[FieldCode] = &[
    FieldCode::Ppn,
    FieldCode::Psx,
    FieldCode::Ppr,
    FieldCode::Ppb,
    FieldCode::Mis,
];

/// Skin tone codes (NCIC SKN, docs/law/ncic.md#field-codes).
const SKIN: &[&str] = &[
    "ALB", "BLK", "DRK", "DBR", "FAR", "LGT", "LBR", "MED", "MBR", "OLV", "RUD", "SAL", "YEL",
];

/// Non-expiring orders carry this instead of an expiry date (⚠️ the literal is our choice).
pub const NON_EXPIRING: &str = "NONEXP";

/// Longest name (`NAM`, `PPN`), case number (`OCA`), licence number and remark, in characters.
const NAME_MAX: usize = 30;
const OCA_MAX: usize = 20;
const OLN_MAX: usize = 20;
const MIS_MAX: usize = 500;

/// Checks a message's fields against its key; the first problem found is the rejection.
pub fn check(m: &Message) -> Result<(), Reject> {
    let reject = |reason, field: Option<FieldCode>, detail: String| Reject {
        idempotency_key: Some(m.idempotency_key().clone()),
        reason,
        field,
        detail,
    };
    for &code in mandatory(m.key()) {
        if m.value(code).is_none_or(str::is_empty) {
            let detail = format!("{code} ({}) is mandatory in a {}", code.meaning(), m.key());
            return Err(reject(RejectReason::Missing, Some(code), detail));
        }
    }
    if m.key() == MessageKey::Modify && m.fields().is_empty() {
        let detail = "a modify changes at least one field".to_owned();
        return Err(reject(RejectReason::Missing, None, detail));
    }
    for f in m.fields() {
        if !allowed(m.key(), f.code) {
            let detail = format!("{} has no place in a {}", f.code, m.key());
            return Err(reject(RejectReason::NotAllowed, Some(f.code), detail));
        }
        if f.value.is_empty() && m.key() == MessageKey::Modify && ENTRY_MANDATORY.contains(&f.code)
        {
            let detail = format!("{} is mandatory and cannot be removed", f.code);
            return Err(reject(RejectReason::Missing, Some(f.code), detail));
        }
        if !f.value.is_empty()
            && let Err(rule) = value_ok(f.code, &f.value)
        {
            let detail = format!("{}: `{}` {rule}", f.code, f.value);
            return Err(reject(RejectReason::Malformed, Some(f.code), detail));
        }
    }
    dates_in_order(m).map_err(|d| reject(RejectReason::Malformed, Some(FieldCode::Exp), d))
}

fn mandatory(key: MessageKey) -> &'static [FieldCode] {
    match key {
        MessageKey::Enter | MessageKey::EnterTemporary => ENTRY_MANDATORY,
        MessageKey::Supplemental => &[FieldCode::Ppn],
        MessageKey::Modify | MessageKey::Clear | MessageKey::Cancel => &[],
    }
}

fn allowed(key: MessageKey, code: FieldCode) -> bool {
    match key {
        MessageKey::Enter | MessageKey::EnterTemporary | MessageKey::Modify => true,
        MessageKey::Supplemental => SUPPLEMENTAL_FIELDS.contains(&code),
        MessageKey::Clear | MessageKey::Cancel => code == FieldCode::Mis,
    }
}

/// The format or code list of a non-empty value (docs/wire/carpos.md#field-values).
pub fn value_ok(code: FieldCode, v: &str) -> Result<(), &'static str> {
    let ok = match code {
        FieldCode::Nam | FieldCode::Ppn => return name_ok(v),
        FieldCode::Sex | FieldCode::Psx => matches!(v, "M" | "F" | "X" | "U"),
        FieldCode::Rac | FieldCode::Ppr => Race::ALL.iter().any(|r| r.as_db() == v),
        FieldCode::Dob | FieldCode::Ppb | FieldCode::Isd => date(v).is_some(),
        FieldCode::Exp => v == NON_EXPIRING || date(v).is_some(),
        FieldCode::Hgt => height_ok(v),
        FieldCode::Wgt => v.len() == 3 && v.parse::<u16>().is_ok_and(|w| w > 0),
        FieldCode::Hai => HairColor::ALL.iter().any(|h| h.as_db() == v),
        FieldCode::Eye => EyeColor::ALL.iter().any(|e| e.as_db() == v),
        FieldCode::Skn => SKIN.contains(&v),
        FieldCode::Oln => up_to(v, OLN_MAX) && v.bytes().all(|b| b.is_ascii_alphanumeric()),
        FieldCode::Oca => {
            up_to(v, OCA_MAX) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
        FieldCode::Cti => super::message::strict_ori(v).is_ok(),
        FieldCode::Brd => matches!(v, "Y" | "N" | "U"),
        FieldCode::Pco => PcoCode::parse("PCO", v).is_ok_and(|p| p.as_str() == v),
        FieldCode::Mis => up_to(v, MIS_MAX),
        FieldCode::Mke | FieldCode::Ori | FieldCode::Idk | FieldCode::Fcn => true,
    };
    if ok { Ok(()) } else { Err(rule(code)) }
}

/// The rule a value broke, in words.
fn rule(code: FieldCode) -> &'static str {
    match code {
        FieldCode::Sex | FieldCode::Psx => "is not M, F, X or U",
        FieldCode::Rac | FieldCode::Ppr => "is not A, B, I, W or U",
        FieldCode::Dob | FieldCode::Ppb | FieldCode::Isd => "is not a date YYYYMMDD",
        FieldCode::Exp => "is neither a date YYYYMMDD nor NONEXP",
        FieldCode::Hgt => "is not a height of 3 digits, feet then inches (511)",
        FieldCode::Wgt => "is not a weight of 3 digits, in pounds (075, 180)",
        FieldCode::Hai | FieldCode::Eye | FieldCode::Skn => "is not in the NCIC code list",
        FieldCode::Oln => "is not up to 20 letters and digits",
        FieldCode::Oca => "is not up to 20 letters, digits and hyphens",
        FieldCode::Cti => "is not an ORI (9 characters)",
        FieldCode::Brd => "is not Y, N or U",
        FieldCode::Pco => "is not a condition 01 to 09",
        FieldCode::Mis => "is longer than 500 characters",
        _ => "is not valid",
    }
}

fn up_to(v: &str, max: usize) -> bool {
    v.chars().count() <= max
}

fn date(v: &str) -> Option<NaiveDate> {
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(v, "%Y%m%d").ok()
}

fn height_ok(v: &str) -> bool {
    let b = v.as_bytes();
    v.len() == 3
        && b.iter().all(u8::is_ascii_digit)
        && (b'1'..=b'9').contains(&b[0])
        && v[1..].parse::<u8>().is_ok_and(|inches| inches < 12)
}

/// `LAST,FIRST MIDDLE SUFFIX`: a surname before the comma, at most 30 characters.
fn name_ok(v: &str) -> Result<(), &'static str> {
    let shaped = v
        .split_once(',')
        .is_some_and(|(last, first)| !last.trim().is_empty() && !first.contains(','));
    let clean = v.chars().all(|c| !c.is_control());
    if shaped && clean && up_to(v, NAME_MAX) {
        Ok(())
    } else {
        Err("is not a name LAST,FIRST MIDDLE of at most 30 characters")
    }
}

/// An order cannot end before it is issued.
fn dates_in_order(m: &Message) -> Result<(), String> {
    let issued = m.value(FieldCode::Isd).and_then(date);
    let ends = m.value(FieldCode::Exp).and_then(date);
    match (issued, ends) {
        (Some(i), Some(e)) if e < i => Err(format!("EXP {e} is before ISD {i}")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::message::{Fcn, Field, IdempotencyKey, strict_ori};
    use super::*;

    fn message(key: MessageKey, fields: Vec<Field>) -> Message {
        let fcn = (!key.is_entry()).then(|| Fcn::parse("9990000000001").unwrap());
        let ori = strict_ori("CA0190000").unwrap();
        Message::new(key, ori, IdempotencyKey::generate(), fcn, fields).unwrap()
    }

    fn complete() -> Vec<Field> {
        [
            (FieldCode::Cti, "CA019013A"),
            (FieldCode::Oca, "24DV00123"),
            (FieldCode::Isd, "20260105"),
            (FieldCode::Exp, "20290105"),
            (FieldCode::Nam, "DOE,JOHN Q"),
            (FieldCode::Sex, "M"),
            (FieldCode::Rac, "W"),
            (FieldCode::Dob, "19800214"),
            (FieldCode::Hgt, "511"),
            (FieldCode::Wgt, "180"),
            (FieldCode::Hai, "BRO"),
            (FieldCode::Ppn, "DOE,JANE"),
            (FieldCode::Pco, "01"),
            (FieldCode::Pco, "07"),
        ]
        .into_iter()
        .map(|(c, v)| Field::new(c, v))
        .collect()
    }

    fn rejection(key: MessageKey, fields: Vec<Field>) -> (RejectReason, Option<FieldCode>) {
        let r = check(&message(key, fields)).unwrap_err();
        (r.reason, r.field)
    }

    #[test]
    fn a_complete_entry_passes_and_each_mandatory_field_is_named_when_missing() {
        assert!(check(&message(MessageKey::Enter, complete())).is_ok());
        for &code in ENTRY_MANDATORY {
            let fields = complete().into_iter().filter(|f| f.code != code).collect();
            let got = rejection(MessageKey::EnterTemporary, fields);
            assert_eq!(got, (RejectReason::Missing, Some(code)));
        }
    }

    #[test]
    fn malformed_codes_are_named() {
        for (code, bad) in [
            (FieldCode::Sex, "Q"),
            (FieldCode::Rac, "W1"),
            (FieldCode::Dob, "19800230"),
            (FieldCode::Hgt, "512x"),
            (FieldCode::Hgt, "513"),
            (FieldCode::Wgt, "000"),
            (FieldCode::Hai, "PUR"),
            (FieldCode::Eye, "blu"),
            (FieldCode::Exp, "NEVER"),
            (FieldCode::Nam, "JOHN DOE"),
            (FieldCode::Pco, "10"),
            (FieldCode::Cti, "CA01"),
            (FieldCode::Oca, "24 DV 1"),
        ] {
            let fields = vec![Field::new(code, bad)];
            let got = rejection(MessageKey::Modify, fields);
            assert_eq!(got, (RejectReason::Malformed, Some(code)), "{code} {bad}");
        }
        let backwards = vec![
            Field::new(FieldCode::Isd, "20260105"),
            Field::new(FieldCode::Exp, "20250105"),
        ];
        let got = rejection(MessageKey::Modify, backwards);
        assert_eq!(got, (RejectReason::Malformed, Some(FieldCode::Exp)));
    }

    #[test]
    fn each_key_takes_its_own_fields() {
        let nam = vec![Field::new(FieldCode::Nam, "DOE,J")];
        let got = rejection(MessageKey::Clear, nam.clone());
        assert_eq!(got, (RejectReason::NotAllowed, Some(FieldCode::Nam)));
        let got = rejection(MessageKey::Supplemental, nam);
        assert_eq!(got, (RejectReason::Missing, Some(FieldCode::Ppn)));
        assert_eq!(
            rejection(MessageKey::Modify, vec![]).0,
            RejectReason::Missing
        );
        let removed = vec![Field::new(FieldCode::Hgt, "")];
        let got = rejection(MessageKey::Modify, removed);
        assert_eq!(got, (RejectReason::Missing, Some(FieldCode::Hgt)));
        assert!(check(&message(MessageKey::Cancel, vec![])).is_ok());
        let exp = vec![Field::new(FieldCode::Exp, NON_EXPIRING)];
        assert!(check(&message(MessageKey::Modify, exp)).is_ok());
    }
}
