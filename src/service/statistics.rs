//! De-identified statistics for analysts: counts of orders issued in a period, grouped by
//! county, family or month, with small cells suppressed. No names, DOBs or case numbers are
//! read. Orders cancelled as entered in error are not counted.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use entities::{court, order, order_conflict, service_record};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::domain::Invalid;
use crate::domain::codes::code_enum;
use crate::domain::order_rules::OrderFamily;
use crate::domain::status::OrderStatus;
use crate::error::AppResult;
use crate::service::reads::lifecycle;

code_enum!(
    /// How statistics are grouped.
    StatisticsGroup {
        /// County of the issuing court.
        County => "county",
        /// Order family.
        Family => "family",
        /// Month of issue (UTC), `YYYY-MM`.
        Month => "month",
    }
);

/// Counts under this are shown as `<5` (small-cell suppression, so a rare combination cannot
/// point to a person; CJIS least privilege for de-identified roles).
pub const SMALL_CELL: i64 = 5;
/// Longest period one request may cover.
pub const MAX_DAYS: u64 = 3660;

/// Checks that a period is made of fixed calendar buckets, so that small-cell suppression
/// cannot be undone by subtracting overlapping periods (21 orders in one range and 20 in a
/// range one day shorter reveal one order on one day). Every cell counts exactly one calendar
/// month: `from` is a month's first day, `to` a month's last day, and a COUNTY or FAMILY
/// grouping covers exactly one month (MONTH grouping gives each month its own cell). Any two
/// cells a caller can ask for are then for the same month or for disjoint months.
fn check_period(from: NaiveDate, to: NaiveDate, group: StatisticsGroup) -> Result<(), Invalid> {
    if from.day() != 1 {
        return Err(Invalid::new(
            "from",
            "must be the first day of a calendar month (statistics count whole calendar months)",
        ));
    }
    if to.succ_opt().is_none_or(|next| next.day() != 1) {
        return Err(Invalid::new(
            "to",
            "must be the last day of a calendar month (statistics count whole calendar months)",
        ));
    }
    if to < from {
        return Err(Invalid::new("to", "the period ends before it starts"));
    }
    let one_month = (from.year(), from.month()) == (to.year(), to.month());
    if group != StatisticsGroup::Month && !one_month {
        return Err(Invalid::new(
            "to",
            "COUNTY and FAMILY statistics cover exactly one calendar month: `to` must be the \
             last day of the month `from` starts (use MONTH grouping for longer periods)",
        ));
    }
    if from
        .checked_add_days(Days::new(MAX_DAYS))
        .is_some_and(|m| to > m)
    {
        return Err(Invalid::new(
            "to",
            format!("a period may cover at most {MAX_DAYS} days"),
        ));
    }
    Ok(())
}

/// A count, or `None` when suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell(pub Option<i64>);

impl Cell {
    fn of(n: i64) -> Self {
        Self((n >= SMALL_CELL).then_some(n))
    }

    pub fn display(self) -> String {
        self.0
            .map_or_else(|| format!("<{SMALL_CELL}"), |n| n.to_string())
    }
}

/// One group's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub group: String,
    pub issued: Cell,
    /// In force at the end of the period (or now, if earlier).
    pub active: Cell,
    /// Expired by the end of the period.
    pub expired: Cell,
    pub served: Cell,
    pub unserved: Cell,
    /// Involved in a conflict found when an order was entered.
    pub with_conflicts: Cell,
}

#[derive(Default)]
struct Tally {
    issued: i64,
    active: i64,
    expired: i64,
    served: i64,
    with_conflicts: i64,
}

