//! Mutations on orders. Each is one transaction in the service layer.
use async_graphql::{Context, Object, SimpleObject};

use crate::error::AppError;
use crate::graphql::inputs::{
    CancelOrderInput, CreateOrderInput, ModifyOrderInput, RecordServiceInput, RenewOrderInput,
    TerminateOrderInput,
};
use crate::graphql::loaders::OrderId;
use crate::graphql::types::{Order, ServiceRecord};
use crate::graphql::{GqlResult, loader, state};
use crate::service::orders;

/// Result of `createOrder`.
#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub order: Order,
}

/// Result of `recordService`.
#[derive(SimpleObject)]
pub struct RecordServicePayload {
    pub order: Order,
    pub service_record: ServiceRecord,
}

/// Result of `modifyOrder` and `renewOrder`: the new order and the one it superseded.
#[derive(SimpleObject)]
pub struct OrderChangePayload {
    pub order: Order,
    pub previous_order: Order,
}

/// Result of `terminateOrder` and `cancelOrder`.
#[derive(SimpleObject)]
pub struct OrderPayload {
    pub order: Order,
}

pub(crate) async fn fetch(ctx: &Context<'_>, id: i32) -> async_graphql::Result<Order> {
    // The write committed an outbox row; let this instance's indexer pick it up now.
    state(ctx)?.search.wake();
    loader(ctx)?
        .load_one(OrderId(id))
        .await
        .gql()?
        .map(Order)
        .ok_or_else(|| AppError::not_found("order"))
        .gql()
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Enters an order with its parties (new persons or existing ids) in one transaction.
    async fn create_order(
        &self,
        ctx: &Context<'_>,
        input: CreateOrderInput,
    ) -> async_graphql::Result<CreateOrderPayload> {
        let id = orders::create(&state(ctx)?.db, &input).await.gql()?;
        Ok(CreateOrderPayload {
            order: fetch(ctx, id).await?,
        })
    }

    /// Records proof of service.
    async fn record_service(
        &self,
        ctx: &Context<'_>,
        input: RecordServiceInput,
    ) -> async_graphql::Result<RecordServicePayload> {
        let (order_id, record) = orders::record_service(&state(ctx)?.db, &input)
            .await
            .gql()?;
        Ok(RecordServicePayload {
            order: fetch(ctx, order_id).await?,
            service_record: ServiceRecord(record),
        })
    }

    /// Enters a modified (amended) order that supersedes the given one.
    async fn modify_order(
        &self,
        ctx: &Context<'_>,
        input: ModifyOrderInput,
    ) -> async_graphql::Result<OrderChangePayload> {
        let (new_id, old_id) = orders::modify(&state(ctx)?.db, &input).await.gql()?;
        Ok(OrderChangePayload {
            order: fetch(ctx, new_id).await?,
            previous_order: fetch(ctx, old_id).await?,
        })
    }

    /// Enters a renewal that supersedes the given order after hearing.
    async fn renew_order(
        &self,
        ctx: &Context<'_>,
        input: RenewOrderInput,
    ) -> async_graphql::Result<OrderChangePayload> {
        let (new_id, old_id) = orders::renew(&state(ctx)?.db, &input).await.gql()?;
        Ok(OrderChangePayload {
            order: fetch(ctx, new_id).await?,
            previous_order: fetch(ctx, old_id).await?,
        })
    }

    /// Records a court order terminating the order.
    async fn terminate_order(
        &self,
        ctx: &Context<'_>,
        input: TerminateOrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        let id = orders::terminate(&state(ctx)?.db, &input).await.gql()?;
        Ok(OrderPayload {
            order: fetch(ctx, id).await?,
        })
    }

    /// Marks the order as entered in error.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: CancelOrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        let id = orders::cancel(&state(ctx)?.db, &input).await.gql()?;
        Ok(OrderPayload {
            order: fetch(ctx, id).await?,
        })
    }
}
