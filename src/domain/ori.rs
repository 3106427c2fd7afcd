//! Originating Agency Identifier: 9 characters, two-letter state then seven letters/digits
//! (NCIC ORI field, docs/law/ncic.md#ori).
use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ori(String);

impl Ori {
    pub fn parse(field: &str, input: &str) -> Result<Self, Invalid> {
        let ori = input.trim().to_ascii_uppercase();
        let ok = ori.len() == 9
            && ori[..2].chars().all(|c| c.is_ascii_alphabetic())
            && ori[2..].chars().all(|c| c.is_ascii_alphanumeric());
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
}
