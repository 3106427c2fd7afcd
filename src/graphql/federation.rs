//! Apollo Federation v2: `Person`, `Order` and `Court` are entities keyed by their global id, so a
//! gateway can join our records into another subgraph's types. `_entities` resolves each
//! representation concurrently, and every resolver here goes through the request's DataLoader,
//! so N representations of one type cost one `SELECT … WHERE id IN (…)`. Access rules and audit
//! are exactly those of `node`, `person` and `order`: the same permissions, the same county scope,
//! and the loader records every person and order handed out.
use async_graphql::{Context, ID, Object};

use crate::auth::Permission;
use crate::error::AppError;
use crate::graphql::access::{order_in_scope, person_in_scope, require};
use crate::graphql::loaders::{CourtId, OrderId, PersonId};
use crate::graphql::types::{Court, Order, Person};
use crate::graphql::{GqlResult, loader};
use crate::ids::{self, Kind};

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
        let n = ids::decode("id", Kind::Person, &id)
            .map_err(AppError::from)
            .gql()?;
        match loader(ctx)?.load_one(PersonId(n)).await.gql()? {
            Some(p) => {
                person_in_scope(ctx, p.id).await?;
                Ok(Some(Person(p)))
            }
            None => Ok(None),
        }
    }

    /// An order by global id; null when there is none.
    #[graphql(entity)]
    async fn find_order_by_id(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<Order>> {
        require(ctx, Permission::ReadIdentified)?;
        let n = ids::decode("id", Kind::Order, &id)
            .map_err(AppError::from)
            .gql()?;
        match loader(ctx)?.load_one(OrderId(n)).await.gql()? {
            Some(o) => {
                order_in_scope(ctx, &o).await?;
                Ok(Some(Order(o)))
            }
            None => Ok(None),
        }
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
