//! The `Agency` type: a law-enforcement agency.
use async_graphql::{ID, Object};
use entities::agency;

use crate::domain::codes::AgencyType;
use crate::domain::ids::{self, Kind};
use crate::graphql::GqlResult;

/// A law-enforcement agency.
pub struct Agency(pub agency::Model);

#[Object]
impl Agency {
    pub async fn id(&self) -> ID {
        ID(ids::encode(Kind::Agency, self.0.id))
    }
    async fn ori(&self) -> &str {
        &self.0.ori
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn agency_type(&self) -> async_graphql::Result<AgencyType> {
        AgencyType::from_db(&self.0.agency_type).gql()
    }
    async fn county(&self) -> Option<&str> {
        self.0.county.as_deref()
    }
}
