//! The canonical outbound message and the peer's answers, independent of any wire format. The
//! message keys and field codes are NCIC's Protection Order File's (docs/law/ncic.md#message-keys,
//! docs/law/ncic.md#field-codes); how they travel is docs/wire/carpos.md.
use std::fmt;

use crate::domain::ori::Ori;

/// What a message asks CARPOS to do (NCIC `MKE`; the codes are unconfirmed ⚠️,
/// docs/law/ncic.md#message-keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKey {
    /// Enter an order (`EPO`).
    Enter,
    /// Enter a temporary order (`ETO`): a TRO or EPO.
    EnterTemporary,
    /// Change fields of an entered record, or add missing ones (`MPO`).
    Modify,
    /// The order is no longer in effect, e.g. terminated (`CPO`).
    Clear,
    /// The record was entered in error or the order vacated (`XPO`).
    Cancel,
    /// Add a supplemental record to an entry: another protected person (`ENPO`).
    Supplemental,
}

impl MessageKey {
    pub const ALL: [MessageKey; 6] = [
        MessageKey::Enter,
        MessageKey::EnterTemporary,
        MessageKey::Modify,
        MessageKey::Clear,
        MessageKey::Cancel,
        MessageKey::Supplemental,
    ];

    /// The NCIC-style code on the wire.
    pub fn code(self) -> &'static str {
        match self {
            MessageKey::Enter => "EPO",
            MessageKey::EnterTemporary => "ETO",
            MessageKey::Modify => "MPO",
            MessageKey::Clear => "CPO",
            MessageKey::Cancel => "XPO",
            MessageKey::Supplemental => "ENPO",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether the message creates a record (and gets an FCN) rather than naming one.
    pub fn is_entry(self) -> bool {
        matches!(self, MessageKey::Enter | MessageKey::EnterTemporary)
    }
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Declares the field codes with their wire spelling and meaning.
macro_rules! field_codes {
    ($($variant:ident => $code:literal, $what:literal;)+) => {
        /// A field code: NCIC's, plus `IDK` (the idempotency key, ours) and `FCN`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FieldCode { $($variant),+ }

        impl FieldCode {
            pub const ALL: &'static [FieldCode] = &[$(FieldCode::$variant),+];

            /// The three-letter code on the wire.
            pub fn code(self) -> &'static str {
                match self { $(FieldCode::$variant => $code),+ }
            }

            /// What the field holds, for errors and documentation.
            pub fn meaning(self) -> &'static str {
                match self { $(FieldCode::$variant => $what),+ }
            }
        }
    };
}

field_codes! {
    Mke => "MKE", "message key";
    Ori => "ORI", "originating agency (the sender)";
    Idk => "IDK", "idempotency key";
    Fcn => "FCN", "File Control Number of the record";
    Nam => "NAM", "restrained person's name";
    Sex => "SEX", "restrained person's sex";
    Rac => "RAC", "restrained person's race";
    Dob => "DOB", "restrained person's date of birth";
    Hgt => "HGT", "restrained person's height";
    Wgt => "WGT", "restrained person's weight";
    Hai => "HAI", "restrained person's hair colour";
    Eye => "EYE", "restrained person's eye colour";
    Skn => "SKN", "restrained person's skin tone";
    Oln => "OLN", "restrained person's driver's licence number";
    Ppn => "PPN", "protected person's name";
    Psx => "PSX", "protected person's sex";
    Ppr => "PPR", "protected person's race";
    Ppb => "PPB", "protected person's date of birth";
    Oca => "OCA", "case number";
    Cti => "CTI", "court ORI";
    Isd => "ISD", "issue date";
    Exp => "EXP", "expiry date";
    Brd => "BRD", "Brady indicator";
    Pco => "PCO", "protection order condition";
    Mis => "MIS", "miscellaneous remarks";
}

impl FieldCode {
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.code() == code)
    }

    /// Whether the code belongs to the message's header, not to its data fields.
    pub fn is_header(self) -> bool {
        matches!(
            self,
            FieldCode::Mke | FieldCode::Ori | FieldCode::Idk | FieldCode::Fcn
        )
    }

    /// Whether a message may carry the field more than once.
    pub fn is_repeatable(self) -> bool {
        self == FieldCode::Pco
    }
}

impl fmt::Display for FieldCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a message cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("FCN: `{0}` is not a File Control Number (13 digits)")]
    BadFcn(String),
    #[error("IDK: `{0}` is not an idempotency key (1 to 64 of A-Z a-z 0-9 - _)")]
    BadIdempotencyKey(String),
    #[error("ORI: `{0}` is not an ORI (9 characters: two letters, seven letters or digits)")]
    BadOri(String),
    #[error("FCN: a {0} message names the record it changes by its FCN")]
    MissingFcn(MessageKey),
    #[error("FCN: a {0} message creates a record and carries no FCN")]
    UnexpectedFcn(MessageKey),
    #[error("{0}: belongs to the header, not among the data fields")]
    HeaderInBody(FieldCode),
    #[error("{0}: given more than once")]
    Repeated(FieldCode),
}

