//! How long an emergency protective order may run. Fam. Code 6256: an EPO expires at the earlier
//! of (a) the close of judicial business on the fifth court day following the day of its
//! issuance and (b) the seventh calendar day following the day of its issuance
//! (docs/law/durations.md#epo).
//!
//! The registry's reading of the statute:
//! - the day of issuance is not counted ("following the day of its issuance"); days are
//!   California days (`court_days::california_date`);
//! - court days skip weekends and the judicial holidays (`court_days`,
//!   docs/law/durations.md#court-holidays);
//! - the close of judicial business is taken as the end of that court day (midnight, Pacific
//!   time): the registry does not know each court's hours, and an earlier hour would refuse
//!   lawful orders written to expire that evening;
//! - bound (b) stays the cap the rules table gives EPO-001, 7 × 24 hours from issuance, which is
//!   never later than the end of the seventh day.
//!
//! So bound (a) is the earlier one only for an EPO issued on a Saturday or Sunday (California
//! date) with no holiday in the days after it; a holiday moves the fifth court day later, never
//! earlier, and leaves bound (b) to decide.
use chrono::{DateTime, Utc};

use super::Invalid;
use super::court_days::{self, CourtDaysError};
use super::order_rules::{FormRule, form_rule_on};

/// The form the rule governs (EPO-002, the gun violence emergency order, has its own 21 days).
/// Its numbers, 5 court days and 7 days, are the form's row in the rules table
/// (`max_court_days`, `max`).
pub const FORM: &str = "EPO-001";

/// Bound (a): the end of the `n`th court day following the California day of issuance.
pub fn court_day_limit(issued_at: DateTime<Utc>, n: u32) -> Result<DateTime<Utc>, CourtDaysError> {
    let day = court_days::add_court_days(court_days::california_date(issued_at), n)?;
    court_days::end_of_day(day)
}

