//! The NCIC-style text form of messages and answers, and its strict parser (the format is
//! docs/wire/carpos.md, our stand-in for DOJ's unpublished one). A frame's text is
//! `HEADER.CODE/value.CODE/value…`: fields are separated by `.`, a field's code from its value
//! by `/`, and `\` escapes those two, itself and line breaks inside values
//! (docs/wire/carpos.md#escaping). Framing on the socket is `frame`'s job.
use super::message::{
    Ack, Answer, Fcn, Field, FieldCode, IdempotencyKey, Message, MessageError, MessageKey, Reject,
    RejectReason, strict_ori,
};

/// Why a frame's text is not a message or an answer. Every error names the field it is about:
/// its code as written, or `field N` (counting from 1) before the code is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("empty frame")]
    Empty,
    #[error("{field}: bad escape `\\{found}` (only \\\\ \\. \\/ \\n \\r)")]
    BadEscape { field: String, found: String },
    #[error("{field}: unescaped `/` in the value (write \\/)")]
    UnescapedSlash { field: String },
    #[error("{field}: raw line break in the frame (write \\n or \\r)")]
    LineBreak { field: String },
    #[error("{field}: empty field (two `.` in a row, or a `.` at the end)")]
    EmptyField { field: String },
    #[error("{field}: `{found}` has no `CODE/` in front of its value")]
    Untagged { field: String, found: String },
    #[error("{field}: expected here, found `{found}`")]
    Expected { field: String, found: String },
    #[error("{field}: missing (the frame ends before it)")]
    Missing { field: String },
    #[error("MKE: `{0}` is not a message key")]
    UnknownKey(String),
    #[error("`{0}` is not a field code")]
    UnknownField(String),
    #[error("{field}: `{value}` {rule}")]
    Invalid {
        field: String,
        value: String,
        rule: &'static str,
    },
    #[error(transparent)]
    Message(#[from] MessageError),
}

impl WireError {
    /// The field at fault, when it is one of ours (for the peer's `REJ … FLD/`).
    pub fn field(&self) -> Option<FieldCode> {
        match self {
            WireError::Empty | WireError::UnknownField(_) => None,
            WireError::UnknownKey(_) => Some(FieldCode::Mke),
            WireError::Message(e) => Some(e.field()),
            WireError::BadEscape { field, .. }
            | WireError::UnescapedSlash { field }
            | WireError::LineBreak { field }
            | WireError::EmptyField { field }
            | WireError::Untagged { field, .. }
            | WireError::Expected { field, .. }
            | WireError::Missing { field }
            | WireError::Invalid { field, .. } => FieldCode::from_code(field),
        }
    }
}

/// The tags of the answers' own fields (docs/wire/carpos.md#answers).
const REASON: &str = "RSN";
const FIELD: &str = "FLD";
const TEXT: &str = "TXT";
const REPLAY: &str = "DUP";
const ACK: &str = "ACK";
const REJECT: &str = "REJ";

/// The text of a message (without the frame's line end).
pub fn format_message(m: &Message) -> String {
    let mut out = format!("{}.{}", m.key().code(), m.ori().as_str());
    push(
        &mut out,
        FieldCode::Idk.code(),
        m.idempotency_key().as_str(),
    );
    if let Some(fcn) = m.fcn() {
        push(&mut out, FieldCode::Fcn.code(), fcn.as_str());
    }
    for f in m.fields() {
        push(&mut out, f.code.code(), &f.value);
    }
    out
}

/// The text of an answer (without the frame's line end).
pub fn format_answer(a: &Answer) -> String {
    match a {
        Answer::Ack(ack) => {
            let mut out = ACK.to_owned();
            push(
                &mut out,
                FieldCode::Idk.code(),
                ack.idempotency_key.as_str(),
            );
            push(&mut out, FieldCode::Fcn.code(), ack.fcn.as_str());
            if ack.replay {
                push(&mut out, REPLAY, "Y");
            }
            out
        }
        Answer::Reject(r) => {
            let mut out = REJECT.to_owned();
            if let Some(k) = &r.idempotency_key {
                push(&mut out, FieldCode::Idk.code(), k.as_str());
            }
            push(&mut out, REASON, r.reason.code());
            if let Some(f) = r.field {
                push(&mut out, FIELD, f.code());
            }
            push(&mut out, TEXT, &r.detail);
            out
        }
    }
}

