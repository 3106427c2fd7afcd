//! De-identified statistics for analysts: counts of orders issued in a period, grouped by
//! county, family or month, with small cells suppressed so that no subtraction brings them back
//! (`suppression`). No names, DOBs or case numbers are read. Orders cancelled as entered in
//! error are not counted.
pub mod suppression;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
pub use suppression::Cell;
use suppression::{COLUMNS, Counts, Protected, Table};

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
/// cells a caller can ask for are then for the same month or for disjoint months. Only finished
/// months are counted: a month still filling up would show, asked twice, the orders entered in
/// between.
fn check_period(
    from: NaiveDate,
    to: NaiveDate,
    group: StatisticsGroup,
    today: NaiveDate,
) -> Result<(), Invalid> {
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
    if (to.year(), to.month()) >= (today.year(), today.month()) {
        return Err(Invalid::new(
            "to",
            format!(
                "statistics count finished calendar months: `to` must be in a month before {}",
                today.format("%Y-%m")
            ),
        ));
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

/// One group's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub group: String,
    pub issued: Cell,
    /// In force at the end of the period.
    pub active: Cell,
    /// Expired by the end of the period.
    pub expired: Cell,
    pub served: Cell,
    pub unserved: Cell,
    /// Involved in a conflict found when an order was entered.
    pub with_conflicts: Cell,
}

impl Row {
    fn of(group: String, c: [Cell; COLUMNS]) -> Row {
        use suppression::{ACTIVE, EXPIRED, ISSUED, SERVED, UNSERVED, WITH_CONFLICTS};
        Row {
            group,
            issued: c[ISSUED],
            active: c[ACTIVE],
            expired: c[EXPIRED],
            served: c[SERVED],
            unserved: c[UNSERVED],
            with_conflicts: c[WITH_CONFLICTS],
        }
    }
}

/// The cells a scope of several counties sees: the sums of its counties' cells.
fn sum_rows<'a>(rows: impl Iterator<Item = &'a [Cell; COLUMNS]>) -> Option<[Cell; COLUMNS]> {
    let rows: Vec<&[Cell; COLUMNS]> = rows.collect();
    (!rows.is_empty()).then(|| std::array::from_fn(|col| Cell::sum(rows.iter().map(|r| r[col]))))
}

/// The rows of one month's protected table that a caller with `counties` in scope (`None`:
/// statewide) is shown, grouped by `group`.
fn rows_of(
    month: &str,
    p: &Protected,
    group: StatisticsGroup,
    counties: Option<&BTreeSet<String>>,
) -> Vec<Row> {
    let in_scope = |c: &str| counties.is_none_or(|s| s.contains(c));
    match (group, counties) {
        (StatisticsGroup::County, _) => p
            .counties
            .iter()
            .filter(|(c, _)| in_scope(c))
            .map(|(c, cells)| Row::of(c.clone(), *cells))
            .collect(),
        (StatisticsGroup::Family, None) => p
            .families
            .iter()
            .map(|(f, cells)| Row::of(f.clone(), *cells))
            .collect(),
        (StatisticsGroup::Family, Some(_)) => {
            let families: BTreeSet<&String> = p.interior.keys().map(|(_, f)| f).collect();
            families
                .into_iter()
                .filter_map(|f| {
                    let parts = p
                        .interior
                        .iter()
                        .filter(|((c, ff), _)| ff == f && in_scope(c))
                        .map(|(_, cells)| cells);
                    sum_rows(parts).map(|cells| Row::of(f.clone(), cells))
                })
                .collect()
        }
        (StatisticsGroup::Month, None) => p
            .total
            .map(|cells| Row::of(month.to_owned(), cells))
            .into_iter()
            .collect(),
        (StatisticsGroup::Month, Some(_)) => {
            let parts = p
                .counties
                .iter()
                .filter(|(c, _)| in_scope(c))
                .map(|(_, cells)| cells);
            sum_rows(parts)
                .map(|cells| Row::of(month.to_owned(), cells))
                .into_iter()
                .collect()
        }
    }
}

