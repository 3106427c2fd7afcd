//! Order families, Judicial Council forms and the durations the law caps (docs/law/forms.md,
//! docs/law/durations.md). Form numbers and limits marked unconfirmed (⚠️) there are kept here as
//! data, in one table; the tables of those pages are generated from this one (`crate::docs`).
use chrono::{DateTime, Duration, Months, Utc};

use super::Invalid;
use super::codes::code_enum;

code_enum!(
    /// Order family, by the statute it is issued under (docs/law/forms.md#families).
    OrderFamily {
        /// Domestic violence, Fam. Code 6200 ff.
        Dv => "dv",
        /// Civil harassment, CCP 527.6.
        Ch => "ch",
        /// Elder or dependent adult abuse, WIC 15657.03.
        Ea => "ea",
        /// Workplace violence, CCP 527.8.
        Wv => "wv",
        /// Postsecondary school violence, CCP 527.85.
        Sv => "sv",
        /// Gun violence, PC 18100 ff.
        Gv => "gv",
        /// Juvenile, WIC 213.5.
        Jv => "jv",
        /// Criminal protective order, PC 136.2 etc.
        Cr => "cr",
        /// Emergency protective order, Fam. Code 6240 ff.
        Epo => "epo",
        /// Retail crime, PC 490.8.
        Rt => "rt",
        /// Out-of-state, tribal or Canadian order registered here, Fam. Code 6400 ff.
        OutOfState => "out_of_state",
    }
);

code_enum!(
    /// The kind of order a form is.
    OrderKind {
        Emergency => "emergency",
        Temporary => "temporary",
        AfterHearing => "after_hearing",
        Criminal => "criminal",
        Juvenile => "juvenile",
        /// Not keyed yet: an image-only order whose data has not been entered.
        NotKeyed => "not_keyed",
    }
);

/// The longest an order may run from issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Days(i64),
    Years(u32),
    /// No cap in law (until further order, permanent renewals).
    Unlimited,
}

impl Limit {
    /// The latest allowed expiry for an order issued at `issued`.
    pub fn latest(self, issued: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Limit::Days(d) => Some(issued + Duration::days(d)),
            Limit::Years(y) => issued.checked_add_months(Months::new(12 * y)),
            Limit::Unlimited => None,
        }
    }

    fn describe(self) -> String {
        match self {
            Limit::Days(d) => format!("{d} days"),
            Limit::Years(y) => format!("{y} years"),
            Limit::Unlimited => "no limit".to_owned(),
        }
    }
}

/// What the registry knows about one form.
#[derive(Debug)]
pub struct FormRule {
    pub form: &'static str,
    pub family: OrderFamily,
    pub kind: OrderKind,
    pub limit: Limit,
    /// Whether the order must carry an expiry (false: may run until further order).
    pub expiry_required: bool,
    pub citation: &'static str,
}

macro_rules! form {
    ($form:literal, $fam:ident, $kind:ident, $limit:expr, $req:literal, $cite:literal) => {
        FormRule {
            form: $form,
            family: OrderFamily::$fam,
            kind: OrderKind::$kind,
            limit: $limit,
            expiry_required: $req,
            citation: $cite,
        }
    };
}

const TRO_DAYS: Limit = Limit::Days(25);

