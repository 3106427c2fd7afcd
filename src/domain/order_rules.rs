//! Order families, Judicial Council forms and the durations the law caps (docs/law/forms.md,
//! docs/law/durations.md). The forms and their numbers are data, rows of the rules table
//! (`domain::rules`, `data/rules.toml`); this module applies them. The tables of those pages are
//! generated from the table (`crate::docs`).
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};

use super::Invalid;
use super::codes::code_enum;
use super::court_days::california_date;
use super::rules::{self, RenewalRule, Validity};

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

/// The longest (or shortest) an order may run from issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Days(i64),
    Months(u32),
    Years(u32),
    /// No cap in law (until further order, permanent renewals).
    Unlimited,
}

impl Limit {
    /// The latest allowed expiry for an order issued at `issued`.
    pub fn latest(self, issued: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Limit::Days(d) => Some(issued + Duration::days(d)),
            Limit::Months(m) => issued.checked_add_months(Months::new(m)),
            Limit::Years(y) => issued.checked_add_months(Months::new(12 * y)),
            Limit::Unlimited => None,
        }
    }

    /// The day `self` before `day` (a request window opening before an expiry).
    pub fn before(self, day: NaiveDate) -> NaiveDate {
        match self {
            Limit::Days(d) => day - Duration::days(d),
            Limit::Months(m) => day
                .checked_sub_months(Months::new(m))
                .unwrap_or(NaiveDate::MIN),
            Limit::Years(y) => day
                .checked_sub_months(Months::new(12 * y))
                .unwrap_or(NaiveDate::MIN),
            Limit::Unlimited => NaiveDate::MIN,
        }
    }

    /// Whether `self` is at least as long as `other` (an approximation in days: a month is 28
    /// to 31 days, a year 365 or 366; used only to check a rules file's rows are coherent).
    pub fn at_least(self, other: Limit) -> bool {
        fn days(l: Limit) -> Option<i64> {
            match l {
                Limit::Days(d) => Some(d),
                Limit::Months(m) => Some(i64::from(m) * 28),
                Limit::Years(y) => Some(i64::from(y) * 365),
                Limit::Unlimited => None,
            }
        }
        match (days(self), days(other)) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => a >= b,
        }
    }

    /// In words: "25 days", "1 year", "no limit".
    pub fn describe(self) -> String {
        let n = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        match self {
            Limit::Days(d) => n(d, "day"),
            Limit::Months(m) => n(i64::from(m), "month"),
            Limit::Years(y) => n(i64::from(y), "year"),
            Limit::Unlimited => "no limit".to_owned(),
        }
    }

    /// As a rules file writes it: "25 days", "1 year", "none".
    pub fn as_data(self) -> String {
        match self {
            Limit::Unlimited => "none".to_owned(),
            l => l.describe(),
        }
    }
}

/// What the registry knows about one form, as one row of the rules table (`domain::rules`,
/// `data/rules.toml`): the rule in force from `validity.effective` (through `validity.until`).
#[derive(Debug, Clone)]
pub struct FormRule {
    pub form: String,
    pub family: OrderFamily,
    pub kind: OrderKind,
    /// The longest the order may run from issuance.
    pub limit: Limit,
    /// `limit` is the hearing window's good-cause days: a temporary order runs until the hearing.
    pub until_hearing: bool,
    /// The shortest, when the law sets one (GV-130 since AB 12: 1 year).
    pub min: Option<Limit>,
    /// A second bound in court days following the day of issuance; the order ends at the earlier
    /// of the two (EPO-001, Fam. Code 6256; `epo`).
    pub max_court_days: Option<u32>,
    /// How long the order runs when no expiry is written (JV-255: 3 years).
    pub default: Option<Limit>,
    /// Whether the order must carry an expiry (false: may run until further order).
    pub expiry_required: bool,
    /// The statute or form the rule comes from.
    pub source: String,
    pub validity: Validity,
    /// Its line in the rules file.
    pub line: usize,
}