impl MessageError {
    /// The field the error is about.
    pub fn field(&self) -> FieldCode {
        match self {
            MessageError::BadFcn(_)
            | MessageError::MissingFcn(_)
            | MessageError::UnexpectedFcn(_) => FieldCode::Fcn,
            MessageError::BadIdempotencyKey(_) => FieldCode::Idk,
            MessageError::BadOri(_) => FieldCode::Ori,
            MessageError::HeaderInBody(f) | MessageError::Repeated(f) => *f,
        }
    }
}

/// A 13-digit File Control Number, assigned by CARPOS on entry (docs/law/ncic.md#carpos).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fcn(String);

impl Fcn {
    pub const LEN: usize = 13;

    pub fn parse(s: &str) -> Result<Self, MessageError> {
        if s.len() == Self::LEN && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(MessageError::BadFcn(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fcn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The sender's name for one transmission. Sent again after a lost answer, it makes the peer
/// answer as it did the first time instead of entering a second record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 64;

    pub fn new(s: &str) -> Result<Self, MessageError> {
        let ok = (1..=Self::MAX_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(MessageError::BadIdempotencyKey(s.to_owned()))
        }
    }

    /// A fresh key: a time-ordered UUID (version 7: milliseconds, then random bits), so the
    /// outbox's unique index on it grows at its right edge like the ids instead of taking a
    /// write on a random page of a large index for each row of a bulk load.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses an ORI exactly as written (the domain's parser also accepts lower case and spaces).
pub fn strict_ori(s: &str) -> Result<Ori, MessageError> {
    Ori::parse("ORI", s)
        .ok()
        .filter(|o| o.as_str() == s)
        .ok_or_else(|| MessageError::BadOri(s.to_owned()))
}

/// One data field: an NCIC code and its value (any text; the wire escapes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub code: FieldCode,
    pub value: String,
}

impl Field {
    pub fn new(code: FieldCode, value: impl Into<String>) -> Self {
        Self {
            code,
            value: value.into(),
        }
    }
}

/// A message to CARPOS. Built only through [`Message::new`], so it always has an FCN exactly
/// when its key names a record, and each data field at most once (PCO excepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    key: MessageKey,
    ori: Ori,
    idempotency_key: IdempotencyKey,
    fcn: Option<Fcn>,
    fields: Vec<Field>,
}

impl Message {
    pub fn new(
        key: MessageKey,
        ori: Ori,
        idempotency_key: IdempotencyKey,
        fcn: Option<Fcn>,
        fields: Vec<Field>,
    ) -> Result<Self, MessageError> {
        match (key.is_entry(), &fcn) {
            (true, Some(_)) => return Err(MessageError::UnexpectedFcn(key)),
            (false, None) => return Err(MessageError::MissingFcn(key)),
            _ => {}
        }
        check_fields(&fields)?;
        Ok(Self {
            key,
            ori,
            idempotency_key,
            fcn,
            fields,
        })
    }

    pub fn key(&self) -> MessageKey {
        self.key
    }

    pub fn ori(&self) -> &Ori {
        &self.ori
    }

    pub fn idempotency_key(&self) -> &IdempotencyKey {
        &self.idempotency_key
    }

    pub fn fcn(&self) -> Option<&Fcn> {
        self.fcn.as_ref()
    }

    /// The data fields, in the order given.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The value of a (non-repeatable) field.
    pub fn value(&self, code: FieldCode) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.code == code)
            .map(|f| f.value.as_str())
    }
}

fn check_fields(fields: &[Field]) -> Result<(), MessageError> {
    for (i, f) in fields.iter().enumerate() {
        if f.code.is_header() {
            return Err(MessageError::HeaderInBody(f.code));
        }
        if !f.code.is_repeatable() && fields[..i].iter().any(|g| g.code == f.code) {
            return Err(MessageError::Repeated(f.code));
        }
    }
    Ok(())
}

/// The peer's answer to one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Ack(Ack),
    Reject(Reject),
}

impl Answer {
    /// The idempotency key of the message answered (absent when the peer could not read it).
    pub fn idempotency_key(&self) -> Option<&IdempotencyKey> {
        match self {
            Answer::Ack(a) => Some(&a.idempotency_key),
            Answer::Reject(r) => r.idempotency_key.as_ref(),
        }
    }

    /// The acknowledgement, or the rejection as an error.
    pub fn into_result(self) -> Result<Ack, Reject> {
        match self {
            Answer::Ack(a) => Ok(a),
            Answer::Reject(r) => Err(r),
        }
    }
}

