//! When and for how long an order may be renewed, by the renewal row of its family in the rules
//! table (`domain::rules`): a domestic violence order after hearing on a request filed in the 3
//! months before it expires, for 5 years or more or permanently, and never once it has expired
//! (Fam. Code 6345(a); docs/law/durations.md#renewal).
use chrono::{DateTime, NaiveDate, Utc};

use super::Invalid;
use super::order_rules::Limit;
use super::rules::RenewalRule;

/// What a renewal is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Renewal {
    /// Expiry of the order being renewed (`None`: it is already permanent).
    pub old_expires_at: Option<DateTime<Utc>>,
    /// When the renewal order is issued.
    pub issued_at: DateTime<Utc>,
    /// New expiry (`None`: permanent).
    pub expires_at: Option<DateTime<Utc>>,
    /// The date the request for renewal was filed (`requestFiledOn`).
    pub request_filed_on: Option<NaiveDate>,
}

/// Checks a renewal's request and shortest length against the family's renewal rule.
pub fn check_renewal(rule: &RenewalRule, r: Renewal) -> Result<(), Invalid> {
    let cite = rule.source.as_str();
    if let Some(window) = rule.request_window {
        check_request(window, cite, r)?;
    }
    if let (Some(min), Some(exp)) = (rule.min, r.expires_at) {
        let shortest = min
            .latest(r.issued_at)
            .map_or(NaiveDate::MAX, |t| t.date_naive());
        if exp.date_naive() < shortest {
            let permanently = if rule.max == Limit::Unlimited {
                " or permanently"
            } else {
                ""
            };
            return Err(Invalid::new(
                "expiresAt",
                format!(
                    "a {} order is renewed for {} or more (until {shortest} at the earliest){permanently} ({cite})",
                    rule.family.as_db(),
                    min.describe()
                ),
            ));
        }
    }
    Ok(())
}

/// The request must be filed in the window before expiry, and the order must not have expired.
fn check_request(window: Limit, cite: &str, r: Renewal) -> Result<(), Invalid> {
    let Some(old_expiry) = r.old_expires_at else {
        return Err(Invalid::new(
            "orderId",
            "the order is permanent; there is nothing to renew",
        ));
    };
    if r.issued_at >= old_expiry {
        return Err(Invalid::new(
            "issuedAt",
            format!(
                "the order expired on {}; an expired order cannot be renewed, a new order must be sought ({cite})",
                old_expiry.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    let Some(filed) = r.request_filed_on else {
        return Err(Invalid::new(
            "requestFiledOn",
            format!(
                "this renewal needs the date the request was filed; it must be filed in the {} before expiry ({cite})",
                window.describe()
            ),
        ));
    };
    let expiry_day = old_expiry.date_naive();
    let window_opens = window.before(expiry_day);
    if filed > r.issued_at.date_naive() {
        return Err(Invalid::new(
            "requestFiledOn",
            "the request cannot be filed after the renewal order was issued",
        ));
    }
    if filed < window_opens || filed > expiry_day {
        return Err(Invalid::new(
            "requestFiledOn",
            format!(
                "the request must be filed in the {} before the order expires, {window_opens} to {expiry_day} ({cite})",
                window.describe()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 17, 0, 0).unwrap()
    }
    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    /// An order expiring 2026-06-30, renewed 2026-06-01 on a request of 2026-05-01.
    fn base() -> Renewal {
        Renewal {
            old_expires_at: Some(at(2026, 6, 30)),
            issued_at: at(2026, 6, 1),
            expires_at: Some(at(2031, 6, 1)),
            request_filed_on: day(2026, 5, 1),
        }
    }

    fn check(r: Renewal) -> Result<(), Invalid> {
        let rule = crate::domain::order_rules::renewal_rule(
            crate::domain::order_rules::OrderFamily::Dv,
            r.issued_at,
        )
        .unwrap();
        check_renewal(rule, r)
    }

    fn field(r: Renewal) -> String {
        check(r).unwrap_err().field
    }

    #[test]
    fn five_years_or_permanent() {
        assert!(check(base()).is_ok());
        assert!(
            check(Renewal {
                expires_at: None,
                ..base()
            })
            .is_ok()
        );
        let short = Renewal {
            expires_at: Some(at(2031, 5, 31)),
            ..base()
        };
        let err = check(short).unwrap_err();
        assert_eq!(err.field, "expiresAt");
        assert!(err.message.contains("6345(a)"), "{}", err.message);
    }

    #[test]
    fn request_in_the_three_months_before_expiry() {
        assert!(
            check(Renewal {
                request_filed_on: day(2026, 3, 30),
                ..base()
            })
            .is_ok()
        );
        for filed in [day(2026, 3, 29), day(2025, 1, 1)] {
            let r = Renewal {
                request_filed_on: filed,
                ..base()
            };
            assert_eq!(field(r), "requestFiledOn");
        }
        let missing = Renewal {
            request_filed_on: None,
            ..base()
        };
        let err = check(missing).unwrap_err();
        assert_eq!(err.field, "requestFiledOn");
        assert!(err.message.contains("filed"), "{}", err.message);
        let after_order = Renewal {
            request_filed_on: day(2026, 6, 2),
            ..base()
        };
        assert_eq!(field(after_order), "requestFiledOn");
    }

    #[test]
    fn expired_or_permanent_orders_are_not_renewed() {
        let expired = Renewal {
            issued_at: at(2026, 7, 1),
            expires_at: Some(at(2031, 7, 1)),
            request_filed_on: day(2026, 6, 1),
            ..base()
        };
        let err = check(expired).unwrap_err();
        assert_eq!(err.field, "issuedAt");
        assert!(err.message.contains("expired"), "{}", err.message);
        let permanent = Renewal {
            old_expires_at: None,
            ..base()
        };
        assert_eq!(field(permanent), "orderId");
    }
}