/// The rule of a form in force today (case-insensitive), if the registry knows it.
pub fn form_rule(form: &str) -> Option<&'static FormRule> {
    form_rule_on(form, california_date(Utc::now()))
}

/// The rule of a form in force on `day`.
pub fn form_rule_on(form: &str, day: NaiveDate) -> Option<&'static FormRule> {
    rules::active().form_on(form, day)
}

/// Checks that `form` is a known form of `family` and returns its rule in force on the
/// (California) day of `issued_at`: an order is judged by the law of the day it was issued.
pub fn check_form(
    field: &str,
    family: OrderFamily,
    form: &str,
    issued_at: DateTime<Utc>,
) -> Result<&'static FormRule, Invalid> {
    let table = rules::active();
    let day = california_date(issued_at);
    let rows: Vec<&'static FormRule> = table.form_rows(form).collect();
    let Some(first) = rows.first() else {
        let mut known: Vec<&str> = table
            .forms_on(day)
            .filter(|r| r.family == family)
            .map(|r| r.form.as_str())
            .collect();
        known.dedup();
        return Err(Invalid::new(
            field,
            format!(
                "unknown form '{}'; forms of this family: {}",
                form.trim(),
                known.join(", ")
            ),
        ));
    };
    if first.family != family {
        return Err(Invalid::new(
            field,
            format!(
                "form {} belongs to family {:?}, not {:?}",
                first.form, first.family, family
            ),
        ));
    }
    rows.iter()
        .find(|r| r.validity.covers(day))
        .copied()
        .ok_or_else(|| {
            let spans: Vec<String> = rows.iter().map(|r| r.validity.describe()).collect();
            Invalid::new(
                field,
                format!(
                    "no rule for form {} is in force on {day}, the day the order was issued (the rules table has it {}; {})",
                    first.form,
                    spans.join(", "),
                    table.file
                ),
            )
        })
}

/// How orders of `family` are renewed by a renewal issued at `issued_at`, if they are.
pub fn renewal_rule(family: OrderFamily, issued_at: DateTime<Utc>) -> Option<&'static RenewalRule> {
    rules::active().renewal_on(family, california_date(issued_at))
}

/// Whether an order of this family and kind can be renewed in the registry at `at`.
pub fn renewable(family: OrderFamily, kind: OrderKind, at: DateTime<Utc>) -> bool {
    renewal_rule(family, at).is_some_and(|r| r.kinds.contains(&kind))
}

/// The expiry an order runs to when none is written on it: a JV-255 ends 3 years after the
/// hearing at which it is issued (the rule's `default`; docs/law/durations.md#orders-after-hearing).
pub fn implied_expiry(rule: &FormRule, issued_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    rule.default.and_then(|d| d.latest(issued_at))
}

/// The years in a length, when it is a whole number of years (what `formRules` reports).
pub fn whole_years(l: Option<Limit>) -> Option<u32> {
    match l {
        Some(Limit::Years(y)) => Some(y),
        _ => None,
    }
}

/// The duration rule of a form in words, as `formRules` reports it: the cap, the court-day
/// bound of an EPO, the minimum and the default.
pub fn describe_duration(rule: &FormRule) -> String {
    let mut out = match (rule.max_court_days, rule.limit) {
        (Some(n), limit) => format!(
            "at most the earlier of the end of the {n}th court day or {} after issuance (the day of issuance not counted; weekends and judicial holidays are not court days)",
            limit.describe()
        ),
        (None, Limit::Unlimited) => "no cap in law".to_owned(),
        (None, limit) if rule.until_hearing => format!(
            "until the hearing, at most {} after issuance (the hearing window with good cause)",
            limit.describe()
        ),
        (None, limit) => format!("at most {} after issuance", limit.describe()),
    };
    if let Some(m) = rule.min {
        out.push_str(&format!(
            "; at least {} for an order issued {}",
            m.describe(),
            rule.validity.describe()
        ));
    }
    if let Some(d) = rule.default {
        out.push_str(&format!(
            "; with no expiry written, {} after the hearing",
            d.describe()
        ));
    } else if !rule.expiry_required {
        out.push_str("; may run until further order");
    }
    out
}

