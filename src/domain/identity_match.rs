//! Whether two person records from different courts are the same human: the name index's score
//! for names and DOB, adjusted by the descriptors printed on the orders
//! (docs/law/identity.md#descriptors-on-the-orders), with every reason kept so a clerk can judge a
//! proposed link.
use chrono::NaiveDate;

use super::codes::code_enum;

code_enum!(
    /// State of a link between two person records.
    LinkState {
        /// Score above the automatic threshold: treated as one identity until someone rejects it.
        Auto => "auto",
        /// Between the thresholds: waits for a clerk to confirm or reject.
        Proposed => "proposed",
        /// Confirmed by a clerk: one identity.
        Confirmed => "confirmed",
        /// Rejected by a clerk (or an automatic link reversed): two people.
        Rejected => "rejected",
    }
);

impl LinkState {
    /// Linked records form one identity.
    pub fn links(self) -> bool {
        matches!(self, LinkState::Auto | LinkState::Confirmed)
    }
}

/// Scores at or above this link automatically; the name index gives about 1.0 for the same
/// name and 0.5 more for the same DOB, so this needs near-identical names, a matching DOB and no
/// disagreeing descriptor.
pub const AUTO_LINK: f64 = 1.4;
/// Scores at or above this (and below `AUTO_LINK`) are proposed to a clerk.
pub const PROPOSE: f64 = 1.0;

/// Descriptors compared beyond names and DOB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Descriptors {
    pub dob: Option<NaiveDate>,
    pub sex: Option<String>,
    pub race: Option<String>,
    pub height_inches: Option<i32>,
    pub weight_pounds: Option<i32>,
    pub dl_number: Option<String>,
    pub organization: bool,
}

/// A scored pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchScore {
    pub score: f64,
    pub reasons: Vec<String>,
}

impl MatchScore {
    /// What to do with the pair: link, propose, or leave apart (`None`).
    pub fn band(&self, strong_evidence: bool) -> Option<LinkState> {
        if self.score >= AUTO_LINK && strong_evidence {
            Some(LinkState::Auto)
        } else if self.score >= PROPOSE {
            Some(LinkState::Proposed)
        } else {
            None
        }
    }
}

/// "Unknown" descriptor codes (`u`, `U`, `XXX`) say nothing.
fn known(v: &Option<String>) -> Option<&str> {
    v.as_deref()
        .filter(|s| !matches!(s.to_ascii_uppercase().as_str(), "U" | "XXX" | ""))
}

/// Combines the index score (names and DOB, with its explanation) with descriptors. Returns the
/// score and whether the evidence is strong enough to link without a person looking: the same
/// DOB or the same driver licence.
pub fn score(
    index_score: f64,
    index_reasons: &[String],
    a: &Descriptors,
    b: &Descriptors,
) -> (MatchScore, bool) {
    let mut s = index_score;
    let mut reasons: Vec<String> = index_reasons.to_vec();
    let mut strong = matches!((a.dob, b.dob), (Some(x), Some(y)) if x == y);
    if a.organization || b.organization {
        return (
            MatchScore {
                score: 0.0,
                reasons: vec!["organizations are not linked".to_owned()],
            },
            false,
        );
    }
    if let (Some(x), Some(y)) = (known(&a.dl_number), known(&b.dl_number)) {
        if x.eq_ignore_ascii_case(y) {
            s += 0.5;
            strong = true;
            reasons.push("driver licence number identical".to_owned());
        } else {
            s -= 0.5;
            reasons.push("driver licence numbers differ".to_owned());
        }
    }
    if let (Some(x), Some(y)) = (known(&a.sex), known(&b.sex)) {
        if x.eq_ignore_ascii_case(y) {
            s += 0.05;
            reasons.push("sex agrees".to_owned());
        } else {
            s -= 0.6;
            strong = false;
            reasons.push("sex differs".to_owned());
        }
    }
    if let (Some(x), Some(y)) = (known(&a.race), known(&b.race)) {
        if x.eq_ignore_ascii_case(y) {
            s += 0.03;
            reasons.push("race agrees".to_owned());
        } else {
            s -= 0.1;
            reasons.push("race differs".to_owned());
        }
    }
    if let (Some(x), Some(y)) = (a.height_inches, b.height_inches) {
        let d = (x - y).abs();
        if d <= 2 {
            s += 0.05;
            reasons.push(format!("height within {d} in"));
        } else if d > 5 {
            s -= 0.2;
            reasons.push(format!("height differs by {d} in"));
        }
    }
    if let (Some(x), Some(y)) = (a.weight_pounds, b.weight_pounds) {
        let d = (x - y).abs();
        if d <= 15 {
            s += 0.03;
            reasons.push(format!("weight within {d} lb"));
        } else if d > 40 {
            s -= 0.1;
            reasons.push(format!("weight differs by {d} lb"));
        }
    }
    (
        MatchScore {
            score: (s * 1000.0).round() / 1000.0,
            reasons,
        },
        strong,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(dob: &str, sex: &str) -> Descriptors {
        Descriptors {
            dob: NaiveDate::parse_from_str(dob, "%Y-%m-%d").ok(),
            sex: Some(sex.to_owned()),
            height_inches: Some(70),
            ..Default::default()
        }
    }

    #[test]
    fn bands() {
        let (s, strong) = score(
            1.45,
            &["surname exact".into()],
            &d("1984-02-29", "m"),
            &d("1984-02-29", "m"),
        );
        assert_eq!(s.band(strong), Some(LinkState::Auto));
        let (s, strong) = score(1.2, &[], &d("1984-02-29", "m"), &d("1984-02-29", "m"));
        assert_eq!(s.band(strong), Some(LinkState::Proposed));
        let (s, strong) = score(1.5, &[], &d("1984-02-29", "m"), &d("1984-02-29", "f"));
        assert_eq!(s.band(strong), None, "{s:?}");
        assert!(s.reasons.iter().any(|r| r == "sex differs"));
    }

    #[test]
    fn high_score_without_a_matching_dob_is_only_proposed() {
        let (s, strong) = score(1.5, &[], &d("1984-02-29", "m"), &d("1984-03-01", "m"));
        assert!(!strong);
        assert_eq!(s.band(strong), Some(LinkState::Proposed));
    }
}
