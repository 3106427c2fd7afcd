//! Person and organization names as keyed from the forms. Names keep their accents and spacing as
//! written (`de la Cruz`, `Núñez`); `name_key` folds them for exact lookups.
use super::Invalid;

pub const MAX_NAME_LEN: usize = 100;
pub const MAX_ORG_LEN: usize = 200;

/// One name part (last, first or middle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePart(String);

impl NamePart {
    pub fn parse(field: &str, input: &str) -> Result<Self, Invalid> {
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(Invalid::new(field, "name is empty"));
        }
        if collapsed.chars().count() > MAX_NAME_LEN {
            return Err(Invalid::new(
                field,
                format!("name is longer than {MAX_NAME_LEN} characters"),
            ));
        }
        if let Some(bad) = collapsed
            .chars()
            .find(|c| !(c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.' | '’')))
        {
            return Err(Invalid::new(field, format!("name contains '{bad}'")));
        }
        if !collapsed.chars().any(char::is_alphabetic) {
            return Err(Invalid::new(field, "name has no letters"));
        }
        Ok(Self(collapsed))
    }

    /// Parses an optional part; blank counts as absent.
    pub fn parse_opt(field: &str, input: Option<&str>) -> Result<Option<Self>, Invalid> {
        match input {
            Some(s) if !s.trim().is_empty() => Self::parse(field, s).map(Some),
            _ => Ok(None),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Generational suffix, normalized to upper case without periods (NCIC NAM convention).
pub fn parse_suffix(field: &str, input: &str) -> Result<String, Invalid> {
    let s = input.trim().trim_end_matches('.').to_ascii_uppercase();
    match s.as_str() {
        "JR" | "SR" | "II" | "III" | "IV" | "V" | "VI" => Ok(s),
        _ => Err(Invalid::new(
            field,
            format!("'{}' is not a suffix (JR, SR, II–VI)", input.trim()),
        )),
    }
}

/// Organization name (protected businesses).
pub fn parse_organization(field: &str, input: &str) -> Result<String, Invalid> {
    let s = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return Err(Invalid::new(field, "organization name is empty"));
    }
    if s.chars().count() > MAX_ORG_LEN {
        return Err(Invalid::new(
            field,
            format!("organization name is longer than {MAX_ORG_LEN} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "organization name contains control characters",
        ));
    }
    Ok(s)
}

/// Upper-case, accent-free, punctuation-free key: `NUNEZ DE LA CRUZ JOSE`.
pub fn name_key(parts: &[&str]) -> String {
    let folded = deunicode::deunicode(&parts.join(" ")).to_ascii_uppercase();
    folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_names_as_written() {
        assert_eq!(
            NamePart::parse("n", "  de la   Cruz ").unwrap().as_str(),
            "de la Cruz"
        );
        assert_eq!(
            NamePart::parse("n", "Núñez-O'Brien").unwrap().as_str(),
            "Núñez-O'Brien"
        );
        assert!(NamePart::parse("n", "").is_err());
        assert!(NamePart::parse("n", "R2D2").is_err());
        assert!(NamePart::parse("n", "--").is_err());
        assert_eq!(NamePart::parse_opt("n", Some("  ")).unwrap(), None);
    }

    #[test]
    fn keys_fold_accents() {
        assert_eq!(name_key(&["Núñez", "José"]), "NUNEZ JOSE");
        assert_eq!(name_key(&["O'Brien", "Mary-Ann"]), "O BRIEN MARY ANN");
    }

    #[test]
    fn suffixes() {
        assert_eq!(parse_suffix("s", "jr.").unwrap(), "JR");
        assert!(parse_suffix("s", "Esq").is_err());
    }
}
