//! Relay cursor connections of orders (forward paging, `first` capped at 100).
use async_graphql::Context;
use async_graphql::connection::{Connection, Edge, EmptyFields};

use crate::graphql::access::{log, scoped_court_ids};
use crate::graphql::types::Order;
use crate::graphql::{GqlResult, state};
use crate::ids::{self, Kind};
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
    let first = match first {
        None => DEFAULT_PAGE,
        Some(n) if n < 0 => {
            return Err(crate::error::AppError::invalid(
                "first",
                "must not be negative",
            ))
            .gql();
        }
        Some(n) => usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE),
    };
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
    if let Some(l) = log(ctx) {
        l.objects(rows.iter().map(|o| ids::encode(Kind::Order, o.id)));
    }
    let mut conn = Connection::new(after_cursor.is_some(), more);
    conn.edges.extend(
        rows.into_iter()
            .map(|o| Edge::new(OrderCursor::of(&o).encode(), Order(o))),
    );
    Ok(conn)
}
