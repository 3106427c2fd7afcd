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
//! - bound (b) stays the cap `FORMS` enforces for EPO-001, 7 × 24 hours from issuance, which is
//!   never later than the end of the seventh day.
//!
//! So bound (a) is the earlier one only for an EPO issued on a Saturday or Sunday (California
//! date) with no holiday in the days after it; a holiday moves the fifth court day later, never
//! earlier, and leaves bound (b) to decide.
use chrono::{DateTime, Duration, Utc};

use super::Invalid;
use super::court_days::{self, CourtDaysError};
use super::order_rules::FormRule;

/// The form the rule governs (EPO-002, the gun violence emergency order, has its own 21 days).
pub const FORM: &str = "EPO-001";
/// Bound (a): court days following the day of issuance.
pub const COURT_DAYS: u32 = 5;
/// Bound (b), as the cap in `FORMS` holds it.
pub const CALENDAR_DAYS: i64 = 7;
pub const CITATION: &str = "Fam. Code 6256";

/// Bound (a): the end of the fifth court day following the California day of issuance.
pub fn court_day_limit(issued_at: DateTime<Utc>) -> Result<DateTime<Utc>, CourtDaysError> {
    let day = court_days::add_court_days(court_days::california_date(issued_at), COURT_DAYS)?;
    court_days::end_of_day(day)
}

/// The latest expiry the statute allows an EPO issued at `issued_at`: the earlier bound.
pub fn latest_expiry(issued_at: DateTime<Utc>) -> Result<DateTime<Utc>, CourtDaysError> {
    Ok(court_day_limit(issued_at)?.min(issued_at + Duration::days(CALENDAR_DAYS)))
}

/// An expiry no later than this is lawful whatever the holidays: the five days following the
/// day of issuance hold at most five court days, so the fifth court day is never earlier than
/// the fifth day.
fn holiday_free_floor(issued_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let fifth = court_days::california_date(issued_at).checked_add_days(chrono::Days::new(5))?;
    court_days::end_of_day(fifth).ok()
}

/// Checks an EPO-001's expiry against both bounds of Fam. Code 6256; other forms pass. An EPO
/// issued in a year the holiday data does not cover is refused unless its expiry is lawful
/// whatever the holidays (no later than the end of the fifth day after issuance).
pub fn check_expiry(
    field: &str,
    rule: &FormRule,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), Invalid> {
    let Some(exp) = expires_at else {
        return Ok(());
    };
    if rule.form != FORM {
        return Ok(());
    }
    let issued_on = court_days::california_date(issued_at);
    let latest = match latest_expiry(issued_at) {
        Ok(latest) => latest,
        Err(_) if holiday_free_floor(issued_at).is_some_and(|floor| exp <= floor) => return Ok(()),
        Err(e) => {
            return Err(Invalid::new(
                field,
                format!(
                    "cannot check the expiry of an {FORM} issued on {issued_on} (California date): \
                     it ends at the earlier of the close of the {COURT_DAYS}th court day or the \
                     {CALENDAR_DAYS}th day after issuance ({CITATION}), and {e}; an expiry no \
                     later than the end of the 5th day after issuance is accepted"
                ),
            ));
        }
    };
    if exp > latest {
        return Err(Invalid::new(
            field,
            format!(
                "an {FORM} issued on {issued_on} (California date) may run until {} at the latest: \
                 the earlier of the close of the {COURT_DAYS}th court day and {CALENDAR_DAYS} days \
                 after issuance, weekends and court holidays not counted ({CITATION}; \
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
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn check(issued: DateTime<Utc>, exp: DateTime<Utc>) -> Result<(), Invalid> {
        check_expiry("expiresAt", form_rule(FORM).unwrap(), issued, Some(exp))
    }

    #[test]
    fn the_calendar_bound_is_the_cap_in_forms() {
        assert_eq!(
            form_rule(FORM).unwrap().limit,
            Limit::Days(CALENDAR_DAYS),
            "bound (b) and the EPO-001 cap must agree"
        );
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
        assert_eq!(court_day_limit(issued).unwrap(), friday_ends);
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
        assert_eq!(court_day_limit(thursday).unwrap(), at(2026, 9, 12, 7));
        assert_eq!(
            latest_expiry(thursday).unwrap(),
            thursday + Duration::days(7)
        );
        // Saturday before Thanksgiving 2026: Mon–Wed, Mon 30 Nov, Tue 1 Dec.
        let saturday = at(2026, 11, 21, 18);
        assert_eq!(court_day_limit(saturday).unwrap(), at(2026, 12, 2, 8));
        assert_eq!(
            latest_expiry(saturday).unwrap(),
            saturday + Duration::days(7)
        );
    }

    #[test]
    fn the_day_of_issuance_is_a_california_day() {
        // Sunday 4 October 2026 at 23:00 PDT is Monday 06:00 UTC: still a Sunday issuance.
        let late_sunday = at(2026, 10, 5, 6);
        assert_eq!(court_day_limit(late_sunday).unwrap(), at(2026, 10, 10, 7));
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