fn push(out: &mut String, code: &str, value: &str) {
    out.push('.');
    out.push_str(code);
    out.push('/');
    escape(value, out);
}

fn escape(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '.' => out.push_str("\\."),
            '/' => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Parses a message: `MKE.ORI.IDK/…[.FCN/…].CODE/value…`.
pub fn parse_message(text: &str) -> Result<Message, WireError> {
    let mut c = Cursor::new(split(text)?);
    let mke = c.header(FieldCode::Mke.code())?;
    let key = MessageKey::from_code(&mke).ok_or(WireError::UnknownKey(mke))?;
    let ori = strict_ori(&c.header(FieldCode::Ori.code())?)?;
    let idk = IdempotencyKey::new(&c.tagged(FieldCode::Idk.code())?)?;
    let fcn = if key.is_entry() {
        None
    } else {
        Some(Fcn::parse(&c.tagged(FieldCode::Fcn.code())?)?)
    };
    let fields = c
        .rest()
        .into_iter()
        .map(data_field)
        .collect::<Result<_, _>>()?;
    Ok(Message::new(key, ori, idk, fcn, fields)?)
}

fn data_field(seg: Segment) -> Result<Field, WireError> {
    let Some(tag) = seg.tag else {
        return Err(WireError::Untagged {
            field: seg.label,
            found: seg.text,
        });
    };
    let code = FieldCode::from_code(&tag).ok_or(WireError::UnknownField(tag))?;
    if code.is_header() {
        return Err(MessageError::HeaderInBody(code).into());
    }
    Ok(Field::new(code, seg.text))
}

/// Parses an answer: `ACK.IDK/….FCN/…[.DUP/Y]` or `REJ[.IDK/…].RSN/…[.FLD/…].TXT/…`.
pub fn parse_answer(text: &str) -> Result<Answer, WireError> {
    let mut c = Cursor::new(split(text)?);
    let answer = match c.header("answer")?.as_str() {
        ACK => Answer::Ack(parse_ack(&mut c)?),
        REJECT => Answer::Reject(parse_reject(&mut c)?),
        other => {
            return Err(WireError::Invalid {
                field: "answer".to_owned(),
                value: other.to_owned(),
                rule: "is neither ACK nor REJ",
            });
        }
    };
    c.end()?;
    Ok(answer)
}

fn parse_ack(c: &mut Cursor) -> Result<Ack, WireError> {
    let idempotency_key = IdempotencyKey::new(&c.tagged(FieldCode::Idk.code())?)?;
    let fcn = Fcn::parse(&c.tagged(FieldCode::Fcn.code())?)?;
    let replay = match c.optional(REPLAY).as_deref() {
        None => false,
        Some("Y") => true,
        Some(other) => return Err(invalid(REPLAY, other, "is not Y")),
    };
    Ok(Ack {
        idempotency_key,
        fcn,
        replay,
    })
}

fn parse_reject(c: &mut Cursor) -> Result<Reject, WireError> {
    let idempotency_key = c
        .optional(FieldCode::Idk.code())
        .map(|k| IdempotencyKey::new(&k))
        .transpose()?;
    let reason = c.tagged(REASON)?;
    let reason = RejectReason::from_code(&reason)
        .ok_or_else(|| invalid(REASON, &reason, "is not a reject reason"))?;
    let field = c
        .optional(FIELD)
        .map(|f| FieldCode::from_code(&f).ok_or_else(|| invalid(FIELD, &f, "is not a field code")))
        .transpose()?;
    let detail = c.tagged(TEXT)?;
    Ok(Reject {
        idempotency_key,
        reason,
        field,
        detail,
    })
}

fn invalid(field: &str, value: &str, rule: &'static str) -> WireError {
    WireError::Invalid {
        field: field.to_owned(),
        value: value.to_owned(),
        rule,
    }
}

/// One `.`-separated field, unescaped: its code (when it has a `/`) and its value.
#[derive(Debug)]
struct Segment {
    tag: Option<String>,
    text: String,
    /// How errors name it: its code, or its position.
    label: String,
}

/// Splits a frame's text into fields, undoing the escapes.
fn split(text: &str) -> Result<Vec<Segment>, WireError> {
    if text.is_empty() {
        return Err(WireError::Empty);
    }
    let mut out = Vec::new();
    let mut seg = Segment::numbered(1);
    let mut chars = text.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '.' => {
                let next = Segment::numbered(out.len() + 2);
                out.push(std::mem::replace(&mut seg, next).finish()?);
            }
            '/' if seg.tag.is_none() => seg.tag_here(),
            '/' => return Err(WireError::UnescapedSlash { field: seg.label }),
            '\\' => seg.text.push(unescape(chars.next(), &seg.label)?),
            '\n' | '\r' => return Err(WireError::LineBreak { field: seg.label }),
            c => seg.text.push(c),
        }
    }
    out.push(seg.finish()?);
    Ok(out)
}

