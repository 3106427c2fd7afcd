//! Relay cursor connections of orders (forward paging, `first` capped at 100).
use async_graphql::Context;
use async_graphql::connection::{Connection, Edge, EmptyFields};

use chrono::{DateTime, Utc};

use crate::domain::status::OrderStatus;
use crate::graphql::access::{log, scoped_court_ids};
use crate::graphql::loaders::FirstOrdersOf;
use crate::graphql::types::Order;
use crate::graphql::{GqlResult, loader, state};
use crate::service::reads::{DEFAULT_PAGE, MAX_PAGE, OrderCursor, OrderFilter, orders_page};

pub type OrderConnection = Connection<String, Order, EmptyFields, EmptyFields>;

/// Pages orders matching `filter`, within the caller's county scope; every order served is
/// recorded for the audit row.
pub async fn order_connection(
    ctx: &Context<'_>,
    filter: OrderFilter,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<OrderConnection> {
    let first = page_size(first)?;
    let after_cursor = after
        .as_deref()
        .map(|a| OrderCursor::decode("after", a))
        .transpose()
        .map_err(crate::error::AppError::from)
        .gql()?;
    let mut filter = filter;
    filter.court_ids = scoped_court_ids(ctx).await?;
    let (rows, more) = orders_page(&state(ctx)?.db, &filter, first, after_cursor)
        .await
        .gql()?;
    Ok(served(ctx, rows, after_cursor.is_some(), more))
}

/// `first` as a page size: the default when absent, capped, never negative.
fn page_size(first: Option<i32>) -> async_graphql::Result<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(crate::error::AppError::invalid(
            "first",
            "must not be negative",
        ))
        .gql(),
        Some(n) => Ok(usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
    }
}

/// A person's orders. The first page goes through a loader, so the persons resolved together
/// (a page of search hits, each showing its orders) share two statements; later pages (`after`)
/// are paged directly.
pub async fn person_order_connection(
    ctx: &Context<'_>,
    person_id: i32,
    status: Option<OrderStatus>,
    as_of: Option<DateTime<Utc>>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<OrderConnection> {
    if after.is_some() {
        let filter = OrderFilter {
            person_id: Some(person_id),
            status,
            as_of,
            ..Default::default()
        };
        return order_connection(ctx, filter, first, after).await;
    }
    let key = FirstOrdersOf {
        person_id,
        status,
        as_of,
        first: page_size(first)?,
        court_ids: scoped_court_ids(ctx).await?,
    };
    let (rows, more) = loader(ctx)?.load_one(key).await.gql()?.unwrap_or_default();
    Ok(served(ctx, rows, false, more))
}

/// A page as a connection; every order served is recorded for the audit row.
fn served(
    ctx: &Context<'_>,
    rows: Vec<entities::order::Model>,
    has_previous: bool,
    more: bool,
) -> OrderConnection {
    if let Some(l) = log(ctx) {
        l.orders(&rows);
    }
    let mut conn = Connection::new(has_previous, more);
    conn.edges.extend(
        rows.into_iter()
            .map(|o| Edge::new(OrderCursor::of(&o).encode(), Order(o))),
    );
    conn
}
