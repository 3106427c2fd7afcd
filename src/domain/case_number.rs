//! Court case numbers. There is no statewide format (docs/law/identity.md#case-numbers): keep
//! what the court wrote and match on a normalized key.
use super::Invalid;

/// A case number as written on the order, with its matching key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumber {
    raw: String,
    key: String,
}

impl CaseNumber {
    pub const MAX_LEN: usize = 40;

    pub fn parse(field: &str, input: &str) -> Result<Self, Invalid> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(Invalid::new(field, "case number is empty"));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(Invalid::new(
                field,
                format!("case number is longer than {} characters", Self::MAX_LEN),
            ));
        }
        if let Some(bad) = raw
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | ' ' | '.' | '/')))
        {
            return Err(Invalid::new(
                field,
                format!(
                    "case number contains '{bad}'; use letters, digits, spaces, '-', '.' or '/'"
                ),
            ));
        }
        if !raw.chars().any(|c| c.is_ascii_digit()) {
            return Err(Invalid::new(field, "case number has no digits"));
        }
        Ok(Self {
            raw: raw.to_owned(),
            key: Self::key_of(raw),
        })
    }

    /// The matching key: upper-case letters and digits only.
    pub fn key_of(input: &str) -> String {
        input
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_separators_and_case() {
        let a = CaseNumber::parse("caseNumber", "22fl-01234").unwrap();
        let b = CaseNumber::parse("caseNumber", " 22FL01234 ").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "22fl-01234");
        assert_eq!(
            CaseNumber::parse("c", "30-2023-01234567-CU-HR-CJC")
                .unwrap()
                .key(),
            "30202301234567CUHRCJC"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(CaseNumber::parse("c", "   ").is_err());
        assert!(CaseNumber::parse("c", "ABC").is_err());
        assert!(CaseNumber::parse("c", "22FL;DROP").is_err());
        assert!(CaseNumber::parse("c", &"1".repeat(41)).is_err());
        assert_eq!(CaseNumber::parse("x.y", "").unwrap_err().field, "x.y");
    }
}
