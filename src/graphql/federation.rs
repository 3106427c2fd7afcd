//! Apollo Federation v2: `Person`, `Order` and `Court` are entities keyed by their global id, so a
//! gateway can join our records into another subgraph's types. `_entities` resolves each
//! representation concurrently, and every resolver here goes through the request's DataLoader,
//! so N representations of one type cost one `SELECT … WHERE id IN (…)`. Access rules and audit
//! are exactly those of `node`, `person` and `order`: the same permissions, the same county scope,
//! and the loader records every person and order handed out.
use async_graphql::{Context, ID, Object};

use crate::auth::Permission;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::access::require;
use crate::graphql::loaders::CourtId;
use crate::graphql::query::{order_by_id, person_by_id};
use crate::graphql::types::{Court, Order, Person};
use crate::graphql::{GqlResult, loader};

/// Entity resolvers (not Query fields: async-graphql serves them through `_entities`).
#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// A person by global id; null when there is none.
    #[graphql(entity)]
    async fn find_person_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Person>> {
        require(ctx, Permission::ReadIdentified)?;
        person_by_id(ctx, &id).await
    }

    /// An order by global id; null when there is none.
    #[graphql(entity)]
    async fn find_order_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        require(ctx, Permission::ReadIdentified)?;
        order_by_id(ctx, &id).await
    }

    /// A court by global id; null when there is none. Reference data.
    #[graphql(entity)]
    async fn find_court_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Court>> {
        require(ctx, Permission::ReadReference)?;
        let n = ids::decode("id", Kind::Court, &id)
            .map_err(AppError::from)
            .gql()?;
        Ok(loader(ctx)?.load_one(CourtId(n)).await.gql()?.map(Court))
    }
}
