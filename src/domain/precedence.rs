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
                 that protects a person the other orders protect, restrains the same person and \
                 is more restrictive than each of them is enforced first; its precedence covers \
                 only its more restrictive provisions (PC 136.2(c)(1)-(2), \
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

/// The provisions of an order that PC 136.2(c)(1) compares to decide whether an EPO is "more
/// restrictive" than another order between the same parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restrictions {
    pub contact_level: ContactLevel,
    /// Stay-away distance in yards (0: none).
    pub stay_away_yards: i32,
    /// The restrained person must move out (Fam. Code 6321; PCO 03).
    pub move_out: bool,
    /// Firearms must be relinquished (Fam. Code 6389; PCO 07).
    pub firearms: bool,
    /// The restraining PCO conditions ordered, as a bit set of codes 01-05 and 07 (bit n for
    /// code n); 06 and 09 grant rather than restrain, 08 points to free text.
    pub pco_mask: u16,
}

impl Default for Restrictions {
    fn default() -> Self {
        Self {
            contact_level: ContactLevel::None,
            stay_away_yards: 0,
            move_out: false,
            firearms: false,
            pco_mask: 0,
        }
    }
}

/// The PCO conditions that restrain the subject (docs/law/ncic.md#pco-conditions).
const RESTRAINING_PCO: [u8; 6] = [1, 2, 3, 4, 5, 7];

impl Restrictions {
    /// The bit set of the restraining PCO codes among `codes`.
    pub fn pco_mask(codes: impl IntoIterator<Item = u8>) -> u16 {
        codes
            .into_iter()
            .filter(|c| RESTRAINING_PCO.contains(c))
            .fold(0, |m, c| m | (1 << c))
    }

    fn contact_rank(self) -> u8 {
        match self.contact_level {
            ContactLevel::None => 0,
            ContactLevel::PeacefulContact => 1,
            ContactLevel::NoContact => 2,
        }
    }

    /// Whether at least one provision restrains more than `other`'s (PC 136.2(c)(1): the EPO's
    /// precedence covers only its more restrictive provisions, so one is enough for it to have
    /// precedence at all).
    pub fn more_restrictive_than(self, other: Restrictions) -> bool {
        self.contact_rank() > other.contact_rank()
            || self.stay_away_yards > other.stay_away_yards
            || (self.move_out && !other.move_out)
            || (self.firearms && !other.firearms)
            || self.pco_mask & !other.pco_mask != 0
    }
}

/// What precedence looks at in one order; `key` identifies it to the caller. All contenders of
/// one decision are orders between the same parties (same restrained person, a protected person
/// in common): the caller groups them so.
#[derive(Debug, Clone, Copy)]
pub struct Contender<K> {
    pub key: K,
    pub family: OrderFamily,
    pub contact_level: ContactLevel,
    pub issued_at: DateTime<Utc>,
    pub restrictions: Restrictions,
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

/// Whether `epo` has precedence under PC 136.2(c)(1) over the other orders: it restrains the
/// person the others restrain and protects a person they protect (the caller's grouping), and it
/// is more restrictive than each order that is not an EPO. With no such order there is nothing to
/// take precedence over, and the EPO is ranked by the later rules like any civil order.
fn qualifies<K>(epo: &Contender<K>, orders: &[Contender<K>]) -> bool {
    let mut others = orders.iter().filter(|o| !o.is_epo()).peekable();
    others.peek().is_some()
        && others.all(|o| epo.restrictions.more_restrictive_than(o.restrictions))
}

/// The one order that controls enforcement among `orders` (at least one), all between the same
/// parties, however many there are; ties on issue time go to the later contender in the slice
/// (callers put a draft order last).
pub fn controlling<K: Copy>(orders: &[Contender<K>]) -> Option<Decision<K>> {
    if let Some(epo) = last(orders.iter().filter(|o| o.is_epo() && qualifies(o, orders))) {
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
            restrictions: Restrictions {
                contact_level: contact,
                ..Restrictions::default()
            },
        }
    }

    /// An EPO with a stay-away distance, to be more (or less) restrictive than the others.
    fn epo(key: u8, contact: ContactLevel, yards: i32, day: i64) -> Contender<u8> {
        let mut e = c(key, Epo, contact, day);
        e.restrictions.stay_away_yards = yards;
        e
    }

    use ContactLevel::{NoContact, PeacefulContact};
    use OrderFamily::{Ch, Cr, Dv, Epo};

    #[test]
    fn a_more_restrictive_epo_comes_first_even_if_older() {
        // Peaceful contact, but a 100-yard stay-away the others do not order.
        let d = controlling(&[
            epo(1, PeacefulContact, 100, 0),
            c(2, Cr, NoContact, 3),
            c(3, Dv, NoContact, 5),
        ])
        .unwrap();
        assert_eq!((d.controlling, d.rule), (1, PrecedenceRule::Epo));
    }

    /// PC 136.2(c)(1): not every EPO has precedence; one that restrains no more than some other
    /// order between the parties is ranked by the later rules.
    #[test]
    fn an_epo_no_more_restrictive_does_not_take_precedence() {
        let mut cr = c(2, Cr, NoContact, 3);
        cr.restrictions.stay_away_yards = 100;
        let d =
            controlling(&[epo(1, NoContact, 100, 6), cr, c(3, Dv, PeacefulContact, 5)]).unwrap();
        // The EPO (civil, issued last) and the criminal order forbid contact; the criminal wins.
        assert_eq!((d.controlling, d.rule), (2, PrecedenceRule::NoContact));
        // More restrictive than the DV order but not than the criminal one: not enough.
        let d = controlling(&[epo(1, NoContact, 50, 6), cr]).unwrap();
        assert_ne!(d.rule, PrecedenceRule::Epo);
        // EPOs alone: the later rules decide between them.
        let d = controlling(&[epo(1, NoContact, 50, 1), epo(2, PeacefulContact, 100, 2)]).unwrap();
        assert_eq!((d.controlling, d.rule), (1, PrecedenceRule::NoContact));
    }

    #[test]
    fn restrictiveness_is_provision_by_provision() {
        let base = Restrictions {
            contact_level: PeacefulContact,
            stay_away_yards: 100,
            ..Restrictions::default()
        };
        assert!(!base.more_restrictive_than(base));
        let firearms = Restrictions {
            firearms: true,
            ..base
        };
        assert!(firearms.more_restrictive_than(base));
        let pco = Restrictions {
            pco_mask: Restrictions::pco_mask([4, 6, 8, 9]),
            ..base
        };
        assert_eq!(pco.pco_mask, 1 << 4, "06, 08 and 09 do not restrain");
        assert!(pco.more_restrictive_than(base));
        assert!(!base.more_restrictive_than(pco));
    }

    /// Five orders between the same parties: one controlling order, whatever their order.
    #[test]
    fn one_controlling_order_among_many() {
        let orders = [
            c(1, Dv, PeacefulContact, 0),
            c(2, Cr, PeacefulContact, 1),
            c(3, Ch, NoContact, 2),
            c(4, Cr, NoContact, 3),
            c(5, Dv, NoContact, 4),
        ];
        let d = controlling(&orders).unwrap();
        assert_eq!((d.controlling, d.rule), (4, PrecedenceRule::NoContact));
        let mut reversed = orders;
        reversed.reverse();
        assert_eq!(controlling(&reversed).unwrap().controlling, 4);
        // Any pair decided alone can name another order: (2, 5) names 5.
        assert_eq!(controlling(&[orders[1], orders[4]]).unwrap().controlling, 5);
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
