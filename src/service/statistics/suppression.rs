//! Small-cell suppression that subtraction cannot undo. Every count a caller can be shown for a
//! month is a cell of one table: counties × order families, with each county's total, each
//! family's total and the month's total (a county-narrowed token's FAMILY rows are that county's
//! interior cells; the statewide COUNTY rows are the county totals; MONTH is the grand total).
//! Cells under `SMALL_CELL` are withheld (primary suppression); then, for every published sum
//! (a county's families add up to its total, the counties to the month, the families to the
//! month, served and unserved to issued), more cells are withheld until no such sum holds
//! exactly one withheld cell, or withheld cells totalling under `SMALL_CELL` (complementary
//! suppression). The whole statewide table is protected once, whatever the caller's scope, so
//! two callers with different scopes are shown cells of the same protected table.
use std::collections::BTreeMap;

use super::SMALL_CELL;

/// The counted columns, in the order of [`Counts`].
pub const COLUMNS: usize = 6;
/// Column indexes.
pub const ISSUED: usize = 0;
pub const ACTIVE: usize = 1;
pub const EXPIRED: usize = 2;
pub const SERVED: usize = 3;
pub const UNSERVED: usize = 4;
pub const WITH_CONFLICTS: usize = 5;

/// One position's counts, by column.
pub type Counts = [i64; COLUMNS];

/// A published count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    Shown(i64),
    /// Under `SMALL_CELL`.
    Small,
    /// At least `SMALL_CELL`, withheld so that a small count elsewhere cannot be worked out.
    Withheld,
}

impl Cell {
    /// The count, when shown.
    pub fn value(self) -> Option<i64> {
        match self {
            Cell::Shown(n) => Some(n),
            Cell::Small | Cell::Withheld => None,
        }
    }

    /// How a table shows it: the count, `<5`, or `*` for a complementary suppression.
    pub fn display(self) -> String {
        match self {
            Cell::Shown(n) => n.to_string(),
            Cell::Small => format!("<{SMALL_CELL}"),
            Cell::Withheld => "*".to_owned(),
        }
    }

    /// The sum of cells a caller's scope adds up (several counties): shown only when every
    /// part is, so the sum tells nothing the parts do not.
    pub fn sum(cells: impl IntoIterator<Item = Cell>) -> Cell {
        let mut total = 0;
        for c in cells {
            match c {
                Cell::Shown(v) => total += v,
                Cell::Small | Cell::Withheld => return Cell::Withheld,
            }
        }
        Cell::Shown(total)
    }
}

/// One month's table, before and after protection.
#[derive(Debug, Default)]
pub struct Table {
    /// (county, family) → counts, only positions with at least one order.
    pub interior: BTreeMap<(String, String), Counts>,
}

/// The protected cells of a [`Table`], each a row of six columns.
#[derive(Debug, Default)]
pub struct Protected {
    pub interior: BTreeMap<(String, String), [Cell; COLUMNS]>,
    pub counties: BTreeMap<String, [Cell; COLUMNS]>,
    pub families: BTreeMap<String, [Cell; COLUMNS]>,
    /// `None` for a month without orders.
    pub total: Option<[Cell; COLUMNS]>,
}

/// A cell of the flattened table: its true count and whether it is withheld.
struct Slot {
    value: i64,
    small: bool,
    withheld: bool,
}

impl Table {
    /// Adds one order's counts at (county, family).
    pub fn add(&mut self, county: &str, family: &str, counts: Counts) {
        let cell = self
            .interior
            .entry((county.to_owned(), family.to_owned()))
            .or_default();
        for (c, n) in cell.iter_mut().zip(counts) {
            *c += n;
        }
    }

    /// Protects the table: primary, then complementary suppression.
    pub fn protect(&self) -> Protected {
        let mut counties: BTreeMap<&str, Counts> = BTreeMap::new();
        let mut families: BTreeMap<&str, Counts> = BTreeMap::new();
        let mut total: Counts = [0; COLUMNS];
        for ((county, family), counts) in &self.interior {
            for (i, n) in counts.iter().enumerate() {
                counties.entry(county).or_default()[i] += n;
                families.entry(family).or_default()[i] += n;
                total[i] += n;
            }
        }
        // Positions: interior cells, then county totals, family totals, the month's total.
        let mut positions: Vec<Counts> = self.interior.values().copied().collect();
        let county_pos: BTreeMap<&str, usize> = counties
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (*c, positions.len() + i))
            .collect();
        positions.extend(counties.values().copied());
        let family_pos: BTreeMap<&str, usize> = families
            .iter()
            .enumerate()
            .map(|(i, (f, _))| (*f, positions.len() + i))
            .collect();
        positions.extend(families.values().copied());
        let total_pos = positions.len();
        positions.push(total);

