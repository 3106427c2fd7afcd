//! What conflicts between two active orders whose parties overlap
//! (docs/law/precedence.md#conflicts, a design synthesis ⚠️ over Fam. Code 6320/6389/6457,
//! CRC 5.445 and 18 U.S.C. 2265(c)). Pure rules over the terms of each order; finding the orders
//! is the service's job.
use super::codes::{ContactLevel, PcoCode, code_enum};
use super::order_rules::OrderFamily;

code_enum!(
    /// One way two orders between the same parties disagree.
    ConflictKind {
        /// No contact in one, peaceful contact or visitation in the other.
        ContactLevel => "contact_level",
        /// Different stay-away distances.
        StayAway => "stay_away",
        /// Exclusive residence / move-out given to different parties.
        Residence => "residence",
        /// Children protected in one, visitation granted to the restrained parent in the other.
        Children => "children",
        /// Firearms prohibited in one and not in the other.
        Firearms => "firearms",
        /// Same parties, same kind of order, same terms: redundant.
        Duplicate => "duplicate",
        /// Each party restrained against the other.
        Mutual => "mutual",
    }
);

/// How the other order's parties overlap this one's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Same restrained person, same protected person.
    Same,
    /// This order's protected person is restrained by the other, against this restrained person.
    Reverse,
}

/// NCIC PCO codes the rules read (docs/law/ncic.md#pco-conditions).
const PCO_RESIDENCE: u8 = 3;
const PCO_NO_COMMUNICATION: u8 = 5;
const PCO_VISITATION: u8 = 6;
const PCO_FIREARMS: u8 = 7;
const PCO_CHILD_CUSTODY: u8 = 9;

/// The terms of one order that conflicts are judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub family: OrderFamily,
    pub contact_level: ContactLevel,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub pco_codes: Vec<PcoCode>,
    /// A protected party is a child of the parties (relationship on the order).
    pub protects_children: bool,
}

impl Terms {
    fn has(&self, code: u8) -> bool {
        self.pco_codes.iter().any(|c| c.number() == code)
    }

    /// No contact at all: the contact level, or PCO 05 "no communication".
    fn no_contact(&self) -> bool {
        self.contact_level == ContactLevel::NoContact || self.has(PCO_NO_COMMUNICATION)
    }

    /// The restrained parent has visitation or custody rights (PCO 06).
    fn grants_visitation(&self) -> bool {
        self.has(PCO_VISITATION)
    }

    fn allows_contact(&self) -> bool {
        self.contact_level == ContactLevel::PeacefulContact || self.grants_visitation()
    }

    /// The protected party gets the residence (move-out order, PCO 03).
    fn gives_residence(&self) -> bool {
        self.move_out || self.has(PCO_RESIDENCE)
    }

    fn protects_the_children(&self) -> bool {
        self.has(PCO_CHILD_CUSTODY) || self.protects_children
    }

    fn prohibits_firearms(&self) -> bool {
        self.firearm_relinquishment || self.has(PCO_FIREARMS)
    }
}

/// One conflict, in words a judge reads, with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: ConflictKind,
    pub detail: String,
    pub citation: &'static str,
}

fn yards(y: Option<i32>) -> String {
    y.map_or("none".to_owned(), |y| format!("{y} yards"))
}