impl Tally {
    fn row(&self, group: String) -> Row {
        let served = Cell::of(self.served);
        let unserved = Cell::of(self.issued - self.served);
        // served + unserved = issued: suppressing one alone would let it be subtracted back.
        let (served, unserved) = if served.0.is_none() || unserved.0.is_none() {
            (Cell(None), Cell(None))
        } else {
            (served, unserved)
        };
        Row {
            group,
            issued: Cell::of(self.issued),
            active: Cell::of(self.active),
            expired: Cell::of(self.expired),
            served,
            unserved,
            with_conflicts: Cell::of(self.with_conflicts),
        }
    }
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Statistics of orders issued from `from` to `to` (both days included, UTC; whole calendar
/// months, see [`check_period`]).
pub async fn statistics<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    group: StatisticsGroup,
    court_ids: Option<&[i32]>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Row>> {
    check_period(from, to, group)?;
    let start = start_of(from);
    let end = start_of(to.checked_add_days(Days::new(1)).unwrap_or(to));
    let at = end.min(now);
    let mut cohort = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::IssuedAt.gte(start))
        .and_where(order::Column::IssuedAt.lt(end))
        .and_where(order::Column::CancelledAt.is_null())
        .to_owned();
    let mut q = order::Entity::find()
        .filter(order::Column::IssuedAt.gte(start))
        .filter(order::Column::IssuedAt.lt(end))
        .filter(order::Column::CancelledAt.is_null());
    if let Some(ids) = court_ids {
        cohort.and_where(order::Column::CourtId.is_in(ids.iter().copied()));
        q = q.filter(order::Column::CourtId.is_in(ids.iter().copied()));
    }
    let orders = q.all(db).await?;
    let served: HashSet<i32> = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::OrderId)
        .distinct()
        .filter(service_record::Column::OrderId.in_subquery(cohort.clone()))
        .filter(service_record::Column::ServedAt.lte(at))
        .into_tuple::<i32>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut conflicted: HashSet<i32> = HashSet::new();
    for rows in [
        order_conflict::Entity::find()
            .select_only()
            .column(order_conflict::Column::OrderId)
            .column(order_conflict::Column::OtherOrderId)
            .filter(order_conflict::Column::OrderId.in_subquery(cohort.clone()))
            .into_tuple::<(i32, i32)>()
            .all(db)
            .await?,
        order_conflict::Entity::find()
            .select_only()
            .column(order_conflict::Column::OrderId)
            .column(order_conflict::Column::OtherOrderId)
            .filter(order_conflict::Column::OtherOrderId.in_subquery(cohort))
            .into_tuple::<(i32, i32)>()
            .all(db)
            .await?,
    ] {
        for (a, b) in rows {
            conflicted.insert(a);
            conflicted.insert(b);
        }
    }
    let counties: HashMap<i32, String> = court::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.county))
        .collect();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for o in orders {
        let key = match group {
            StatisticsGroup::County => counties.get(&o.court_id).cloned().unwrap_or_default(),
            StatisticsGroup::Family => {
                format!("{:?}", OrderFamily::from_db(&o.family)?).to_ascii_uppercase()
            }
            StatisticsGroup::Month => o.issued_at.format("%Y-%m").to_string(),
        };
        let t = tallies.entry(key).or_default();
        t.issued += 1;
        match lifecycle(&o).status_at(at) {
            OrderStatus::Active => t.active += 1,
            OrderStatus::Expired => t.expired += 1,
            _ => {}
        }
        if served.contains(&o.id) {
            t.served += 1;
        }
        if conflicted.contains(&o.id) {
            t.with_conflicts += 1;
        }
    }
    Ok(tallies.into_iter().map(|(g, t)| t.row(g)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn periods_are_whole_calendar_months() {
        use StatisticsGroup::{County, Family, Month};
        assert!(check_period(d("2026-02-01"), d("2026-02-28"), County).is_ok());
        assert!(check_period(d("2024-02-01"), d("2024-02-29"), Family).is_ok());
        assert!(check_period(d("2026-01-01"), d("2026-12-31"), Month).is_ok());
        for (from, to, g, field) in [
            ("2026-01-02", "2026-01-31", Month, "from"),
            ("2026-01-01", "2026-01-30", Month, "to"),
            ("2024-02-01", "2024-02-28", County, "to"),
            ("2026-03-01", "2026-02-28", Month, "to"),
            ("2026-01-01", "2026-02-28", County, "to"),
            ("2026-01-01", "2026-03-31", Family, "to"),
        ] {
            let e = check_period(d(from), d(to), g).unwrap_err();
            assert_eq!(e.field, field, "{from}..{to} {g:?}");
        }
    }

    #[test]
    fn small_cells_are_suppressed_with_their_complement() {
        let t = Tally {
            issued: 12,
            active: 4,
            expired: 8,
            served: 9,
            with_conflicts: 0,
        };
        let r = t.row("Alameda".into());
        assert_eq!(r.issued, Cell(Some(12)));
        assert_eq!(r.active.display(), "<5");
        assert_eq!(r.expired, Cell(Some(8)));
        assert_eq!(
            r.served,
            Cell(None),
            "served alone would reveal unserved = 3"
        );
        assert_eq!(r.unserved, Cell(None));
        assert_eq!(r.with_conflicts.display(), "<5");
    }
}