/// Registrable orders (docs/law/forms.md#forms, docs/law/durations.md#caps-in-the-code).
pub const FORMS: &[FormRule] = &[
    form!(
        "DV-110",
        Dv,
        Temporary,
        TRO_DAYS,
        true,
        "TRO lasts until the hearing, held within 21 days or 25 for good cause (docs/law/durations.md#tros; Fam. Code 242 ⚠️)"
    ),
    form!(
        "DV-116",
        Dv,
        Temporary,
        Limit::Unlimited,
        true,
        "continuance order extends the TRO to the new hearing (docs/law/durations.md#tros ⚠️)"
    ),
    form!(
        "DV-130",
        Dv,
        AfterHearing,
        Limit::Years(5),
        true,
        "Fam. Code 6345(a): up to 5 years"
    ),
    form!(
        "DV-600",
        OutOfState,
        AfterHearing,
        Limit::Unlimited,
        false,
        "Fam. Code 6400 ff.: registered as issued by the other jurisdiction (docs/law/forms.md#forms ⚠️)"
    ),
    form!(
        "CH-110",
        Ch,
        Temporary,
        TRO_DAYS,
        true,
        "CCP 527.6: hearing within 21 days, or 25 for good cause (AB 1596, docs/law/durations.md#tros)"
    ),
    form!(
        "CH-130",
        Ch,
        AfterHearing,
        Limit::Years(5),
        true,
        "CCP 527.6: up to 5 years (docs/law/durations.md#orders-after-hearing)"
    ),
    form!(
        "EA-110",
        Ea,
        Temporary,
        TRO_DAYS,
        true,
        "WIC 15657.03: TRO lasts until the hearing (docs/law/durations.md#tros ⚠️)"
    ),
    form!(
        "EA-130",
        Ea,
        AfterHearing,
        Limit::Years(5),
        true,
        "WIC 15657.03: up to 5 years (docs/law/durations.md#orders-after-hearing)"
    ),
    form!(
        "WV-110",
        Wv,
        Temporary,
        TRO_DAYS,
        true,
        "CCP 527.8: hearing within 21 days, or 25 for good cause (AB 1596, docs/law/durations.md#tros)"
    ),
    form!(
        "WV-130",
        Wv,
        AfterHearing,
        Limit::Years(3),
        true,
        "CCP 527.8(k)(1): up to 3 years"
    ),
    form!(
        "SV-110",
        Sv,
        Temporary,
        TRO_DAYS,
        true,
        "CCP 527.85: TRO lasts until the hearing (docs/law/durations.md#tros ⚠️)"
    ),
    form!(
        "SV-130",
        Sv,
        AfterHearing,
        Limit::Years(3),
        true,
        "CCP 527.85: up to 3 years (docs/law/durations.md#orders-after-hearing ⚠️)"
    ),
    form!(
        "EPO-002",
        Gv,
        Emergency,
        Limit::Days(21),
        true,
        "PC 18148: temporary emergency GVRO expires 21 days after issuance"
    ),
    form!(
        "GV-110",
        Gv,
        Temporary,
        Limit::Days(21),
        true,
        "PC 18165: ex parte GVRO lasts up to 21 days"
    ),
    form!(
        "GV-116",
        Gv,
        Temporary,
        Limit::Unlimited,
        true,
        "continuance order extends the ex parte GVRO (docs/law/durations.md#tros ⚠️)"
    ),
    form!(
        "GV-130",
        Gv,
        AfterHearing,
        Limit::Years(5),
        true,
        "PC 18170: 1 to 5 years since AB 12 (docs/law/durations.md#gun-violence-orders ⚠️)"
    ),
    form!(
        "JV-250",
        Jv,
        Temporary,
        TRO_DAYS,
        true,
        "WIC 213.5: temporary order until the hearing (docs/law/durations.md#tros)"
    ),
    form!(
        "JV-255",
        Jv,
        Juvenile,
        Limit::Years(3),
        false,
        "WIC 213.5 and JV-255: up to 3 years; with no expiry written, 3 years after the hearing (docs/law/durations.md#orders-after-hearing)"
    ),
    form!(
        "CR-160",
        Cr,
        Criminal,
        Limit::Years(10),
        false,
        "PC 136.2(i)(1): post-conviction order up to 10 years; pre-judgment orders run until terminated"
    ),
    form!(
        "CR-161",
        Cr,
        Criminal,
        Limit::Years(10),
        false,
        "PC 136.2(i)(1): post-conviction order up to 10 years; pre-judgment orders run until terminated"
    ),
    form!(
        "EPO-001",
        Epo,
        Emergency,
        Limit::Days(7),
        true,
        "Fam. Code 6256: expires the earlier of 5 court days or 7 calendar days after issuance"
    ),
    form!(
        "RT-130",
        Rt,
        AfterHearing,
        Limit::Years(2),
        true,
        "PC 490.8: up to 2 years (docs/law/durations.md#orders-after-hearing)"
    ),
];

