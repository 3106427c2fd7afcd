//! Facts the law attaches to some orders beyond their terms: the stage of a criminal order
//! (PC 136.2), custody and visitation terms that outlive a DV order, and who issued an order of
//! another state, tribe or territory registered here (18 U.S.C. 2265; Fam. Code 6400 ff.).
//! docs/law/durations.md#criminal-orders, docs/law/registry.md#out-of-state-and-tribal-orders.
use chrono::{DateTime, Utc};

use super::Invalid;
use super::codes::code_enum;
use super::order_rules::OrderFamily;

code_enum!(
    /// When a criminal protective order was made (docs/law/durations.md#criminal-orders).
    CriminalStage {
        /// PC 136.2(a): while the criminal case is pending; no end date, in effect until the
        /// case ends or the court terminates it.
        PreJudgment => "pre_judgment",
        /// PC 136.2(i)(1): on conviction; the expiry is stated on the order, up to 10 years.
        PostConviction => "post_conviction",
    }
);

code_enum!(
    /// Who issued an order registered from outside California (18 U.S.C. 2265(a): orders of a
    /// State, Indian tribe or territory get full faith and credit).
    ForeignKind {
        State => "state",
        Tribe => "tribe",
        Territory => "territory",
    }
);

/// The stage of a criminal order: as given, else read from the order (an expiry written on it
/// is the mark of a post-conviction order). A post-conviction order must state its expiry
/// (PC 136.2(i)(1)); other families have no stage.
pub fn criminal_stage(
    field: &str,
    family: OrderFamily,
    given: Option<CriminalStage>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<Option<CriminalStage>, Invalid> {
    if family != OrderFamily::Cr {
        return match given {
            Some(_) => Err(Invalid::new(
                field,
                "only a criminal protective order (family CR) has a stage",
            )),
            None => Ok(None),
        };
    }
    let stage = given.unwrap_or(if expires_at.is_some() {
        CriminalStage::PostConviction
    } else {
        CriminalStage::PreJudgment
    });
    if stage == CriminalStage::PostConviction && expires_at.is_none() {
        return Err(Invalid::new(
            "expiresAt",
            "a post-conviction criminal protective order states its expiry, up to 10 years \
             after issuance (PC 136.2(i)(1)); a pre-judgment order (PRE_JUDGMENT) runs until \
             the case ends or the court terminates it",
        ));
    }
    Ok(Some(stage))
}

/// Custody and visitation terms are made in a DV order (they outlive the restraining order,
/// DV-130 form text; Fam. Code 6323 ⚠️); other families do not carry them here.
pub fn custody_terms(
    field: &str,
    family: OrderFamily,
    terms: Option<String>,
) -> Result<Option<String>, Invalid> {
    match terms {
        Some(_) if family != OrderFamily::Dv => Err(Invalid::new(
            field,
            "custody and visitation terms are recorded on domestic violence orders (family DV)",
        )),
        other => Ok(other),
    }
}

/// The issuer of an out-of-state, tribal or territorial order, as validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignIssuer {
    pub kind: ForeignKind,
    /// USPS code of the state or territory, or the tribe's name as written.
    pub jurisdiction: String,
    pub court: String,
    pub case_number: String,
}

/// USPS codes of the states other than California and of DC (18 U.S.C. 2266(8) counts DC as a
/// State).
const STATES: [&str; 50] = [
    "AL", "AK", "AZ", "AR", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY",
    "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV",
    "WI", "WY",
];
/// Puerto Rico, Guam, the U.S. Virgin Islands, American Samoa, the Northern Mariana Islands.
const TERRITORIES: [&str; 5] = ["PR", "GU", "VI", "AS", "MP"];

