//! `workList`: a court's orders that need attention (`service::work_lists`), paged like
//! `orders` (newest issued first) and audited with the orders served.
use async_graphql::{Context, Object};
use chrono::Utc;
use entities::court;
use sea_orm::ColumnTrait;

use crate::auth::Permission;
use crate::domain::court_code::CourtCode;
use crate::error::AppError;
use crate::graphql::access::{Need, caller, rule};
use crate::graphql::connection::{OrderConnection, order_connection};
use crate::graphql::{GqlResult, state};
use crate::service::reads::OrderFilter;
use crate::service::refs;
use crate::service::work_lists::{DEFAULT_WITHIN_DAYS, MAX_WITHIN_DAYS, WorkListKind, condition};

/// The court whose list is read: `court`, defaulting to a court role's own court, which it must
/// be; law enforcement names a court in its token's counties.
pub(crate) async fn list_court(
    ctx: &Context<'_>,
    court: Option<String>,
) -> async_graphql::Result<court::Model> {
    let c = caller(ctx)?;
    let code = match (court, &c.court) {
        (Some(code), _) => code,
        (None, Some(own)) => own.clone(),
        (None, None) => {
            return Err(AppError::invalid(
                "court",
                "name the court whose list to read",
            ))
            .gql();
        }
    };
    let code = CourtCode::parse("court", &code)
        .map_err(AppError::from)
        .gql()?;
    if let Some(own) = &c.court
        && own != code.as_str()
    {
        return Err(AppError::forbidden(
            rule::OWN_COURT,
            format!("a court role of {own} reads only that court's lists"),
        ))
        .gql();
    }
    let found = refs::court_by_code(&state(ctx)?.db, code.as_str())
        .await
        .gql()?
        .ok_or_else(|| AppError::invalid("court", format!("no court {}", code.as_str())))
        .gql()?;
    c.require_county(&found.county).gql()?;
    Ok(found)
}

/// Which orders a list is read from: one court, or the courts of a county.
pub(crate) struct ListScope {
    pub court_id: Option<i32>,
    pub court_ids: Option<Vec<i32>>,
    /// The county of the court, or the county named.
    pub county: String,
}

/// The scope named by `court` or `county` (one of them; neither: a court role's own court). A
/// court role reads only its own court, also when it names its court's county; others name a
/// county their token's counties cover.
pub(crate) async fn list_scope(
    ctx: &Context<'_>,
    court: Option<String>,
    county: Option<String>,
) -> async_graphql::Result<ListScope> {
    let Some(county) = county else {
        let found = list_court(ctx, court).await?;
        return Ok(ListScope {
            court_id: Some(found.id),
            court_ids: None,
            county: found.county,
        });
    };
    if court.is_some() {
        return Err(AppError::invalid(
            "county",
            "name a court or a county, not both",
        ))
        .gql();
    }
    let county = crate::domain::county::county("county", &county)
        .map_err(AppError::from)
        .gql()?;
    let c = caller(ctx)?;
    if c.court.is_some() {
        let own = list_court(ctx, None).await?;
        if own.county != county {
            return Err(AppError::forbidden(
                rule::OWN_COURT,
                format!(
                    "a court role of {} reads only that court's lists, not {county} County's",
                    own.code
                ),
            ))
            .gql();
        }
        return Ok(ListScope {
            court_id: Some(own.id),
            court_ids: None,
            county: own.county,
        });
    }
    c.require_county(county).gql()?;
    let one = std::collections::BTreeSet::from([county.to_owned()]);
    let ids = refs::court_ids_in(&state(ctx)?.db, &one).await.gql()?;
    Ok(ListScope {
        court_id: None,
        court_ids: Some(ids),
        county: county.to_owned(),
    })
}

impl ListScope {
    /// The orders of list `kind` at `at` in this scope (the token's county scope is applied on
    /// top, by the reader).
    pub(crate) fn filter(
        &self,
        kind: WorkListKind,
        at: chrono::DateTime<Utc>,
        within_days: i64,
    ) -> OrderFilter {
        let mut extra = condition(kind, at, within_days);
        if let Some(ids) = &self.court_ids {
            extra = sea_orm::Condition::all()
                .add(extra)
                .add(entities::order::Column::CourtId.is_in(ids.clone()));
        }
        OrderFilter {
            court_id: self.court_id,
            extra: Some(extra),
            ..Default::default()
        }
    }
}

/// `withinDays` checked: 0 to `MAX_WITHIN_DAYS`, default `DEFAULT_WITHIN_DAYS`.
pub(crate) fn check_within_days(within_days: Option<i32>) -> async_graphql::Result<i64> {
    let within = within_days.map_or(DEFAULT_WITHIN_DAYS, i64::from);
    if !(0..=MAX_WITHIN_DAYS).contains(&within) {
        return Err(AppError::invalid(
            "withinDays",
            format!("must be 0 to {MAX_WITHIN_DAYS}"),
        ))
        .gql();
    }
    Ok(within)
}

#[derive(Default)]
pub struct WorkListQuery;

#[Object]
impl WorkListQuery {
    /// A court's (or a county's) work list of `kind`, evaluated now: EXPIRING_SOON (within
    /// `withinDays`, default 30, at most 366), RENEWAL_WINDOW, UNSERVED, HEARING_PASSED,
    /// FIREARMS_OVERDUE, TRANSMISSION_PROBLEMS. `court` defaults to a court role's own court and
    /// must be it; law enforcement names a court in its token's counties. `county` (a county
    /// name, `Los Angeles`; instead of `court`) reads the lists of the county's courts: law
    /// enforcement a county its token covers, a court role only its own court's county (and then
    /// only its court). Newest issued first; `first` at most 100.
    #[graphql(
        guard = "Need(Permission::ReadIdentified)",
        complexity = "crate::graphql::limits::page_cost(first, crate::service::reads::DEFAULT_PAGE, crate::service::reads::MAX_PAGE, child_complexity)"
    )]
    #[expect(
        clippy::too_many_arguments,
        reason = "each is a GraphQL argument of workList"
    )]
    async fn work_list(
        &self,
        ctx: &Context<'_>,
        kind: WorkListKind,
        court: Option<String>,
        county: Option<String>,
        within_days: Option<i32>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        let within = check_within_days(within_days)?;
        let scope = list_scope(ctx, court, county).await?;
        let filter = scope.filter(kind, Utc::now(), within);
        order_connection(ctx, filter, first, after).await
    }
}
