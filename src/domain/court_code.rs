//! Court codes: `SC` + the county's alphabetical number for superior courts, `TC` + number for
//! tribal courts.
use super::Invalid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourtCode(String);

impl CourtCode {
    pub fn parse(field: &str, input: &str) -> Result<Self, Invalid> {
        let code = input.trim().to_ascii_uppercase();
        let ok = code.len() == 4
            && (code.starts_with("SC") || code.starts_with("TC"))
            && code[2..].chars().all(|c| c.is_ascii_digit());
        if ok {
            Ok(Self(code))
        } else {
            Err(Invalid::new(
                field,
                format!(
                    "'{}' is not a court code (SC01–SC58 or TC01…)",
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
    fn parses_codes() {
        assert_eq!(CourtCode::parse("c", " sc19 ").unwrap().as_str(), "SC19");
        assert_eq!(CourtCode::parse("c", "TC03").unwrap().as_str(), "TC03");
        for bad in ["", "SC1", "XX19", "SC1A", "SC190"] {
            assert!(CourtCode::parse("c", bad).is_err(), "{bad}");
        }
    }
}