/// The rule for a form number (case-insensitive), if the registry knows it.
pub fn form_rule(form: &str) -> Option<&'static FormRule> {
    let f = form.trim().to_ascii_uppercase();
    FORMS.iter().find(|r| r.form == f)
}

/// Checks that `form` is a known form of `family`.
pub fn check_form(
    field: &str,
    family: OrderFamily,
    form: &str,
) -> Result<&'static FormRule, Invalid> {
    let Some(rule) = form_rule(form) else {
        let known: Vec<&str> = FORMS
            .iter()
            .filter(|r| r.family == family)
            .map(|r| r.form)
            .collect();
        return Err(Invalid::new(
            field,
            format!(
                "unknown form '{}'; forms of this family: {}",
                form.trim(),
                known.join(", ")
            ),
        ));
    };
    if rule.family != family {
        return Err(Invalid::new(
            field,
            format!(
                "form {} belongs to family {:?}, not {:?}",
                rule.form, rule.family, family
            ),
        ));
    }
    Ok(rule)
}

/// How long a renewal may run, by family.
pub fn renewal_limit(family: OrderFamily) -> (Limit, &'static str) {
    match family {
        OrderFamily::Dv => (
            Limit::Unlimited,
            "Fam. Code 6345(a): renewal for 5 or more years or permanently",
        ),
        OrderFamily::Ch => (
            Limit::Years(5),
            "CCP 527.6: renewal up to 5 years (docs/law/durations.md#renewal ⚠️)",
        ),
        OrderFamily::Ea => (
            Limit::Years(5),
            "WIC 15657.03: renewal up to 5 years (docs/law/durations.md#renewal ⚠️)",
        ),
        OrderFamily::Wv => (Limit::Years(3), "CCP 527.8(k)(1): renewal up to 3 years"),
        OrderFamily::Sv => (
            Limit::Years(3),
            "CCP 527.85: renewal up to 3 years (docs/law/durations.md#renewal ⚠️)",
        ),
        OrderFamily::Gv => (
            Limit::Years(5),
            "PC 18170: renewal 1 to 5 years (docs/law/durations.md#renewal ⚠️)",
        ),
        OrderFamily::Jv => (
            Limit::Years(3),
            "WIC 213.5: renewal up to 3 years (docs/law/durations.md#renewal)",
        ),
        OrderFamily::Rt => (
            Limit::Years(2),
            "PC 490.8: renewal up to 2 years (docs/law/durations.md#renewal ⚠️)",
        ),
        OrderFamily::Cr => (Limit::Years(10), "PC 136.2(i)(1): up to 10 years"),
        OrderFamily::Epo | OrderFamily::OutOfState => (Limit::Unlimited, "not renewable here"),
    }
}

/// Whether an order of this family can be renewed in the registry.
pub fn renewable(family: OrderFamily, kind: OrderKind) -> bool {
    !matches!(family, OrderFamily::Epo | OrderFamily::OutOfState)
        && matches!(
            kind,
            OrderKind::AfterHearing | OrderKind::Juvenile | OrderKind::Criminal
        )
}

/// The expiry an order runs to when none is written on it: a JV-255 ends 3 years after the
/// hearing at which it is issued (JV-255 form text; docs/law/durations.md#orders-after-hearing).
pub fn implied_expiry(rule: &FormRule, issued_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    default_years(rule).and_then(|y| Limit::Years(y).latest(issued_at))
}

/// The years an order runs when no expiry is written on it (see `implied_expiry`).
pub fn default_years(rule: &FormRule) -> Option<u32> {
    (rule.form == "JV-255").then_some(3)
}

/// The shortest length in years the law allows an order of this form issued today (see
/// `check_minimum`; an order issued before the rule's operative date is judged by the old rule).
pub fn minimum_years(rule: &FormRule) -> Option<u32> {
    (rule.form == "GV-130").then_some(1)
}

