//! Originating Agency Identifier: 9 characters, two-letter state then seven letters/digits
//! (NCIC ORI field, docs/law/ncic.md#ori).
use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ori(String);

impl Ori {
    pub fn parse(field: &str, input: &str) -> Result<Self, Invalid> {
        let ori = input.trim().to_ascii_uppercase();
        // By characters, not byte ranges: nine bytes may hold a multi-byte character, and a
        // byte range through it panics (`AÉ123456`).
        let ok = ori.len() == 9
            && ori.chars().enumerate().all(|(i, c)| {
                if i < 2 {
                    c.is_ascii_alphabetic()
                } else {
                    c.is_ascii_alphanumeric()
                }
            });
        if ok {
            Ok(Self(ori))
        } else {
            Err(Invalid::new(
                field,
                format!(
                    "'{}' is not an ORI (9 characters, e.g. CA0190000)",
                    input.trim()
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_oris() {
        assert_eq!(Ori::parse("o", "ca0190000").unwrap().as_str(), "CA0190000");
        for bad in ["", "CA019000", "1A0190000", "CA019-000", "CA01900000"] {
            assert!(Ori::parse("o", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nine_bytes_with_a_multibyte_character_are_refused_not_a_panic() {
        // Once a panic: `ori[..2]` cut through the two bytes of `É` (the fuzz target
        // `identifiers`, corpus file `found-ori-multibyte`).
        for bad in ["AÉ123456", "aé123456", "É1234567", "CA01900É"] {
            assert_eq!(bad.len(), 9);
            assert!(Ori::parse("o", bad).is_err(), "{bad}");
        }
    }
}
