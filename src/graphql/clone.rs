//! `cloneOrder` (a CCPOR feature): a new order started from an existing one's parties and terms
//! (`service::clone`), entered like `createOrder`.
use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::EntityTrait;

use crate::auth::Permission;
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderFamily;
use crate::error::AppError;
use crate::graphql::access::{log, order_visible, require};
use crate::graphql::loaders::CourtId;
use crate::graphql::mutation::{CreateOrderPayload, enter};
use crate::graphql::{GqlResult, loader, state};
use crate::service::clone::{self, CloneOrder};

/// A new order from `orderId`'s parties and terms. What is left out is the source's, except the
/// expiry (the clone's own, checked against its form), the relinquishment due time and a
/// criminal order's stage.
#[derive(InputObject, Debug, Clone)]
pub struct CloneOrderInput {
    pub order_id: ID,
    pub court_code: Option<String>,
    pub case_number: Option<String>,
    /// With `formNumber` when it differs from the source's.
    pub family: Option<OrderFamily>,
    pub form_number: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub hearing_date: Option<NaiveDate>,
    pub judicial_officer: Option<String>,
}

#[derive(Default)]
pub struct CloneMutation;

#[Object]
impl CloneMutation {
    /// Enters a new order with the parties (the same person records) and terms of `orderId`,
    /// validated and checked for conflicts like `createOrder`. The caller must be able to read
    /// the source order and to enter the new one.
    async fn clone_order(
        &self,
        ctx: &Context<'_>,
        input: CloneOrderInput,
    ) -> async_graphql::Result<CreateOrderPayload> {
        require(ctx, Permission::ReadIdentified)?;
        let db = &state(ctx)?.db;
        let not_found = || AppError::not_found(format!("order {}", input.order_id.as_str()));
        let n = ids::decode("orderId", Kind::Order, &input.order_id)
            .map_err(AppError::from)
            .gql()?;
        let source = entities::order::Entity::find_by_id(n)
            .one(db)
            .await
            .gql()?
            .ok_or_else(not_found)
            .gql()?;
        // Outside a narrowed token's counties the order answers as one that does not exist.
        if !order_visible(ctx, &source).await? {
            return Err(not_found()).gql();
        }
        if let Some(l) = log(ctx) {
            l.orders(std::slice::from_ref(&source));
        }
        if source.image_only {
            return Err(AppError::conflict(
                "cannot clone an image-only order before its data is entered (completeImageOnlyOrder)",
            ))
            .gql();
        }
        let court = loader(ctx)?
            .load_one(CourtId(source.court_id))
            .await
            .gql()?
            .ok_or_else(|| AppError::not_found("court"))
            .gql()?;
        let change = CloneOrder {
            order_id: input.order_id.0,
            court_code: input.court_code,
            case_number: input.case_number,
            family: input.family,
            form_number: input.form_number,
            issued_at: input.issued_at,
            expires_at: input.expires_at,
            hearing_date: input.hearing_date,
            judicial_officer: input.judicial_officer,
        };
        let cmd = clone::command(db, &source, &court.code, &change)
            .await
            .gql()?;
        enter(ctx, cmd).await
    }
}
