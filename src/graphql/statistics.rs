//! `statistics`: de-identified counts for analysts, small cells suppressed.
use async_graphql::{Context, Object, SimpleObject};
use chrono::{NaiveDate, Utc};

use crate::auth::Permission;
use crate::graphql::access::{Need, caller};
use crate::graphql::{GqlResult, state};
use crate::service::statistics::{self, Cell, Row, SMALL_CELL, StatisticsGroup};

/// A count; counts under 5 are suppressed (`value` null, `display` "<5"), and so are the counts
/// withheld so that a suppressed one cannot be worked out by subtraction (`display` "*").
#[derive(SimpleObject)]
pub struct Count {
    pub value: Option<i64>,
    pub suppressed: bool,
    pub display: String,
}

impl From<Cell> for Count {
    fn from(c: Cell) -> Self {
        Self {
            value: c.value(),
            suppressed: c.value().is_none(),
            display: c.display(),
        }
    }
}

/// Counts for one group (a county, a family or a month). No names, DOBs or case numbers.
#[derive(SimpleObject)]
pub struct StatisticsRow {
    pub group: String,
    /// Orders issued in the period (not counting orders cancelled as entered in error).
    pub issued: Count,
    /// Of those, in force at the end of their month.
    pub active: Count,
    /// Of those, expired by then.
    pub expired: Count,
    pub served: Count,
    pub unserved: Count,
    /// Of those, involved in a conflict found when an order was entered.
    pub with_conflicts: Count,
}

impl From<Row> for StatisticsRow {
    fn from(r: Row) -> Self {
        Self {
            group: r.group,
            issued: r.issued.into(),
            active: r.active.into(),
            expired: r.expired.into(),
            served: r.served.into(),
            unserved: r.unserved.into(),
            with_conflicts: r.with_conflicts.into(),
        }
    }
}

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Orders issued from `from` to `to` (days included, UTC), grouped; de-identified, with
    /// counts under 5 suppressed, and other counts withheld where a sum (of counties, of
    /// families, served and unserved) would give a suppressed one back. Periods are whole,
    /// finished calendar months (`from` a first day, `to` a last day before this month);
    /// COUNTY and FAMILY cover exactly one month, so overlapping periods cannot be subtracted.
    #[graphql(guard = "Need(Permission::ReadDeidentified)")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
        group_by: StatisticsGroup,
    ) -> async_graphql::Result<Vec<StatisticsRow>> {
        let counties = caller(ctx)?.counties.clone();
        let rows = statistics::statistics(
            &state(ctx)?.db,
            from,
            to,
            group_by,
            counties.as_ref(),
            Utc::now(),
        )
        .await
        .gql()?;
        Ok(rows.into_iter().map(StatisticsRow::from).collect())
    }

    /// The smallest count shown.
    #[graphql(guard = "Need(Permission::ReadDeidentified)")]
    async fn statistics_small_cell(&self) -> i64 {
        SMALL_CELL
    }
}
