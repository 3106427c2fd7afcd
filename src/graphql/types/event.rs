//! The `OrderEvent` type: one entry of an order's history.
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entities::order_event;

use super::Order;
use crate::domain::codes::{EntrySource, EventKind};
use crate::graphql::access::{identified, permit};
use crate::graphql::loaders::OrderId;
use crate::graphql::{GqlResult, loader};

/// One entry of an order's history.
pub struct OrderEvent(pub order_event::Model);

#[Object]
impl OrderEvent {
    async fn kind(&self) -> async_graphql::Result<EventKind> {
        EventKind::from_db(&self.0.kind).gql()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// The other order of a modification or renewal.
    async fn related_order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        match self.0.related_order_id {
            Some(id) => Ok(loader(ctx)?.load_one(OrderId(id)).await.gql()?.map(Order)),
            None => Ok(None),
        }
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.reason.as_deref())
    }
    async fn source(&self) -> async_graphql::Result<EntrySource> {
        EntrySource::from_db(&self.0.source).gql()
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