/// The message was applied. `fcn` is the record's (new on an entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub idempotency_key: IdempotencyKey,
    pub fcn: Fcn,
    /// The key had been answered before: this repeats that answer, and nothing was applied again.
    pub replay: bool,
}

/// The message was refused, for good: sending it again gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CARPOS rejected the message: {reason}{}: {detail}", .field.map(|f| format!(" {f}")).unwrap_or_default())]
pub struct Reject {
    pub idempotency_key: Option<IdempotencyKey>,
    pub reason: RejectReason,
    /// The field at fault, when one is.
    pub field: Option<FieldCode>,
    pub detail: String,
}

/// Why a message was refused (docs/wire/carpos.md#reject-reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The frame could not be read as a message.
    Syntax,
    /// A mandatory field is absent or empty.
    Missing,
    /// A field's value is not of its format or code list.
    Malformed,
    /// The field has no place in this kind of message.
    NotAllowed,
    /// An active record exists for the same court ORI and case number.
    Duplicate,
    /// No record has this FCN.
    UnknownFcn,
    /// The record was cleared or cancelled and takes no more changes.
    Inactive,
}

impl RejectReason {
    pub const ALL: [RejectReason; 7] = [
        RejectReason::Syntax,
        RejectReason::Missing,
        RejectReason::Malformed,
        RejectReason::NotAllowed,
        RejectReason::Duplicate,
        RejectReason::UnknownFcn,
        RejectReason::Inactive,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RejectReason::Syntax => "SYNTAX",
            RejectReason::Missing => "MISSING",
            RejectReason::Malformed => "MALFORMED",
            RejectReason::NotAllowed => "NOT_ALLOWED",
            RejectReason::Duplicate => "DUPLICATE",
            RejectReason::UnknownFcn => "UNKNOWN_FCN",
            RejectReason::Inactive => "INACTIVE",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ori() -> Ori {
        strict_ori("CA0190000").unwrap()
    }

    /// Keys are valid, distinct, and each sorts after the one before, so the outbox's unique
    /// index takes them at its end.
    #[test]
    fn generated_keys_are_valid_and_ascending() {
        let keys: Vec<IdempotencyKey> = (0..10_000).map(|_| IdempotencyKey::generate()).collect();
        for pair in keys.windows(2) {
            assert!(pair[0].as_str() < pair[1].as_str(), "{pair:?}");
        }
        for k in &keys {
            assert_eq!(IdempotencyKey::new(k.as_str()).as_ref(), Ok(k));
        }
    }

    #[test]
    fn an_fcn_goes_with_the_keys_that_name_a_record() {
        let k = IdempotencyKey::generate();
        let fcn = Fcn::parse("9990000000001").unwrap();
        for key in MessageKey::ALL {
            let with = Message::new(key, ori(), k.clone(), Some(fcn.clone()), vec![]);
            let without = Message::new(key, ori(), k.clone(), None, vec![]);
            assert_eq!(with.is_ok(), !key.is_entry(), "{key}");
            assert_eq!(without.is_ok(), key.is_entry(), "{key}");
        }
    }

    #[test]
    fn fields_are_data_and_single_except_pco() {
        let k = IdempotencyKey::generate();
        let build = |fields| Message::new(MessageKey::Enter, ori(), k.clone(), None, fields);
        let pco = vec![
            Field::new(FieldCode::Pco, "01"),
            Field::new(FieldCode::Pco, "05"),
        ];
        assert!(build(pco).is_ok());
        let twice = vec![
            Field::new(FieldCode::Nam, "A,B"),
            Field::new(FieldCode::Nam, "C,D"),
        ];
        assert_eq!(
            build(twice).unwrap_err(),
            MessageError::Repeated(FieldCode::Nam)
        );
        let header = vec![Field::new(FieldCode::Fcn, "9990000000001")];
        assert_eq!(build(header).unwrap_err().field(), FieldCode::Fcn);
    }

    #[test]
    fn codes_round_trip_and_values_are_checked() {
        for key in MessageKey::ALL {
            assert_eq!(MessageKey::from_code(key.code()), Some(key));
        }
        for f in FieldCode::ALL {
            assert_eq!(FieldCode::from_code(f.code()), Some(*f));
        }
        for r in RejectReason::ALL {
            assert_eq!(RejectReason::from_code(r.code()), Some(r));
        }
        for bad in ["", "123456789012", "12345678901234", "999000000000a"] {
            assert!(Fcn::parse(bad).is_err(), "{bad}");
        }
        for bad in ["", "a b", "a.b", &"x".repeat(65)] {
            assert!(IdempotencyKey::new(bad).is_err(), "{bad}");
        }
        assert!(strict_ori("ca0190000").is_err());
    }
}
