//! The `FirearmRelinquishment` type: what an order's relinquishment term asks and what was
//! filed (docs/law/firearms.md; Fam. Code 6389(c), CCP 527.9(b), PC 18120(b)).
use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use entities::order;

use super::Agency;
use crate::domain::firearms::{self, FirearmFinding};
use crate::graphql::loaders::{AgencyId, ServiceOf};
use crate::graphql::{GqlResult, loader};
use crate::service::firearms::finding_of;

/// Firearm relinquishment on an order whose terms order it.
pub struct FirearmRelinquishment {
    pub order: order::Model,
    pub law: &'static str,
    pub receipt_form: &'static str,
}

impl FirearmRelinquishment {
    async fn served_at(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DateTime<Utc>>> {
        let rows = loader(ctx)?
            .load_one(ServiceOf(self.order.id))
            .await
            .gql()?;
        Ok(rows.unwrap_or_default().iter().map(|s| s.served_at).min())
    }
}

#[Object]
impl FirearmRelinquishment {
    /// The statute that orders relinquishment for this family of order.
    async fn authority(&self) -> &str {
        self.law
    }
    /// The form the receipt is filed on (`DV-800`, `GV-800`, ...).
    async fn expected_receipt_form(&self) -> &str {
        self.receipt_form
    }
    /// When the firearms are due: the time the order sets (`conditions.firearmDueAt`), else 24
    /// hours after the first service; null while unserved and unset.
    async fn surrender_due_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        if let Some(t) = self.order.firearm_due_at {
            return Ok(Some(t));
        }
        Ok(self.served_at(ctx).await?.map(|s| firearms::due_times(s).0))
    }
    /// When the receipt is due with the court: 48 hours after the first service; null while
    /// unserved.
    async fn receipt_due_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        Ok(self.served_at(ctx).await?.map(|s| firearms::due_times(s).1))
    }
    /// The receipt's form, when filed.
    async fn receipt_form(&self) -> Option<&str> {
        self.order.firearm_receipt_form.as_deref()
    }
    async fn receipt_filed_at(&self) -> Option<DateTime<Utc>> {
        self.order.firearm_receipt_filed_at
    }
    /// The agency that took the firearms, as the receipt names it.
    async fn receipt_agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.order.firearm_receipt_agency_id {
            Some(id) => Ok(loader(ctx)?.load_one(AgencyId(id)).await.gql()?.map(Agency)),
            None => Ok(None),
        }
    }
    /// The court's finding on compliance.
    async fn finding(&self) -> async_graphql::Result<Option<FirearmFinding>> {
        finding_of(&self.order).gql()
    }
    async fn finding_at(&self) -> Option<DateTime<Utc>> {
        self.order.firearm_finding_at
    }
    /// Served, the receipt's 48 hours passed at `asOf` (default now), and neither a receipt nor
    /// a finding recorded.
    async fn overdue(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<bool> {
        Ok(firearms::overdue(
            self.served_at(ctx).await?,
            self.order.firearm_receipt_filed_at.is_some(),
            finding_of(&self.order).gql()?,
            as_of.unwrap_or_else(Utc::now),
        ))
    }
}
