//! Firearm relinquishment (docs/law/firearms.md): a person restrained by a domestic violence
//! order (or an EPO) must surrender their firearms within 24 hours of being served and file the
//! receipt with the court within 48 hours of service (Fam. Code 6389(c)); the same holds for
//! civil harassment, workplace violence, school violence and elder abuse orders (CCP 527.9(b))
//! and for gun violence restraining orders (PC 18120(b)).
use chrono::{DateTime, Duration, Utc};

use super::Invalid;
use super::codes::code_enum;
use super::order_rules::OrderFamily;

/// Hours after service within which the firearms are surrendered.
pub const SURRENDER_HOURS: i64 = 24;
/// Hours after service within which the receipt is filed with the court.
pub const RECEIPT_HOURS: i64 = 48;

code_enum!(
    /// The court's finding on relinquishment.
    FirearmFinding {
        /// The restrained person relinquished their firearms as ordered.
        Complied => "complied",
        /// The court found the restrained person had no firearms to relinquish.
        NoFirearms => "no_firearms",
        /// The court found the restrained person did not relinquish as ordered.
        NotComplied => "not_complied",
    }
);

/// The law that orders relinquishment for an order of `family`, and the form the receipt is
/// filed on; `None` for families this registry does not track relinquishment for (criminal,
/// juvenile and retail theft orders, whose receipt forms are not confirmed, and out-of-state
/// orders, enforced where they were issued).
pub fn relinquishment(family: OrderFamily) -> Option<(&'static str, &'static str)> {
    match family {
        OrderFamily::Dv | OrderFamily::Epo => Some(("Fam. Code 6389(c)", "DV-800")),
        OrderFamily::Ch => Some(("CCP 527.9(b)", "CH-800")),
        OrderFamily::Wv => Some(("CCP 527.9(b)", "WV-800")),
        OrderFamily::Sv => Some(("CCP 527.9(b)", "SV-800")),
        OrderFamily::Ea => Some(("CCP 527.9(b); WIC 15657.03", "EA-800")),
        OrderFamily::Gv => Some(("PC 18120(b)", "GV-800")),
        OrderFamily::Cr | OrderFamily::Jv | OrderFamily::Rt | OrderFamily::OutOfState => None,
    }
}

/// When the firearms are due and when the receipt is due, counted from service.
pub fn due_times(served_at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (
        served_at + Duration::hours(SURRENDER_HOURS),
        served_at + Duration::hours(RECEIPT_HOURS),
    )
}

/// The latest service time whose receipt is overdue at `at`.
pub fn served_by_for_overdue(at: DateTime<Utc>) -> DateTime<Utc> {
    at - Duration::hours(RECEIPT_HOURS)
}

/// Overdue at `at`: served, the receipt's time has passed, and neither a receipt nor a finding
/// is recorded.
pub fn overdue(
    served_at: Option<DateTime<Utc>>,
    receipt_filed: bool,
    finding: Option<FirearmFinding>,
    at: DateTime<Utc>,
) -> bool {
    match served_at {
        Some(s) if !receipt_filed && finding.is_none() => at > due_times(s).1,
        _ => false,
    }
}

/// Checks a receipt for an order of `family`: relinquishment is ordered and tracked, the receipt is on the
/// family's form, and it is not filed before the order was issued or in the future.
pub fn check_receipt(
    family: OrderFamily,
    ordered: bool,
    form: &str,
    filed_at: DateTime<Utc>,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, Invalid> {
    let (law, expected) = applicable(family, ordered)?;
    let form = form.trim().to_ascii_uppercase();
    if form != expected {
        return Err(Invalid::new(
            "receiptForm",
            format!(
                "the receipt for a {} order is filed on {expected} ({law})",
                family.as_db().to_ascii_uppercase()
            ),
        ));
    }
    if filed_at < issued_at {
        return Err(Invalid::new(
            "receiptFiledAt",
            "the receipt is filed after the order was issued",
        ));
    }
    if filed_at > now {
        return Err(Invalid::new(
            "receiptFiledAt",
            "the filing time is in the future",
        ));
    }
    Ok(form)
}

/// The law of an order of `family` whose terms order relinquishment (`ordered`), or why
/// relinquishment is not tracked for it.
pub fn applicable(
    family: OrderFamily,
    ordered: bool,
) -> Result<(&'static str, &'static str), Invalid> {
    if !ordered {
        return Err(Invalid::new(
            "orderId",
            "the order does not order firearm relinquishment (conditions.firearmRelinquishment)",
        ));
    }
    relinquishment(family).ok_or_else(|| {
        Invalid::new(
            "orderId",
            format!(
                "firearm relinquishment is not tracked for {} orders (docs/law/firearms.md)",
                family.as_db().to_ascii_uppercase()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    #[test]
    fn surrender_in_24_hours_and_receipt_in_48_after_service() {
        assert_eq!(due_times(t(2, 15)), (t(3, 15), t(4, 15)));
    }

    #[test]
    fn overdue_once_the_receipt_time_passes_without_receipt_or_finding() {
        let served = Some(t(2, 15));
        assert!(
            !overdue(None, false, None, t(20, 0)),
            "not served: nothing is due"
        );
        assert!(
            !overdue(served, false, None, t(4, 15)),
            "due, not yet overdue"
        );
        assert!(overdue(served, false, None, t(4, 16)));
        assert!(!overdue(served, true, None, t(9, 0)));
        let none = Some(FirearmFinding::NoFirearms);
        assert!(!overdue(served, false, none, t(9, 0)));
    }

    #[test]
    fn receipts_are_on_the_familys_form() {
        let (issued, now) = (t(1, 9), t(5, 9));
        assert_eq!(
            check_receipt(OrderFamily::Dv, true, "dv-800", t(3, 9), issued, now),
            Ok("DV-800".to_owned())
        );
        assert_eq!(
            check_receipt(OrderFamily::Epo, true, "DV-800", t(3, 9), issued, now),
            Ok("DV-800".to_owned())
        );
        let gv = check_receipt(OrderFamily::Gv, true, "DV-800", t(3, 9), issued, now).unwrap_err();
        assert_eq!(gv.field, "receiptForm");
        assert!(gv.message.contains("GV-800") && gv.message.contains("18120"));
        let early = check_receipt(OrderFamily::Ch, true, "CH-800", t(1, 8), issued, now);
        assert_eq!(early.unwrap_err().field, "receiptFiledAt");
        let future = check_receipt(OrderFamily::Wv, true, "WV-800", t(6, 9), issued, now);
        assert_eq!(future.unwrap_err().field, "receiptFiledAt");
        let cr = check_receipt(OrderFamily::Cr, true, "DV-800", t(3, 9), issued, now);
        assert_eq!(cr.unwrap_err().field, "orderId");
        let not_ordered = check_receipt(OrderFamily::Dv, false, "DV-800", t(3, 9), issued, now);
        assert!(
            not_ordered
                .unwrap_err()
                .message
                .contains("firearmRelinquishment")
        );
    }

    #[test]
    fn every_family_is_decided() {
        for f in OrderFamily::ALL {
            if let Some((law, form)) = relinquishment(*f) {
                assert!(form.ends_with("-800"), "{f:?}");
                assert!(law.contains("6389") || law.contains("527.9") || law.contains("18120"));
            }
        }
    }
}