fn bounded(field: &str, s: &str, max: usize) -> Result<String, Invalid> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max || t.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// Checks the issuer of a registered order: an out-of-state order must name it (who issued it
/// is what full faith and credit turns on, 18 U.S.C. 2265); an order issued in California
/// must not.
pub fn foreign_issuer(
    field: &str,
    family: OrderFamily,
    given: Option<(ForeignKind, &str, &str, &str)>,
) -> Result<Option<ForeignIssuer>, Invalid> {
    let Some((kind, jurisdiction, court, case_number)) = given else {
        if family == OrderFamily::OutOfState {
            return Err(Invalid::new(
                field,
                "an out-of-state, tribal or territorial order names its issuer: kind, \
                 jurisdiction, court and case number (18 U.S.C. 2265; Fam. Code 6400 ff.)",
            ));
        }
        return Ok(None);
    };
    if family != OrderFamily::OutOfState {
        return Err(Invalid::new(
            field,
            "only an order registered from another state, tribe or territory (family \
             OUT_OF_STATE) has a foreign issuer",
        ));
    }
    let jurisdiction = match kind {
        ForeignKind::Tribe => bounded(&format!("{field}.jurisdiction"), jurisdiction, 120)?,
        ForeignKind::State | ForeignKind::Territory => {
            let code = jurisdiction.trim().to_ascii_uppercase();
            let known: &[&str] = if kind == ForeignKind::State {
                &STATES
            } else {
                &TERRITORIES
            };
            if !known.contains(&code.as_str()) {
                return Err(Invalid::new(
                    format!("{field}.jurisdiction"),
                    if code == "CA" {
                        "a California order is entered under its own family, not registered as out-of-state".to_owned()
                    } else {
                        format!("'{code}' is not the postal code of a {}", kind.as_db())
                    },
                ));
            }
            code
        }
    };
    Ok(Some(ForeignIssuer {
        kind,
        jurisdiction,
        court: bounded(&format!("{field}.court"), court, 120)?,
        case_number: bounded(&format!("{field}.caseNumber"), case_number, 60)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn post_conviction_orders_state_their_expiry() {
        let exp = Some(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap());
        let cr = OrderFamily::Cr;
        use CriminalStage::{PostConviction, PreJudgment};
        assert_eq!(criminal_stage("s", cr, None, None), Ok(Some(PreJudgment)));
        assert_eq!(criminal_stage("s", cr, None, exp), Ok(Some(PostConviction)));
        let err = criminal_stage("s", cr, Some(PostConviction), None).unwrap_err();
        assert_eq!(err.field, "expiresAt");
        assert!(err.message.contains("136.2(i)(1)"), "{}", err.message);
        assert_eq!(
            criminal_stage("s", cr, Some(PreJudgment), exp),
            Ok(Some(PreJudgment))
        );
        assert!(criminal_stage("s", OrderFamily::Dv, Some(PreJudgment), None).is_err());
        assert_eq!(criminal_stage("s", OrderFamily::Dv, None, exp), Ok(None));
    }

    #[test]
    fn custody_terms_only_on_dv_orders() {
        let t = Some("Mother: sole physical custody".to_owned());
        assert_eq!(
            custody_terms("c", OrderFamily::Dv, t.clone()),
            Ok(t.clone())
        );
        assert!(custody_terms("c", OrderFamily::Ch, t).is_err());
    }

    #[test]
    fn out_of_state_orders_name_their_issuer() {
        let oos = OrderFamily::OutOfState;
        assert!(foreign_issuer("f", oos, None).is_err());
        let nv = foreign_issuer(
            "f",
            oos,
            Some((
                ForeignKind::State,
                "nv",
                "Eighth Judicial District Court",
                "D-26-1",
            )),
        )
        .unwrap()
        .unwrap();
        assert_eq!(nv.jurisdiction, "NV");
        let ca = foreign_issuer("f", oos, Some((ForeignKind::State, "CA", "x", "y")));
        assert!(ca.unwrap_err().message.contains("California"));
        assert!(foreign_issuer("f", oos, Some((ForeignKind::Territory, "NV", "x", "y"))).is_err());
        let tribe = foreign_issuer(
            "f",
            oos,
            Some((
                ForeignKind::Tribe,
                "Hoopa Valley Tribe",
                "Hoopa Valley Tribal Court",
                "HV-26-3",
            )),
        );
        assert!(tribe.is_ok());
        assert!(foreign_issuer("f", oos, Some((ForeignKind::Tribe, " ", "x", "y"))).is_err());
        let dv = foreign_issuer(
            "f",
            OrderFamily::Dv,
            Some((ForeignKind::State, "NV", "x", "y")),
        );
        assert!(dv.is_err());
        assert_eq!(foreign_issuer("f", OrderFamily::Dv, None), Ok(None));
    }
}
