//! The `Range` request header (RFC 9110 §14.2), single ranges only: a multi-range request is
//! answered with the whole file, which the RFC allows.
use std::ops::Range;

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// 200 with the whole file.
    Full,
    /// 206 with these bytes.
    Part(Range<u64>),
    /// 416.
    Unsatisfiable,
}

/// Interprets `header` for a file of `size` bytes.
pub fn wanted(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::Full;
    };
    if spec.contains(',') {
        return Wanted::Full;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Wanted::Full;
    };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.is_empty(), end.is_empty()) {
        // bytes=-N: the last N bytes
        (true, false) => match end.parse::<u64>() {
            Ok(0) => return Wanted::Unsatisfiable,
            Ok(n) => Some(size.saturating_sub(n)..size),
            Err(_) => None,
        },
        // bytes=A-
        (false, true) => start.parse::<u64>().ok().map(|a| a..size),
        // bytes=A-B
        (false, false) => match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(a), Ok(b)) if a <= b => Some(a..b.saturating_add(1).min(size)),
            (Ok(_), Ok(_)) => return Wanted::Full,
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        // Syntactically invalid: ignore the header.
        None => Wanted::Full,
        Some(r) if r.start >= size || r.is_empty() => Wanted::Unsatisfiable,
        Some(r) => Wanted::Part(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_ranges() {
        assert_eq!(wanted(None, 100), Wanted::Full);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0..10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90..100));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0..100));
        assert_eq!(wanted(Some("bytes=50-5000"), 100), Wanted::Part(50..100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Full);
        assert_eq!(wanted(Some("bytes=x-y"), 100), Wanted::Full);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Full);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Full);
    }
}
