//! The `ServiceRecord` type: proof of service of an order.
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entities::service_record;

use super::Agency;
use crate::domain::codes::ServiceMethod;
use crate::graphql::access::{identified, permit};
use crate::graphql::loaders::AgencyId;
use crate::graphql::{GqlResult, loader};

/// Proof of service.
pub struct ServiceRecord(pub service_record::Model);

#[Object]
impl ServiceRecord {
    async fn served_at(&self) -> DateTime<Utc> {
        self.0.served_at
    }
    async fn method(&self) -> async_graphql::Result<ServiceMethod> {
        ServiceMethod::from_db(&self.0.method).gql()
    }
    /// A name: null with a `FORBIDDEN` error for de-identified roles.
    async fn server_name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.server_name.as_deref())
    }
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.agency_id {
            Some(id) => Ok(loader(ctx)?.load_one(AgencyId(id)).await.gql()?.map(Agency)),
            None => Ok(None),
        }
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn notes(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        if !permit(ctx, identified(ctx)) {
            return Ok(None);
        }
        Ok(self.0.notes.as_deref())
    }
}
