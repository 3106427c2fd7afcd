//! When and for how long a domestic violence order may be renewed (Fam. Code 6345(a);
//! docs/law/durations.md#renewal): on a request filed in the 3 months before the order expires,
//! for 5 years or more or permanently, and never once the order has expired.
use chrono::{DateTime, Months, NaiveDate, Utc};

use super::Invalid;

const CITE: &str = "Fam. Code 6345(a)";

/// What a DV renewal is checked against.
#[derive(Debug, Clone, Copy)]
pub struct DvRenewal {
    /// Expiry of the order being renewed (`None`: it is already permanent).
    pub old_expires_at: Option<DateTime<Utc>>,
    /// When the renewal order is issued.
    pub issued_at: DateTime<Utc>,
    /// New expiry (`None`: permanent).
    pub expires_at: Option<DateTime<Utc>>,
    /// The date the request for renewal was filed (`requestFiledOn`).
    pub request_filed_on: Option<NaiveDate>,
}

/// Checks a DV renewal against Fam. Code 6345(a).
pub fn check_dv_renewal(r: DvRenewal) -> Result<(), Invalid> {
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
                "the order expired on {}; an expired order cannot be renewed, a new order must be sought ({CITE})",
                old_expiry.format("%Y-%m-%d %H:%M UTC")
            ),
        ));
    }
    let Some(filed) = r.request_filed_on else {
        return Err(Invalid::new(
            "requestFiledOn",
            format!(
                "a domestic violence renewal needs the date the request was filed; it must be filed in the 3 months before expiry ({CITE})"
            ),
        ));
    };
    let expiry_day = old_expiry.date_naive();
    let window_opens = expiry_day
        .checked_sub_months(Months::new(3))
        .unwrap_or(NaiveDate::MIN);
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
                "the request must be filed in the 3 months before the order expires, {window_opens} to {expiry_day} ({CITE})"
            ),
        ));
    }
    if let Some(exp) = r.expires_at {
        let shortest = r
            .issued_at
            .date_naive()
            .checked_add_months(Months::new(60))
            .unwrap_or(NaiveDate::MAX);
        if exp.date_naive() < shortest {
            return Err(Invalid::new(
                "expiresAt",
                format!(
                    "a domestic violence order is renewed for 5 years or more (until {shortest} at the earliest) or permanently ({CITE})"
                ),
            ));
        }
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
    fn base() -> DvRenewal {
        DvRenewal {
            old_expires_at: Some(at(2026, 6, 30)),
            issued_at: at(2026, 6, 1),
            expires_at: Some(at(2031, 6, 1)),
            request_filed_on: day(2026, 5, 1),
        }
    }

    fn field(r: DvRenewal) -> String {
        check_dv_renewal(r).unwrap_err().field
    }

    #[test]
    fn five_years_or_permanent() {
        assert!(check_dv_renewal(base()).is_ok());
        assert!(
            check_dv_renewal(DvRenewal {
                expires_at: None,
                ..base()
            })
            .is_ok()
        );
        let short = DvRenewal {
            expires_at: Some(at(2031, 5, 31)),
            ..base()
        };
        let err = check_dv_renewal(short).unwrap_err();
        assert_eq!(err.field, "expiresAt");
        assert!(err.message.contains("6345(a)"), "{}", err.message);
    }

    #[test]
    fn request_in_the_three_months_before_expiry() {
        assert!(
            check_dv_renewal(DvRenewal {
                request_filed_on: day(2026, 3, 30),
                ..base()
            })
            .is_ok()
        );
        for filed in [day(2026, 3, 29), day(2025, 1, 1)] {
            let r = DvRenewal {
                request_filed_on: filed,
                ..base()
            };
            assert_eq!(field(r), "requestFiledOn");
        }
        let missing = DvRenewal {
            request_filed_on: None,
            ..base()
        };
        let err = check_dv_renewal(missing).unwrap_err();
        assert_eq!(err.field, "requestFiledOn");
        assert!(err.message.contains("filed"), "{}", err.message);
        let after_order = DvRenewal {
            request_filed_on: day(2026, 6, 2),
            ..base()
        };
        assert_eq!(field(after_order), "requestFiledOn");
    }

    #[test]
    fn expired_or_permanent_orders_are_not_renewed() {
        let expired = DvRenewal {
            issued_at: at(2026, 7, 1),
            expires_at: Some(at(2031, 7, 1)),
            request_filed_on: day(2026, 6, 1),
            ..base()
        };
        let err = check_dv_renewal(expired).unwrap_err();
        assert_eq!(err.field, "issuedAt");
        assert!(err.message.contains("expired"), "{}", err.message);
        let permanent = DvRenewal {
            old_expires_at: None,
            ..base()
        };
        assert_eq!(field(permanent), "orderId");
    }
}