fn start_of(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// Statistics of orders issued from `from` to `to` (both days included, UTC; whole, finished
/// calendar months, see [`check_period`]) that a caller with `counties` in scope (`None`:
/// statewide) may see. Each month's statewide table is protected whatever the scope, so every
/// scope is shown cells of the same protected table.
pub async fn statistics<C: ConnectionTrait>(
    db: &C,
    from: NaiveDate,
    to: NaiveDate,
    group: StatisticsGroup,
    counties: Option<&BTreeSet<String>>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Row>> {
    check_period(from, to, group, now.date_naive())?;
    let start = start_of(from);
    let end = start_of(to.checked_add_days(Days::new(1)).unwrap_or(to));
    let cohort = Query::select()
        .column(order::Column::Id)
        .from(order::Entity)
        .and_where(order::Column::IssuedAt.gte(start))
        .and_where(order::Column::IssuedAt.lt(end))
        .and_where(order::Column::CancelledAt.is_null())
        .to_owned();
    let orders = order::Entity::find()
        .filter(order::Column::IssuedAt.gte(start))
        .filter(order::Column::IssuedAt.lt(end))
        .filter(order::Column::CancelledAt.is_null())
        .all(db)
        .await?;
    // Served by the end of the order's month (the period's end for its month's cells).
    let services: Vec<(i32, DateTime<Utc>)> = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::OrderId)
        .column(service_record::Column::ServedAt)
        .filter(service_record::Column::OrderId.in_subquery(cohort.clone()))
        .into_tuple::<(i32, DateTime<Utc>)>()
        .all(db)
        .await?;
    let mut first_served: HashMap<i32, DateTime<Utc>> = HashMap::new();
    for (id, at) in services {
        first_served
            .entry(id)
            .and_modify(|t| *t = (*t).min(at))
            .or_insert(at);
    }
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
    let counties_of: HashMap<i32, String> = court::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.county))
        .collect();
    // One table per month; counts as of the end of the cell's month, which is the end of the
    // period for COUNTY and FAMILY (one month) and each month's own end for MONTH.
    let mut months: BTreeMap<String, Table> = BTreeMap::new();
    for o in orders {
        let month_start = o.issued_at.date_naive().with_day(1).unwrap_or(from);
        let at = start_of(month_start + chrono::Months::new(1));
        let mut counts: Counts = [0; COLUMNS];
        counts[suppression::ISSUED] = 1;
        match lifecycle(&o).status_at(at) {
            OrderStatus::Active => counts[suppression::ACTIVE] = 1,
            OrderStatus::Expired => counts[suppression::EXPIRED] = 1,
            _ => {}
        }
        if first_served.get(&o.id).is_some_and(|t| *t <= at) {
            counts[suppression::SERVED] = 1;
        } else {
            counts[suppression::UNSERVED] = 1;
        }
        if conflicted.contains(&o.id) {
            counts[suppression::WITH_CONFLICTS] = 1;
        }
        let county = counties_of.get(&o.court_id).map_or("", String::as_str);
        let family = format!("{:?}", OrderFamily::from_db(&o.family)?).to_ascii_uppercase();
        months
            .entry(o.issued_at.format("%Y-%m").to_string())
            .or_default()
            .add(county, &family, counts);
    }
    Ok(months
        .iter()
        .flat_map(|(month, table)| rows_of(month, &table.protect(), group, counties))
        .collect())
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
        let today = d("2027-01-15");
        assert!(check_period(d("2026-02-01"), d("2026-02-28"), County, today).is_ok());
        assert!(check_period(d("2024-02-01"), d("2024-02-29"), Family, today).is_ok());
        assert!(check_period(d("2026-01-01"), d("2026-12-31"), Month, today).is_ok());
        for (from, to, g, field) in [
            ("2026-01-02", "2026-01-31", Month, "from"),
            ("2026-01-01", "2026-01-30", Month, "to"),
            ("2024-02-01", "2024-02-28", County, "to"),
            ("2026-03-01", "2026-02-28", Month, "to"),
            ("2026-01-01", "2026-02-28", County, "to"),
            ("2026-01-01", "2026-03-31", Family, "to"),
            ("2027-01-01", "2027-01-31", County, "to"),
            ("2026-12-01", "2027-01-31", Month, "to"),
        ] {
            let e = check_period(d(from), d(to), g, today).unwrap_err();
            assert_eq!(e.field, field, "{from}..{to} {g:?}");
        }
    }
}