/// The duration rule of a form in words, as `formRules` reports it: the cap, the Fam. Code 6256
/// court-day bound of an EPO, the GV-130 minimum and the JV-255 default.
pub fn describe_duration(rule: &FormRule) -> String {
    let mut out = if rule.form == super::epo::FORM {
        format!(
            "at most the earlier of the end of the {}th court day or {} days after issuance (the day of issuance not counted; weekends and judicial holidays are not court days)",
            super::epo::COURT_DAYS,
            super::epo::CALENDAR_DAYS
        )
    } else {
        match rule.limit {
            Limit::Unlimited => "no cap in law".to_owned(),
            limit => format!("at most {} after issuance", limit.describe()),
        }
    };
    if let Some(y) = minimum_years(rule) {
        out.push_str(&format!(
            "; at least {y} year for an order issued since 2020-09-01 (AB 12)"
        ));
    }
    if let Some(y) = default_years(rule) {
        out.push_str(&format!(
            "; with no expiry written, {y} years after the hearing"
        ));
    } else if !rule.expiry_required {
        out.push_str("; may run until further order");
    }
    out
}

/// The day AB 12 (Stats. 2019 ch. 724) made a GV-130 last 1 to 5 years instead of 1 year.
const AB12_OPERATIVE: (i32, u32, u32) = (2020, 9, 1);

/// Checks the shortest length the law allows: a GV-130 issued since AB 12 runs at least 1 year
/// (PC 18170, docs/law/durations.md#gun-violence-orders).
pub fn check_minimum(
    field: &str,
    rule: &FormRule,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), Invalid> {
    let (y, m, d) = AB12_OPERATIVE;
    let operative = chrono::NaiveDate::from_ymd_opt(y, m, d);
    let Some(years) = minimum_years(rule) else {
        return Ok(());
    };
    if operative.is_none_or(|o| issued_at.date_naive() < o) {
        return Ok(());
    }
    let (Some(exp), Some(shortest)) = (expires_at, Limit::Years(years).latest(issued_at)) else {
        return Ok(());
    };
    if exp.date_naive() < shortest.date_naive() {
        return Err(Invalid::new(
            field,
            format!(
                "a GV-130 runs at least 1 year, until {} at the earliest (PC 18170 as amended by AB 12, operative 2020-09-01)",
                shortest.date_naive()
            ),
        ));
    }
    Ok(())
}

