//! The `Court` type: an issuing court and the orders it issued.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::court;

use crate::auth::Permission;
use crate::domain::codes::{CourtType, Keyer, ParticipationMode};
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderFamily;
use crate::domain::status::OrderStatus;
use crate::feed::status::FeedStatus;
use crate::graphql::GqlResult;
use crate::graphql::access::Need;
use crate::graphql::connection::{OrderConnection, order_connection};
use crate::service::reads::OrderFilter;

/// An issuing court.
pub struct Court(pub court::Model);

#[Object]
impl Court {
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Court, self.0.id))
    }
    /// `SC` + county number for superior courts, `TC` + number for tribal courts.
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn court_type(&self) -> async_graphql::Result<CourtType> {
        CourtType::from_db(&self.0.court_type).gql()
    }
    async fn county(&self) -> &str {
        &self.0.county
    }
    /// Alphabetical county number (01 Alameda … 58 Yuba).
    async fn county_number(&self) -> i32 {
        self.0.county_number
    }
    async fn fips(&self) -> &str {
        &self.0.fips
    }
    async fn ori(&self) -> &str {
        &self.0.ori
    }
    async fn participation_mode(&self) -> async_graphql::Result<ParticipationMode> {
        ParticipationMode::from_db(&self.0.participation_mode).gql()
    }
    /// Who keys this court's orders: its clerks, or a sheriff's agency.
    async fn keyed_by(&self) -> Keyer {
        if self.0.keyed_by_agency_id.is_some() {
            Keyer::Sheriff
        } else {
            Keyer::Court
        }
    }
    /// The ORI of the agency that keys this court's orders (`keyedBy: SHERIFF`).
    async fn keying_agency_ori(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        crate::service::refs::keying_ori(&crate::graphql::state(ctx)?.db, &self.0)
            .await
            .gql()
    }
    /// What this court's case-management feed sent over the last `days` days (1 to 90, default
    /// 14): messages by day and status, and the messages waiting for a predecessor. For the
    /// court's own clerks and bench officers, its feed, and administrators.
    async fn feed_status(
        &self,
        ctx: &Context<'_>,
        days: Option<i32>,
    ) -> async_graphql::Result<FeedStatus> {
        let days = days.unwrap_or(14);
        let c = crate::graphql::access::caller(ctx)?;
        if !c.can(Permission::Administer) && c.court.as_deref() != Some(self.0.code.as_str()) {
            return Err(crate::error::AppError::forbidden(
                crate::graphql::access::rule::OWN_COURT,
                format!(
                    "the feed status of {} is for that court and administrators",
                    self.0.code
                ),
            ))
            .gql();
        }
        if !(1..=90).contains(&days) {
            return Err(crate::error::AppError::invalid("days", "from 1 to 90")).gql();
        }
        let now = Utc::now();
        let since = (now - chrono::Duration::days(i64::from(days) - 1))
            .date_naive()
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        crate::feed::status::of_court(&crate::graphql::state(ctx)?.db, self.0.id, since, now)
            .await
            .gql()
    }
    /// Orders issued by this court, newest first.
    #[graphql(
        guard = "Need(Permission::ReadDeidentified)",
        complexity = "crate::graphql::limits::page_cost(first, crate::service::reads::DEFAULT_PAGE, crate::service::reads::MAX_PAGE, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        as_of: Option<DateTime<Utc>>,
        family: Option<OrderFamily>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        let filter = OrderFilter {
            court_id: Some(self.0.id),
            status,
            as_of,
            family,
            ..Default::default()
        };
        order_connection(ctx, filter, first, after).await
    }
}
