//! Client-supplied text (operation names, request ids, token claims, error details) bounded and
//! cleaned before it reaches an audit row, a metric or a log line (issue 22, item 3): the audit
//! log is never pruned, so one request must not be able to grow it by megabytes, and PostgreSQL
//! refuses a NUL in text, which would fail every row of a group-commit batch.
use std::borrow::Cow;

/// Longest client-chosen value kept (operation name, request id, user, court, agency, each id).
pub const MAX_CLIENT_TEXT: usize = 128;
/// Longest server-composed value that embeds client text (an operation's description, a detail).
pub const MAX_AUDIT_TEXT: usize = 512;

/// `s` with each control character (NUL included) replaced by U+FFFD and cut to at most `max`
/// characters, the last of them `…` when cut. Borrowed when already clean.
pub fn bounded(s: &str, max: usize) -> Cow<'_, str> {
    let clean = !s.chars().any(char::is_control);
    if clean && s.len() <= max {
        return Cow::Borrowed(s);
    }
    let mut out: String = s
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if s.chars().nth(max).is_some() {
        out.pop();
        out.push('…');
    }
    Cow::Owned(out)
}

/// `bounded` into an owned string, in place.
pub fn bound_in_place(s: &mut String, max: usize) {
    if let Cow::Owned(o) = bounded(s, max) {
        *s = o;
    }
}

/// `bound_in_place` of an optional value.
pub fn bound_option(s: &mut Option<String>, max: usize) {
    if let Some(s) = s {
        bound_in_place(s, max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cleaned_and_bounded() {
        assert!(matches!(bounded("PersonHistory", 128), Cow::Borrowed(_)));
        assert_eq!(bounded("a\0b\nc", 128), "a\u{FFFD}b\u{FFFD}c");
        let long = "é".repeat(1_000_000);
        let cut = bounded(&long, MAX_CLIENT_TEXT);
        assert_eq!(cut.chars().count(), MAX_CLIENT_TEXT);
        assert!(cut.ends_with('…'));
        assert_eq!(
            bounded(&"x".repeat(128), 128).len(),
            128,
            "exactly max is kept"
        );
    }
}