fn unescape(next: Option<char>, label: &str) -> Result<char, WireError> {
    match next {
        Some(c @ ('\\' | '.' | '/')) => Ok(c),
        Some('n') => Ok('\n'),
        Some('r') => Ok('\r'),
        other => Err(WireError::BadEscape {
            field: label.to_owned(),
            found: other.map(String::from).unwrap_or_default(),
        }),
    }
}

impl Segment {
    fn numbered(n: usize) -> Self {
        Self {
            tag: None,
            text: String::new(),
            label: format!("field {n}"),
        }
    }

    /// The text so far was the code: the value starts now.
    fn tag_here(&mut self) {
        let tag = std::mem::take(&mut self.text);
        self.label = tag.clone();
        self.tag = Some(tag);
    }

    fn finish(self) -> Result<Self, WireError> {
        if self.tag.is_none() && self.text.is_empty() {
            return Err(WireError::EmptyField { field: self.label });
        }
        Ok(self)
    }
}

/// Reads the fields in the order the format fixes.
struct Cursor {
    segs: std::vec::IntoIter<Segment>,
    peeked: Option<Segment>,
}

impl Cursor {
    fn new(segs: Vec<Segment>) -> Self {
        Self {
            segs: segs.into_iter(),
            peeked: None,
        }
    }

    fn next(&mut self) -> Option<Segment> {
        self.peeked.take().or_else(|| self.segs.next())
    }

    /// A positional header field (no code): its text.
    fn header(&mut self, name: &str) -> Result<String, WireError> {
        match self.next() {
            Some(Segment {
                tag: None, text, ..
            }) => Ok(text),
            Some(seg) => Err(WireError::Expected {
                field: name.to_owned(),
                found: format!("{}/…", seg.label),
            }),
            None => Err(WireError::Missing {
                field: name.to_owned(),
            }),
        }
    }

    /// The next field, which must carry `code`: its value.
    fn tagged(&mut self, code: &str) -> Result<String, WireError> {
        match self.next() {
            Some(seg) if seg.tag.as_deref() == Some(code) => Ok(seg.text),
            Some(seg) => Err(WireError::Expected {
                field: code.to_owned(),
                found: seg.tag.map_or(seg.text, |t| format!("{t}/…")),
            }),
            None => Err(WireError::Missing {
                field: code.to_owned(),
            }),
        }
    }

    /// The next field's value if it carries `code`.
    fn optional(&mut self, code: &str) -> Option<String> {
        let seg = self.next()?;
        if seg.tag.as_deref() == Some(code) {
            Some(seg.text)
        } else {
            self.peeked = Some(seg);
            None
        }
    }

    fn rest(mut self) -> Vec<Segment> {
        self.peeked.take().into_iter().chain(self.segs).collect()
    }

    /// Nothing may follow.
    fn end(&mut self) -> Result<(), WireError> {
        match self.next() {
            None => Ok(()),
            Some(seg) => Err(WireError::UnknownField(seg.tag.unwrap_or(seg.label))),
        }
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
