//! Which of several orders between the same parties law enforcement enforces
//! (docs/law/precedence.md#enforcement-order).
//!
//! Fam. Code 6457 (the same hierarchy is in Fam. Code 6383(h) and 6405, and PC 136.2 for
//! criminal orders): (1) an emergency protective order that has precedence under PC 136.2(c)(1);
//! else (2) a no-contact order (as described in Fam. Code 6320); else (3) among civil orders the
//! one issued last; else (4) with civil and criminal orders, the criminal order issued last.
use chrono::{DateTime, Utc};

use super::codes::{ContactLevel, code_enum};
use super::order_rules::OrderFamily;

code_enum!(
    /// The precedence rule that decided which order controls enforcement.
    PrecedenceRule {
        /// Fam. Code 6457, first rule; PC 136.2(c)(1).
        Epo => "epo",
        /// Fam. Code 6457, second rule; Fam. Code 6320.
        NoContact => "no_contact",
        /// Fam. Code 6457, third rule.
        LastIssuedCivil => "last_issued_civil",
        /// Fam. Code 6457, fourth rule; PC 136.2.
        CriminalLastIssued => "criminal_last_issued",
    }
);

impl PrecedenceRule {
    /// The law the rule comes from, for the user to check.
    pub fn citation(self) -> &'static str {
        match self {
            PrecedenceRule::Epo => {
                "Fam. Code 6457 (first rule) and PC 136.2(c)(1): an emergency protective order \
                 that has precedence is enforced first; its precedence covers only its more \
                 restrictive provisions (PC 136.2(c)(1)-(2), \
                 docs/law/precedence.md#when-an-epo-takes-precedence ⚠️)"
            }
            PrecedenceRule::NoContact => {
                "Fam. Code 6457 (second rule): absent a qualifying EPO, a no-contact order \
                 (Fam. Code 6320) is enforced over the other orders"
            }
            PrecedenceRule::LastIssuedCivil => {
                "Fam. Code 6457 (third rule): between civil orders of the same parties, the order \
                 issued last is enforced"
            }
            PrecedenceRule::CriminalLastIssued => {
                "Fam. Code 6457 (fourth rule) and PC 136.2: with civil and criminal orders between \
                 the same parties, the criminal order issued last is enforced"
            }
        }
    }
}

/// What precedence looks at in one order; `key` identifies it to the caller.
#[derive(Debug, Clone, Copy)]
pub struct Contender<K> {
    pub key: K,
    pub family: OrderFamily,
    pub contact_level: ContactLevel,
    pub issued_at: DateTime<Utc>,
}

impl<K> Contender<K> {
    fn is_epo(&self) -> bool {
        self.family == OrderFamily::Epo
    }

    fn is_criminal(&self) -> bool {
        self.family == OrderFamily::Cr
    }

    fn is_no_contact(&self) -> bool {
        self.contact_level == ContactLevel::NoContact
    }
}

/// The controlling order and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<K> {
    pub controlling: K,
    pub rule: PrecedenceRule,
}

/// The latest issued of `it`; ties go to the later one.
fn last<'a, K>(it: impl Iterator<Item = &'a Contender<K>>) -> Option<&'a Contender<K>>
where
    K: 'a,
{
    it.fold(None, |best, o| match best {
        Some(b) if b.issued_at > o.issued_at => Some(b),
        _ => Some(o),
    })
}

/// The order that controls enforcement among `orders` (at least one); ties on issue time go to
/// the later contender in the slice (callers put a draft order last).
pub fn controlling<K: Copy>(orders: &[Contender<K>]) -> Option<Decision<K>> {
    if let Some(epo) = last(orders.iter().filter(|o| o.is_epo())) {
        return Some(Decision {
            controlling: epo.key,
            rule: PrecedenceRule::Epo,
        });
    }
    let no_contact: Vec<Contender<K>> = orders
        .iter()
        .filter(|o| o.is_no_contact())
        .copied()
        .collect();
    // Several no-contact orders: the statute does not rank them; the later rules do.
    let pool: &[Contender<K>] = if no_contact.is_empty() {
        orders
    } else {
        &no_contact
    };
    let (winner, rule) = match last(pool.iter().filter(|o| o.is_criminal())) {
        Some(cr) => (cr, PrecedenceRule::CriminalLastIssued),
        None => (last(pool.iter())?, PrecedenceRule::LastIssuedCivil),
    };
    // The no-contact rule decided only if it set some order aside.
    let rule = if !no_contact.is_empty() && no_contact.len() < orders.len() {
        PrecedenceRule::NoContact
    } else {
        rule
    };
    Some(Decision {
        controlling: winner.key,
        rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(days: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap() + Duration::days(days)
    }

    fn c(key: u8, family: OrderFamily, contact: ContactLevel, day: i64) -> Contender<u8> {
        Contender {
            key,
            family,
            contact_level: contact,
            issued_at: at(day),
        }
    }

    use ContactLevel::{NoContact, PeacefulContact};
    use OrderFamily::{Ch, Cr, Dv, Epo};

    #[test]
    fn epo_first_even_if_older_and_not_no_contact() {
        let d = controlling(&[
            c(1, Epo, PeacefulContact, 0),
            c(2, Cr, NoContact, 3),
            c(3, Dv, NoContact, 5),
        ])
        .unwrap();
        assert_eq!((d.controlling, d.rule), (1, PrecedenceRule::Epo));
    }

    #[test]
    fn no_contact_over_later_peaceful_contact() {
        let d = controlling(&[c(1, Dv, NoContact, 0), c(2, Dv, PeacefulContact, 9)]).unwrap();
        assert_eq!((d.controlling, d.rule), (1, PrecedenceRule::NoContact));
        let d = controlling(&[c(1, Cr, PeacefulContact, 9), c(2, Ch, NoContact, 0)]).unwrap();
        assert_eq!((d.controlling, d.rule), (2, PrecedenceRule::NoContact));
    }

    #[test]
    fn last_issued_civil() {
        let d = controlling(&[c(1, Dv, PeacefulContact, 0), c(2, Ch, PeacefulContact, 4)]).unwrap();
        assert_eq!(
            (d.controlling, d.rule),
            (2, PrecedenceRule::LastIssuedCivil)
        );
        let d = controlling(&[c(1, Dv, NoContact, 0), c(2, Ch, NoContact, 4)]).unwrap();
        assert_eq!(
            (d.controlling, d.rule),
            (2, PrecedenceRule::LastIssuedCivil)
        );
    }

    #[test]
    fn criminal_last_issued_over_later_civil() {
        let d = controlling(&[
            c(1, Cr, PeacefulContact, 0),
            c(2, Cr, PeacefulContact, 2),
            c(3, Dv, PeacefulContact, 8),
        ])
        .unwrap();
        assert_eq!(
            (d.controlling, d.rule),
            (2, PrecedenceRule::CriminalLastIssued)
        );
    }

    #[test]
    fn ties_go_to_the_later_contender() {
        let d = controlling(&[c(1, Dv, NoContact, 1), c(2, Dv, NoContact, 1)]).unwrap();
        assert_eq!(d.controlling, 2);
    }
}
