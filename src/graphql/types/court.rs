//! The `Court` type: an issuing court and the orders it issued.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::court;

use crate::auth::Permission;
use crate::domain::codes::{CourtType, Keyer, ParticipationMode};
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderFamily;
use crate::domain::status::OrderStatus;
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
