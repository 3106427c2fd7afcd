//! Targets on text parsers: import and feed lines, DOBs as typed, identifiers, the CARPOS wire.
use chrono::NaiveDate;

use super::{REFS, text};
use crate::carpos::wire;
use crate::domain::case_number::CaseNumber;
use crate::domain::court_code::CourtCode;
use crate::domain::dob_text::{MAX_DOB_TEXT, read_dob_text};
use crate::domain::ori::Ori;
use crate::domain::{codes::Channel, county, time};
use crate::feed::message::{self, Body};
use crate::import;
use crate::service::validate;

/// One NDJSON line of `ccpor import`: parsed and validated as the import does.
pub fn import_line(data: &[u8]) {
    let line = text(data);
    let key = import::line_key(&line);
    assert_eq!(key.len(), 64);
    assert_eq!(key, import::line_key(line.trim()));
    if let Ok(order) = import::parse_line(&line, &REFS) {
        assert_eq!(order.channel, Channel::Import);
    }
}

/// One line of `POST /feeds/v1/messages` (or of an import): parsed, and an order it carries
/// validated as storing it would.
pub fn feed_message(data: &[u8]) {
    let line = text(data);
    let is_message = message::is_message(&line);
    let id = message::message_id_of(&line);
    let Ok(m) = message::parse(&line) else {
        return;
    };
    assert!(id.is_some(), "a parsed message has a messageId");
    assert!(m.sequence >= 1);
    assert!(!m.message_id.is_empty() && !m.external_id.is_empty());
    // `is_message` looks for the key as written; a parsed line written plainly passes it.
    if line.contains("\"messageId\"") && line.contains("\"action\"") {
        assert!(is_message);
    }
    if let Body::Issue(o) | Body::Modify(o) | Body::Renew(o, _) = &m.body {
        let _ = validate::create_order(o, &REFS, time::now());
    }
}

/// The day DOB targets read against: fixed, so a crash reproduces on any day.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default()
}

/// A DOB as typed into a search (`dobText`).
pub fn dob_text(data: &[u8]) {
    let t = text(data);
    let Ok(read) = read_dob_text("dobText", &t, today()) else {
        return;
    };
    assert!(t.trim().chars().count() <= MAX_DOB_TEXT);
    assert!(read.year.is_some() || read.month.is_some() || read.day.is_some());
    assert!(read.month.is_none_or(|m| (1..=12).contains(&m)));
    assert!(read.day.is_none_or(|d| (1..=31).contains(&d)));
    // a day without its month only where a month no date has was set aside, and said so
    assert!(
        read.day.is_none()
            || read.month.is_some()
            || read
                .note
                .as_deref()
                .is_some_and(|n| n.contains("set aside")),
        "{t:?}: {read:?}"
    );
    if let Some(y) = read.year {
        assert!(y <= 2026, "{t:?} read as a future year {y}");
    }
    if let Some(d) = read.date() {
        assert!(d <= today());
        // The date written as ISO reads back as itself, without a note.
        let iso = d.format("%Y-%m-%d").to_string();
        let again = read_dob_text("dobText", &iso, today());
        assert_eq!(again.as_ref().ok().and_then(|a| a.date()), Some(d), "{iso}");
        assert_eq!(again.ok().and_then(|a| a.note), None, "{iso}");
    }
}

/// Case numbers, ORIs, court codes and county names: each accepted value reads back as itself.
pub fn identifiers(data: &[u8]) {
    let t = text(data);
    if let Ok(c) = CaseNumber::parse("caseNumber", &t) {
        assert_eq!(
            CaseNumber::parse("caseNumber", c.as_str()).ok(),
            Some(c.clone())
        );
        assert_eq!(CaseNumber::key_of(c.key()), c.key());
        assert!(!c.key().is_empty());
    }
    let key = CaseNumber::key_of(&t);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    if let Ok(o) = Ori::parse("ori", &t) {
        assert_eq!(o.as_str().len(), 9);
        assert_eq!(Ori::parse("ori", o.as_str()).ok(), Some(o.clone()));
    }
    if let Ok(c) = CourtCode::parse("courtCode", &t) {
        assert_eq!(c.as_str().len(), 4);
        assert_eq!(
            CourtCode::parse("courtCode", c.as_str()).ok(),
            Some(c.clone())
        );
    }
    if let Ok(name) = county::county("county", &t) {
        assert_eq!(county::county("county", name).ok(), Some(name));
    }
}

/// A frame's text from CARPOS (an answer) or to the reference peer (a message): what parses
/// formats back to text that parses to the same value, and formatting is canonical.
pub fn carpos_wire(data: &[u8]) {
    let t = text(data);
    if let Ok(m) = wire::parse_message(&t) {
        let formatted = wire::format_message(&m);
        assert_eq!(
            wire::parse_message(&formatted).as_ref(),
            Ok(&m),
            "{formatted}"
        );
    }
    if let Ok(a) = wire::parse_answer(&t) {
        let formatted = wire::format_answer(&a);
        assert_eq!(
            wire::parse_answer(&formatted).as_ref(),
            Ok(&a),
            "{formatted}"
        );
    }
}