        // The published sums as (whole, parts) positions, each within one column.
        let mut sums: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut by_county: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut by_family: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (p, (county, family)) in self.interior.keys().enumerate() {
            by_county.entry(county).or_default().push(p);
            by_family.entry(family).or_default().push(p);
        }
        for (county, parts) in by_county {
            sums.push((county_pos[county], parts));
        }
        for (family, parts) in by_family {
            sums.push((family_pos[family], parts));
        }
        sums.push((total_pos, county_pos.values().copied().collect()));
        sums.push((total_pos, family_pos.values().copied().collect()));

        let slot = |p: usize, col: usize| p * COLUMNS + col;
        let mut slots: Vec<Slot> = positions
            .iter()
            .flat_map(|counts| {
                counts.iter().map(|&value| Slot {
                    value,
                    small: value < SMALL_CELL,
                    withheld: value < SMALL_CELL,
                })
            })
            .collect();
        // Every relation as slots: each column's sums, and served + unserved = issued.
        let mut relations: Vec<Relation> = Vec::new();
        for col in 0..COLUMNS {
            for (whole, parts) in &sums {
                relations.push(Relation {
                    whole: slot(*whole, col),
                    parts: parts.iter().map(|&p| slot(p, col)).collect(),
                });
            }
        }
        for p in 0..positions.len() {
            relations.push(Relation {
                whole: slot(p, ISSUED),
                parts: vec![slot(p, SERVED), slot(p, UNSERVED)],
            });
        }
        complement(&mut slots, &relations);

        let cells = |p: usize| -> [Cell; COLUMNS] {
            std::array::from_fn(|col| {
                let s = &slots[slot(p, col)];
                match (s.small, s.withheld) {
                    (true, _) => Cell::Small,
                    (false, true) => Cell::Withheld,
                    (false, false) => Cell::Shown(s.value),
                }
            })
        };
        Protected {
            interior: self
                .interior
                .keys()
                .enumerate()
                .map(|(p, k)| (k.clone(), cells(p)))
                .collect(),
            counties: county_pos
                .iter()
                .map(|(c, &p)| ((*c).to_owned(), cells(p)))
                .collect(),
            families: family_pos
                .iter()
                .map(|(f, &p)| ((*f).to_owned(), cells(p)))
                .collect(),
            total: (!self.interior.is_empty()).then(|| cells(total_pos)),
        }
    }
}

/// A published sum: `whole` is the sum of `parts`.
struct Relation {
    whole: usize,
    parts: Vec<usize>,
}

/// Whether a relation, with `withheld` telling which of its cells are withheld, lets a caller
/// work out a withheld count: exactly one withheld cell is pinned by the others; withheld parts
/// under a shown whole add up to a known sum, which must not be small. (A withheld whole with
/// withheld parts gives only their difference.)
pub fn leaks(whole: (bool, i64), parts: &[(bool, i64)]) -> bool {
    let withheld_parts: Vec<i64> = parts.iter().filter(|p| p.0).map(|p| p.1).collect();
    let n = withheld_parts.len() + usize::from(whole.0);
    match n {
        0 => false,
        1 => true,
        _ => !whole.0 && withheld_parts.iter().sum::<i64>() < SMALL_CELL,
    }
}