/// Checks an expiry against issuance and the cap.
pub fn check_expiry(
    field: &str,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    required: bool,
    limit: Limit,
    citation: &str,
    what: &str,
) -> Result<(), Invalid> {
    let Some(exp) = expires_at else {
        if required {
            return Err(Invalid::new(
                field,
                format!("{what} must have an expiry ({citation})"),
            ));
        }
        return Ok(());
    };
    if exp <= issued_at {
        return Err(Invalid::new(field, "expiry must be after the issue time"));
    }
    if let Some(latest) = limit.latest(issued_at)
        && exp > latest
    {
        return Err(Invalid::new(
            field,
            format!(
                "{what} may run at most {} from issuance, until {} ({citation})",
                limit.describe(),
                latest.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn forms_belong_to_families() {
        assert_eq!(
            check_form("f", OrderFamily::Dv, "dv-130").unwrap().kind,
            OrderKind::AfterHearing
        );
        assert!(check_form("f", OrderFamily::Ch, "DV-130").is_err());
        assert!(check_form("f", OrderFamily::Dv, "DV-999").is_err());
        assert_eq!(
            check_form("f", OrderFamily::Epo, "EPO-001").unwrap().limit,
            Limit::Days(7)
        );
    }

    #[test]
    fn every_family_has_a_form() {
        for fam in OrderFamily::ALL {
            assert!(FORMS.iter().any(|r| r.family == *fam), "{fam:?}");
        }
    }

    #[test]
    fn epo_cannot_run_past_seven_days() {
        let r = form_rule("EPO-001").unwrap();
        let issued = t(2026, 1, 1);
        let ok = check_expiry(
            "e",
            issued,
            Some(issued + Duration::days(7)),
            true,
            r.limit,
            r.citation,
            "EPO-001",
        );
        assert!(ok.is_ok());
        let err = check_expiry(
            "e",
            issued,
            Some(issued + Duration::days(8)),
            true,
            r.limit,
            r.citation,
            "EPO-001",
        )
        .unwrap_err();
        assert!(err.message.contains("6256"), "{}", err.message);
        assert!(check_expiry("e", issued, None, true, r.limit, r.citation, "EPO-001").is_err());
    }

    #[test]
    fn gv130_runs_one_to_five_years_since_ab12() {
        let r = form_rule("GV-130").unwrap();
        let issued = t(2026, 3, 1);
        assert!(check_minimum("e", r, issued, Some(t(2027, 3, 1))).is_ok());
        let err = check_minimum("e", r, issued, Some(t(2027, 2, 27))).unwrap_err();
        assert!(err.message.contains("AB 12"), "{}", err.message);
        // Before AB 12 the rule was a fixed year; the minimum is not applied retroactively.
        assert!(check_minimum("e", r, t(2020, 8, 1), Some(t(2020, 12, 1))).is_ok());
        // Other forms have no minimum.
        let wv = form_rule("WV-130").unwrap();
        assert!(check_minimum("e", wv, issued, Some(t(2026, 4, 1))).is_ok());
        let late = check_expiry(
            "e",
            issued,
            Some(t(2031, 3, 2)),
            true,
            r.limit,
            r.citation,
            r.form,
        );
        assert!(late.is_err());
    }

    #[test]
    fn jv255_without_expiry_ends_three_years_after_hearing() {
        let r = form_rule("JV-255").unwrap();
        assert!(!r.expiry_required);
        let issued = t(2026, 5, 4);
        assert_eq!(implied_expiry(r, issued), Some(t(2029, 5, 4)));
        assert_eq!(implied_expiry(form_rule("DV-130").unwrap(), issued), None);
    }

    /// The caps of the forms the issue found untested (docs/law/durations.md#caps-in-the-code).
    #[test]
    fn caps_of_each_form() {
        for (form, limit, cite) in [
            ("EPO-002", Limit::Days(21), "18148"),
            ("GV-110", Limit::Days(21), "18165"),
            ("CH-130", Limit::Years(5), "527.6"),
            ("EA-130", Limit::Years(5), "15657.03"),
            ("WV-130", Limit::Years(3), "527.8"),
            ("RT-130", Limit::Years(2), "490.8"),
            ("CR-160", Limit::Years(10), "136.2(i)"),
            ("CR-161", Limit::Years(10), "136.2(i)"),
        ] {
            let r = form_rule(form).unwrap();
            assert_eq!(r.limit, limit, "{form}");
            let issued = t(2026, 1, 10);
            let latest = limit.latest(issued).unwrap();
            let check = |exp| check_expiry("e", issued, Some(exp), true, r.limit, r.citation, form);
            assert!(check(latest).is_ok(), "{form}");
            let err = check(latest + Duration::days(1)).unwrap_err();
            assert!(err.message.contains(cite), "{form}: {}", err.message);
        }
    }

    #[test]
    fn duration_rules_in_words() {
        let epo = describe_duration(form_rule("EPO-001").unwrap());
        assert!(epo.contains("5th court day or 7 days"), "{epo}");
        let gv = describe_duration(form_rule("GV-130").unwrap());
        assert!(
            gv.contains("at most 5 years") && gv.contains("at least 1 year"),
            "{gv}"
        );
        let jv = describe_duration(form_rule("JV-255").unwrap());
        assert!(jv.contains("with no expiry written, 3 years"), "{jv}");
        let cr = describe_duration(form_rule("CR-160").unwrap());
        assert!(cr.contains("until further order"), "{cr}");
    }

    #[test]
    fn years_and_ordering() {
        let issued = t(2024, 2, 29);
        assert!(
            check_expiry(
                "e",
                issued,
                Some(t(2029, 2, 28)),
                true,
                Limit::Years(5),
                "",
                "x"
            )
            .is_ok()
        );
        assert!(
            check_expiry(
                "e",
                issued,
                Some(t(2029, 3, 2)),
                true,
                Limit::Years(5),
                "",
                "x"
            )
            .is_err()
        );
        assert!(check_expiry("e", issued, Some(issued), true, Limit::Unlimited, "", "x").is_err());
        assert!(check_expiry("e", issued, None, false, Limit::Years(10), "", "x").is_ok());
    }
}
