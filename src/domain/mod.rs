//! Domain values and rules, parsed once at the edge (newtypes) and cited to the law they come from.

pub mod case_number;
pub mod codes;
pub mod conflict_rules;
pub mod county;
pub mod court_code;
pub mod court_days;
pub mod dob;
pub mod dob_text;
pub mod epo;
pub mod firearms;
pub mod identity_match;
pub mod ids;
pub mod law_records;
pub mod names;
pub mod order_rules;
pub mod ori;
pub mod precedence;
pub mod renewal;
pub mod rules;
pub mod status;
pub mod time;

/// A rule broken by one input field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    /// Path of the offending input field, e.g. `parties[1].person.dob`.
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Puts `prefix` in front of the field path.
    pub fn at(mut self, prefix: &str) -> Self {
        self.field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}