/// Withholds more cells until no relation leaks; each step withholds the relation's smallest
/// shown part (the least information lost), or its whole when no part is shown, so the result
/// is the same on every run.
fn complement(slots: &mut [Slot], relations: &[Relation]) {
    loop {
        let mut changed = false;
        for r in relations {
            let cell = |s: usize| (slots[s].withheld, slots[s].value);
            let parts: Vec<(bool, i64)> = r.parts.iter().map(|&s| cell(s)).collect();
            if !leaks(cell(r.whole), &parts) {
                continue;
            }
            let pick = r
                .parts
                .iter()
                .copied()
                .filter(|&s| !slots[s].withheld)
                .min_by_key(|&s| (slots[s].value, s))
                .or_else(|| (!slots[r.whole].withheld).then_some(r.whole));
            if let Some(s) = pick {
                slots[s].withheld = true;
                changed = true;
            }
        }
        if !changed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(issued: i64) -> Counts {
        // All active and served, no conflicts: only the issued/active/served columns matter.
        [issued, issued, 0, issued, 0, 0]
    }

    /// Every relation the table publishes, checked from the outside: no sum of shown cells
    /// pins down a withheld one, and withheld cells of one sum never total under 5.
    fn assert_safe(t: &Table, p: &Protected) {
        let total = p.total.expect("total");
        let check = |parts: Vec<(Cell, i64)>, whole: (Cell, i64), what: &str| {
            let hidden = |(c, v): (Cell, i64)| (c.value().is_none(), v);
            let ps: Vec<(bool, i64)> = parts.iter().copied().map(hidden).collect();
            assert!(
                !leaks(hidden(whole), &ps),
                "{what}: whole {whole:?} parts {parts:?}"
            );
        };
        let truth_c = |c: &str| -> i64 {
            t.interior
                .iter()
                .filter(|((cc, _), _)| cc == c)
                .map(|(_, v)| v[ISSUED])
                .sum()
        };
        let truth_f = |f: &str| -> i64 {
            t.interior
                .iter()
                .filter(|((_, ff), _)| ff == f)
                .map(|(_, v)| v[ISSUED])
                .sum()
        };
        let grand: i64 = t.interior.values().map(|v| v[ISSUED]).sum();
        for (county, cells) in &p.counties {
            let parts = p
                .interior
                .iter()
                .filter(|((c, _), _)| c == county)
                .map(|(k, cs)| (cs[ISSUED], t.interior[k][ISSUED]))
                .collect();
            check(parts, (cells[ISSUED], truth_c(county)), county);
        }
        for (family, cells) in &p.families {
            let parts = p
                .interior
                .iter()
                .filter(|((_, f), _)| f == family)
                .map(|(k, cs)| (cs[ISSUED], t.interior[k][ISSUED]))
                .collect();
            check(parts, (cells[ISSUED], truth_f(family)), family);
        }
        let parts = p
            .counties
            .iter()
            .map(|(c, cs)| (cs[ISSUED], truth_c(c)))
            .collect();
        check(parts, (total[ISSUED], grand), "counties");
        let parts = p
            .families
            .iter()
            .map(|(f, cs)| (cs[ISSUED], truth_f(f)))
            .collect();
        check(parts, (total[ISSUED], grand), "families");
    }

    #[test]
    fn a_lone_small_county_cannot_be_subtracted_from_the_month() {
        let mut t = Table::default();
        t.add("Alameda", "DV", counts(20));
        t.add("Butte", "DV", counts(9));
        t.add("Colusa", "DV", counts(2));
        let p = t.protect();
        assert_eq!(p.counties["Colusa"][ISSUED], Cell::Small);
        assert_eq!(
            p.counties["Butte"][ISSUED],
            Cell::Withheld,
            "the smallest other county is withheld with it"
        );
        assert_eq!(p.counties["Alameda"][ISSUED], Cell::Shown(20));
        assert_eq!(p.total.expect("total")[ISSUED], Cell::Shown(31));
        assert_safe(&t, &p);
    }

    #[test]
    fn a_county_narrowed_family_breakdown_is_protected_against_the_county_total() {
        let mut t = Table::default();
        t.add("Alameda", "DV", counts(30));
        t.add("Alameda", "CH", counts(3));
        t.add("Butte", "DV", counts(12));
        t.add("Butte", "CH", counts(8));
        t.add("Colusa", "EA", counts(6));
        let p = t.protect();
        let alameda_dv = p.interior[&("Alameda".into(), "DV".into())][ISSUED];
        let alameda_ch = p.interior[&("Alameda".into(), "CH".into())][ISSUED];
        assert_eq!(alameda_ch, Cell::Small);
        assert!(
            alameda_dv.value().is_none() || p.counties["Alameda"][ISSUED].value().is_none(),
            "Alameda's total minus its DV count would give its CH count"
        );
        assert_safe(&t, &p);
    }

    #[test]
    fn served_and_unserved_are_withheld_with_their_complement() {
        let mut t = Table::default();
        t.add("Alameda", "DV", [12, 4, 8, 9, 3, 0]);
        t.add("Butte", "DV", [40, 40, 0, 30, 10, 0]);
        let p = t.protect();
        let a = p.interior[&("Alameda".into(), "DV".into())];
        assert_eq!(a[ISSUED], Cell::Shown(12));
        assert_eq!(a[UNSERVED], Cell::Small);
        assert!(
            a[SERVED].value().is_none(),
            "served alone would reveal unserved = 3"
        );
        assert_eq!(a[ACTIVE], Cell::Small);
    }

    #[test]
    fn random_tables_never_leave_a_sum_that_pins_a_withheld_cell() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let counties = ["A", "B", "C", "D", "E", "F"];
        let families = ["DV", "CH", "EA", "WV", "GV"];
        for _ in 0..300 {
            let mut t = Table::default();
            for c in counties {
                for f in families {
                    if rng.random_bool(0.6) {
                        t.add(c, f, counts(rng.random_range(1..15)));
                    }
                }
            }
            if t.interior.is_empty() {
                continue;
            }
            let p = t.protect();
            assert_safe(&t, &p);
        }
    }

    #[test]
    fn sums_of_cells_are_shown_only_when_every_part_is() {
        assert_eq!(Cell::sum([Cell::Shown(5), Cell::Shown(7)]), Cell::Shown(12));
        assert_eq!(Cell::sum([Cell::Shown(5), Cell::Small]), Cell::Withheld);
        assert_eq!(Cell::Withheld.display(), "*");
        assert_eq!(Cell::Small.display(), "<5");
    }
}