/// The latest expiry `rule` allows an order issued at `issued_at`: the earlier of its court-day
/// bound and its cap; `None` when the rule has no court-day bound.
pub fn latest_expiry_of(
    rule: &FormRule,
    issued_at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CourtDaysError> {
    let Some(n) = rule.max_court_days else {
        return Ok(None);
    };
    let court = court_day_limit(issued_at, n)?;
    Ok(Some(
        rule.limit
            .latest(issued_at)
            .map_or(court, |cap| court.min(cap)),
    ))
}

/// The latest expiry the statute allows an EPO-001 issued at `issued_at`: the earlier bound, by
/// the EPO-001 row in force that day.
pub fn latest_expiry(issued_at: DateTime<Utc>) -> Result<DateTime<Utc>, CourtDaysError> {
    let day = court_days::california_date(issued_at);
    let rule = form_rule_on(FORM, day).ok_or(CourtDaysError::NoRule { form: FORM, day })?;
    latest_expiry_of(rule, issued_at)?.ok_or(CourtDaysError::NoRule { form: FORM, day })
}

/// An expiry no later than this is lawful whatever the holidays: the `n` days following the
/// day of issuance hold at most `n` court days, so the `n`th court day is never earlier than
/// the `n`th day.
fn holiday_free_floor(issued_at: DateTime<Utc>, n: u32) -> Option<DateTime<Utc>> {
    let nth =
        court_days::california_date(issued_at).checked_add_days(chrono::Days::new(n.into()))?;
    court_days::end_of_day(nth).ok()
}

/// Checks an expiry against a court-day bound (EPO-001: both bounds of Fam. Code 6256); forms
/// without one pass. An order issued in a year the holiday data does not cover is refused unless
/// its expiry is lawful whatever the holidays (no later than the end of the `n`th day after
/// issuance).
pub fn check_expiry(
    field: &str,
    rule: &FormRule,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), Invalid> {
    let (Some(exp), Some(n)) = (expires_at, rule.max_court_days) else {
        return Ok(());
    };
    let form = &rule.form;
    let cap = rule.limit.describe();
    let source = &rule.source;
    let issued_on = court_days::california_date(issued_at);
    let latest = match latest_expiry_of(rule, issued_at) {
        Ok(Some(latest)) => latest,
        Ok(None) => return Ok(()),
        Err(_) if holiday_free_floor(issued_at, n).is_some_and(|floor| exp <= floor) => {
            return Ok(());
        }
        Err(e) => {
            return Err(Invalid::new(
                field,
                format!(
                    "cannot check the expiry of an {form} issued on {issued_on} (California date): \
                     it ends at the earlier of the close of the {n}th court day or {cap} after \
                     issuance ({source}), and {e}; an expiry no later than the end of the {n}th \
                     day after issuance is accepted"
                ),
            ));
        }
    };
    if exp > latest {
        return Err(Invalid::new(
            field,
            format!(
                "an {form} issued on {issued_on} (California date) may run until {} at the latest: \
                 the earlier of the close of the {n}th court day and {cap} after issuance, \
                 weekends and court holidays not counted ({source}; \
                 docs/law/durations.md#court-holidays)",
                latest.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order_rules::{Limit, form_rule};
    use chrono::{Duration, TimeZone};

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn check(issued: DateTime<Utc>, exp: DateTime<Utc>) -> Result<(), Invalid> {
        check_expiry("expiresAt", form_rule(FORM).unwrap(), issued, Some(exp))
    }

    #[test]
    fn the_bounds_are_the_rows_numbers() {
        let r = form_rule(FORM).unwrap();
        assert_eq!((r.limit, r.max_court_days), (Limit::Days(7), Some(5)));
    }

    #[test]
    fn a_weekday_in_a_week_without_holidays_keeps_seven_days() {
        // Tuesday 13 October 2026, 10:00 PDT: the 5th court day is Tuesday 20 October.
        let issued = at(2026, 10, 13, 17);
        assert_eq!(latest_expiry(issued).unwrap(), issued + Duration::days(7));
        assert!(check(issued, issued + Duration::days(7)).is_ok());
    }

    #[test]
    fn an_epo_issued_on_a_saturday_ends_with_friday() {
        // Saturday 3 October 2026, 10:00 PDT: Monday to Friday 9 October, ending at midnight PDT.
        let issued = at(2026, 10, 3, 17);
        let friday_ends = at(2026, 10, 10, 7);
        assert_eq!(court_day_limit(issued, 5).unwrap(), friday_ends);
        assert_eq!(latest_expiry(issued).unwrap(), friday_ends);
        assert!(check(issued, friday_ends).is_ok());
        let err = check(issued, issued + Duration::days(7)).unwrap_err();
        assert_eq!(err.field, "expiresAt");
        assert!(err.message.contains("6256"), "{}", err.message);
        assert!(
            err.message.contains("2026-10-10 07:00 UTC"),
            "names the latest allowed expiry: {}",
            err.message
        );
        // Sunday: the same Friday.
        assert_eq!(latest_expiry(at(2026, 10, 4, 17)).unwrap(), friday_ends);
    }

    #[test]
    fn holidays_move_the_fifth_court_day_later_so_seven_days_decide() {
        // Thursday 3 September 2026, before Labor Day: Fri, Tue–Fri, so 5th court day is the 11th.
        let thursday = at(2026, 9, 3, 17);
        assert_eq!(court_day_limit(thursday, 5).unwrap(), at(2026, 9, 12, 7));
        assert_eq!(
            latest_expiry(thursday).unwrap(),
            thursday + Duration::days(7)
        );
        // Saturday before Thanksgiving 2026: Mon–Wed, Mon 30 Nov, Tue 1 Dec.
        let saturday = at(2026, 11, 21, 18);
        assert_eq!(court_day_limit(saturday, 5).unwrap(), at(2026, 12, 2, 8));
        assert_eq!(
            latest_expiry(saturday).unwrap(),
            saturday + Duration::days(7)
        );
    }

    #[test]
    fn the_day_of_issuance_is_a_california_day() {
        // Sunday 4 October 2026 at 23:00 PDT is Monday 06:00 UTC: still a Sunday issuance.
        let late_sunday = at(2026, 10, 5, 6);
        assert_eq!(
            court_day_limit(late_sunday, 5).unwrap(),
            at(2026, 10, 10, 7)
        );
        assert!(check(late_sunday, late_sunday + Duration::days(5)).is_ok());
        assert!(check(late_sunday, at(2026, 10, 10, 7) + Duration::seconds(1)).is_err());
    }

    #[test]
    fn outside_the_data_only_a_certainly_lawful_expiry_passes() {
        // Saturday 3 June 2023: no holiday data for 2023.
        let issued = at(2023, 6, 3, 17);
        let err = check(issued, issued + Duration::days(7)).unwrap_err();
        assert!(err.message.contains("2024 to 2028"), "{}", err.message);
        assert!(err.message.contains("6256"), "{}", err.message);
        assert!(check(issued, issued + Duration::days(4)).is_ok());
        // End of the 5th day after issuance (Thursday 8 June, midnight PDT).
        assert!(check(issued, at(2023, 6, 9, 7)).is_ok());
        assert!(check(issued, at(2023, 6, 9, 7) + Duration::seconds(1)).is_err());
    }

    #[test]
    fn other_forms_and_missing_expiries_pass() {
        let issued = at(2023, 6, 3, 17);
        let epo2 = form_rule("EPO-002").unwrap();
        assert!(check_expiry("e", epo2, issued, Some(issued + Duration::days(21))).is_ok());
        assert!(check_expiry("e", form_rule(FORM).unwrap(), issued, None).is_ok());
    }
}