/// Conflicts between `this` order and `other`, whose parties overlap in `direction`.
pub fn compare(this: &Terms, other: &Terms, direction: Direction) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |kind, detail: String, citation| {
        out.push(Finding {
            kind,
            detail,
            citation,
        })
    };
    if direction == Direction::Reverse {
        add(
            ConflictKind::Mutual,
            "each party is restrained against the other (mutual orders)".to_owned(),
            "18 U.S.C. 2265(c): mutual orders get full faith and credit only on a counter-petition \
             with specific findings (docs/law/precedence.md#mutual-orders); Fam. Code 6305 ⚠️",
        );
    }
    if (this.no_contact() && other.allows_contact())
        || (other.no_contact() && this.allows_contact())
    {
        let (nc, pc) = if this.no_contact() {
            ("this order", "the other")
        } else {
            ("the other order", "this one")
        };
        add(
            ConflictKind::ContactLevel,
            format!("{nc} forbids contact; {pc} allows peaceful contact or visitation"),
            "Fam. Code 6457 and 6320: the no-contact order is enforced; CRC 5.445 asks the courts \
             to conform the terms",
        );
    }
    if let (Some(a), Some(b)) = (this.stay_away_yards, other.stay_away_yards)
        && a != b
    {
        add(
            ConflictKind::StayAway,
            format!(
                "stay-away {} here, {} in the other order",
                yards(Some(a)),
                yards(Some(b))
            ),
            "docs/law/precedence.md#conflicts ⚠️: different stay-away distances; the controlling \
             order's applies (Fam. Code 6457)",
        );
    }
    if direction == Direction::Reverse && this.gives_residence() && other.gives_residence() {
        add(
            ConflictKind::Residence,
            "each order gives the residence (move-out) to a different party".to_owned(),
            "Fam. Code 6321 move-out orders ⚠️; docs/law/precedence.md#conflicts",
        );
    }
    let visit_vs_protect =
        |a: &Terms, b: &Terms| a.grants_visitation() && b.protects_the_children();
    if visit_vs_protect(this, other) || visit_vs_protect(other, this) {
        add(
            ConflictKind::Children,
            "one order protects the children while the other grants the restrained parent \
             visitation (PCO 06)"
                .to_owned(),
            "CRC 5.445: visitation under civil orders must not violate the criminal protective \
             order; the family court should conform",
        );
    }
    if this.prohibits_firearms() != other.prohibits_firearms() {
        let which = if this.prohibits_firearms() {
            "this order"
        } else {
            "the other order"
        };
        add(
            ConflictKind::Firearms,
            format!("only {which} prohibits firearms and orders relinquishment"),
            "Fam. Code 6389: the prohibition applies while any order that imposes it is in effect",
        );
    }
    if direction == Direction::Same
        && this.family == other.family
        && this.contact_level == other.contact_level
        && this.stay_away_yards == other.stay_away_yards
        && this.move_out == other.move_out
        && this.firearm_relinquishment == other.firearm_relinquishment
        && this.pco_codes == other.pco_codes
    {
        add(
            ConflictKind::Duplicate,
            "same parties, same kind of order and the same terms".to_owned(),
            "CCPOR goal: avoid redundant orders (docs/law/registry.md#purpose, \
             docs/law/precedence.md#conflicts)",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pco(codes: &[&str]) -> Vec<PcoCode> {
        codes
            .iter()
            .map(|c| PcoCode::parse("p", c).unwrap())
            .collect()
    }

    fn terms() -> Terms {
        Terms {
            family: OrderFamily::Dv,
            contact_level: ContactLevel::NoContact,
            stay_away_yards: Some(100),
            move_out: false,
            firearm_relinquishment: true,
            pco_codes: pco(&["01", "04", "05", "07"]),
            protects_children: false,
        }
    }

    fn kinds(f: &[Finding]) -> Vec<ConflictKind> {
        f.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn identical_terms_are_a_duplicate_only() {
        assert_eq!(
            kinds(&compare(&terms(), &terms(), Direction::Same)),
            vec![ConflictKind::Duplicate]
        );
    }

    #[test]
    fn contact_distance_and_firearms() {
        let other = Terms {
            contact_level: ContactLevel::PeacefulContact,
            stay_away_yards: Some(50),
            firearm_relinquishment: false,
            pco_codes: pco(&["01", "04"]),
            ..terms()
        };
        assert_eq!(
            kinds(&compare(&terms(), &other, Direction::Same)),
            vec![
                ConflictKind::ContactLevel,
                ConflictKind::StayAway,
                ConflictKind::Firearms
            ]
        );
    }

    #[test]
    fn mutual_orders_and_residence() {
        let a = Terms {
            move_out: true,
            ..terms()
        };
        let found = kinds(&compare(&a, &a.clone(), Direction::Reverse));
        assert_eq!(found, vec![ConflictKind::Mutual, ConflictKind::Residence]);
        let same = kinds(&compare(&a, &a.clone(), Direction::Same));
        assert!(!same.contains(&ConflictKind::Residence));
    }

    #[test]
    fn children_protected_against_visitation() {
        let cpo = Terms {
            family: OrderFamily::Cr,
            protects_children: true,
            ..terms()
        };
        let custody = Terms {
            contact_level: ContactLevel::None,
            pco_codes: pco(&["01", "06", "07"]),
            ..terms()
        };
        let found = kinds(&compare(&cpo, &custody, Direction::Same));
        assert!(found.contains(&ConflictKind::Children), "{found:?}");
        assert!(found.contains(&ConflictKind::ContactLevel), "{found:?}");
    }
}
