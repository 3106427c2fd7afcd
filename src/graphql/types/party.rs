//! The `Party` type: a person's part in an order.
use async_graphql::{Context, Object};
use entities::order_party;

use super::Person;
use crate::domain::codes::PartyRole;
use crate::graphql::access::{identified, permit};
use crate::graphql::loaders::PersonId;
use crate::graphql::{GqlResult, loader};

/// A person's part in an order.
pub struct Party(pub order_party::Model);

#[Object]
impl Party {
    async fn role(&self) -> async_graphql::Result<PartyRole> {
        PartyRole::from_db(&self.0.role).gql()
    }
    /// Free text as on the form: null with a `FORBIDDEN` error for de-identified roles.
    async fn relationship(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.relationship.as_deref())
    }
    async fn person(&self, ctx: &Context<'_>) -> async_graphql::Result<Person> {
        loader(ctx)?
            .load_one(PersonId(self.0.person_id))
            .await
            .gql()?
            .map(Person)
            .ok_or_else(|| async_graphql::Error::new("person missing"))
    }
}
