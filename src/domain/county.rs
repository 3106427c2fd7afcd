//! California county names, as the registry spells them (`Los Angeles`), from any case.
use crate::domain::Invalid;

/// The county named by `text` (any case, surrounding spaces ignored), spelled as stored.
pub fn county(field: &str, text: &str) -> Result<&'static str, Invalid> {
    migrations::COUNTIES
        .iter()
        .find(|k| k.name.eq_ignore_ascii_case(text.trim()))
        .map(|k| k.name)
        .ok_or_else(|| {
            Invalid::new(
                field,
                format!("'{}' is not a California county", text.trim()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::county;

    #[test]
    fn counties_are_found_in_any_case_and_others_refused() {
        assert_eq!(county("county", " los angeles ").unwrap(), "Los Angeles");
        assert_eq!(county("county", "SAN FRANCISCO").unwrap(), "San Francisco");
        let e = county("county", "Gotham").unwrap_err();
        assert_eq!(e.to_string(), "county: 'Gotham' is not a California county");
    }
}