/// Checks the shortest length the rule allows (GV-130 since AB 12: 1 year, PC 18170,
/// docs/law/durations.md#gun-violence-orders); the rule is the one in force on the issue day.
pub fn check_minimum(
    field: &str,
    rule: &FormRule,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), Invalid> {
    let (Some(min), Some(exp)) = (rule.min, expires_at) else {
        return Ok(());
    };
    let Some(shortest) = min.latest(issued_at) else {
        return Ok(());
    };
    if exp.date_naive() < shortest.date_naive() {
        return Err(Invalid::new(
            field,
            format!(
                "a {} issued {} runs at least {}, until {} at the earliest ({})",
                rule.form,
                rule.validity.describe(),
                min.describe(),
                shortest.date_naive(),
                rule.source
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

    fn check(r: &FormRule, issued: DateTime<Utc>, exp: DateTime<Utc>) -> Result<(), Invalid> {
        check_expiry("e", issued, Some(exp), true, r.limit, &r.source, &r.form)
    }

    #[test]
    fn forms_belong_to_families() {
        let now = t(2026, 1, 1);
        assert_eq!(
            check_form("f", OrderFamily::Dv, "dv-130", now)
                .unwrap()
                .kind,
            OrderKind::AfterHearing
        );
        assert!(check_form("f", OrderFamily::Ch, "DV-130", now).is_err());
        assert!(check_form("f", OrderFamily::Dv, "DV-999", now).is_err());
        assert_eq!(
            check_form("f", OrderFamily::Epo, "EPO-001", now)
                .unwrap()
                .limit,
            Limit::Days(7)
        );
    }

    #[test]
    fn every_family_has_a_form() {
        let today = california_date(Utc::now());
        for fam in OrderFamily::ALL {
            assert!(
                rules::active().forms_on(today).any(|r| r.family == *fam),
                "{fam:?}"
            );
        }
    }

    #[test]
    fn epo_cannot_run_past_seven_days() {
        let r = form_rule("EPO-001").unwrap();
        let issued = t(2026, 1, 1);
        assert!(check(r, issued, issued + Duration::days(7)).is_ok());
        let err = check(r, issued, issued + Duration::days(8)).unwrap_err();
        assert!(err.message.contains("6256"), "{}", err.message);
        assert!(check_expiry("e", issued, None, true, r.limit, &r.source, "EPO-001").is_err());
    }

    #[test]
    fn gv130_runs_one_to_five_years_since_ab12() {
        let issued = t(2026, 3, 1);
        let r = check_form("f", OrderFamily::Gv, "GV-130", issued).unwrap();
        assert!(check_minimum("e", r, issued, Some(t(2027, 3, 1))).is_ok());
        let err = check_minimum("e", r, issued, Some(t(2027, 2, 27))).unwrap_err();
        assert!(err.message.contains("AB 12"), "{}", err.message);
        assert!(check(r, issued, t(2031, 3, 1)).is_ok());
        assert!(check(r, issued, t(2031, 3, 2)).is_err());
        // Other forms have no minimum.
        let wv = form_rule("WV-130").unwrap();
        assert!(check_minimum("e", wv, issued, Some(t(2026, 4, 1))).is_ok());
    }

    /// An order issued before AB 12 (operative 2020-09-01) is judged by the superseded row: one
    /// year at most, no minimum; the day before and the day of the change get different rules.
    #[test]
    fn gv130_issued_before_ab12_is_judged_by_the_old_row() {
        let before = t(2020, 8, 1);
        let old = check_form("f", OrderFamily::Gv, "GV-130", before).unwrap();
        assert_eq!(old.limit, Limit::Years(1));
        assert_eq!(old.min, None);
        assert!(old.source.contains("before AB 12"), "{}", old.source);
        assert!(check_minimum("e", old, before, Some(t(2020, 12, 1))).is_ok());
        assert!(check(old, before, t(2021, 8, 1)).is_ok());
        let err = check(old, before, t(2022, 8, 1)).unwrap_err();
        assert!(err.message.contains("1 year"), "{}", err.message);
        // The last day of the old rule and the first of the new (California days).
        let last_old = Utc.with_ymd_and_hms(2020, 9, 1, 6, 0, 0).unwrap();
        let first_new = Utc.with_ymd_and_hms(2020, 9, 1, 8, 0, 0).unwrap();
        assert_eq!(
            check_form("f", OrderFamily::Gv, "GV-130", last_old)
                .unwrap()
                .limit,
            Limit::Years(1)
        );
        assert_eq!(
            check_form("f", OrderFamily::Gv, "GV-130", first_new)
                .unwrap()
                .limit,
            Limit::Years(5)
        );
        // Before the GVRO law there is no rule at all.
        let err = check_form("f", OrderFamily::Gv, "GV-130", t(2015, 6, 1)).unwrap_err();
        assert!(
            err.message.contains("no rule for form GV-130"),
            "{}",
            err.message
        );
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
            ("DV-110", Limit::Days(25), "21 days or 25"),
        ] {
            let r = form_rule(form).unwrap();
            assert_eq!(r.limit, limit, "{form}");
            let issued = t(2026, 1, 10);
            let latest = limit.latest(issued).unwrap();
            assert!(check(r, issued, latest).is_ok(), "{form}");
            let err = check(r, issued, latest + Duration::days(1)).unwrap_err();
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
        let tro = describe_duration(form_rule("CH-110").unwrap());
        assert!(tro.contains("until the hearing, at most 25 days"), "{tro}");
    }

    #[test]
    fn renewals_by_family() {
        let now = t(2026, 1, 1);
        assert!(renewable(OrderFamily::Dv, OrderKind::AfterHearing, now));
        assert!(!renewable(OrderFamily::Dv, OrderKind::Temporary, now));
        assert!(renewable(OrderFamily::Jv, OrderKind::Juvenile, now));
        assert!(!renewable(OrderFamily::Epo, OrderKind::Emergency, now));
        assert!(!renewable(
            OrderFamily::OutOfState,
            OrderKind::AfterHearing,
            now
        ));
        let dv = renewal_rule(OrderFamily::Dv, now).unwrap();
        assert_eq!(
            (dv.max, dv.min, dv.request_window),
            (
                Limit::Unlimited,
                Some(Limit::Years(5)),
                Some(Limit::Months(3))
            )
        );
        assert_eq!(
            renewal_rule(OrderFamily::Wv, now).unwrap().max,
            Limit::Years(3)
        );
    }

    #[test]
    fn years_and_ordering() {
        let issued = t(2024, 2, 29);
        let check = |exp, limit| check_expiry("e", issued, exp, true, limit, "", "x");
        assert!(check(Some(t(2029, 2, 28)), Limit::Years(5)).is_ok());
        assert!(check(Some(t(2029, 3, 2)), Limit::Years(5)).is_err());
        assert!(check(Some(issued), Limit::Unlimited).is_err());
        assert!(check_expiry("e", issued, None, false, Limit::Years(10), "", "x").is_ok());
        assert_eq!(
            Limit::Months(3).before(t(2026, 6, 30).date_naive()),
            t(2026, 3, 30).date_naive()
        );
        assert_eq!(Limit::Years(1).describe(), "1 year");
        assert!(
            Limit::Years(1).at_least(Limit::Months(12))
                && !Limit::Days(7).at_least(Limit::Years(1))
        );
    }
}
