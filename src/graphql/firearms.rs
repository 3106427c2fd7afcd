//! Firearm relinquishment through GraphQL (docs/law/firearms.md): `recordFirearmCompliance`
//! records the receipt and the court's finding; `firearmsOverdue` is a court's list of served
//! orders whose receipt is overdue (Fam. Code 6389(c), CCP 527.9(b), PC 18120(b)).
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::auth::Permission;
use crate::domain::firearms::FirearmFinding;
use crate::graphql::access::{Need, log};
use crate::graphql::mutation::{fetch, may_change};
use crate::graphql::types::Order;
use crate::graphql::{GqlResult, state};
use crate::service::commands::RecordFirearms;
use crate::service::firearms;
use crate::service::reads::{DEFAULT_PAGE, MAX_PAGE};

/// The receipt filed with the court, the court's finding, or both.
#[derive(InputObject, Debug, Clone)]
pub struct RecordFirearmComplianceInput {
    pub order_id: ID,
    /// The receipt's form: the family's `-800` form (`DV-800` for DV and EPO orders, `GV-800`,
    /// `CH-800`, `WV-800`, `SV-800`, `EA-800`). Given with `receiptFiledAt`.
    pub receipt_form: Option<String>,
    /// When the receipt was filed with the court.
    pub receipt_filed_at: Option<DateTime<Utc>>,
    /// ORI of the agency that took the firearms, as the receipt names it.
    pub agency_ori: Option<String>,
    /// The court's finding on compliance; recorded at the time of the call.
    pub finding: Option<FirearmFinding>,
}

/// Result of `recordFirearmCompliance`.
#[derive(SimpleObject)]
pub struct RecordFirearmCompliancePayload {
    pub order: Order,
}

#[derive(Default)]
pub struct FirearmMutation;

#[Object]
impl FirearmMutation {
    /// Records the firearm relinquishment receipt and/or the court's finding on an order whose
    /// terms order relinquishment; a later record replaces the earlier one. Clerks of the
    /// order's court.
    async fn record_firearm_compliance(
        &self,
        ctx: &Context<'_>,
        input: RecordFirearmComplianceInput,
    ) -> async_graphql::Result<RecordFirearmCompliancePayload> {
        let cmd = RecordFirearms {
            order_id: input.order_id.0,
            receipt_form: input.receipt_form,
            receipt_filed_at: input.receipt_filed_at,
            agency_ori: input.agency_ori,
            finding: input.finding,
        };
        may_change(ctx, &cmd.order_id).await?;
        let id = firearms::record(&state(ctx)?.db, &cmd).await.gql()?;
        Ok(RecordFirearmCompliancePayload {
            order: fetch(ctx, id).await?,
        })
    }
}

#[derive(Default)]
pub struct FirearmQuery;

#[Object]
impl FirearmQuery {
    /// A court's orders in force whose firearm relinquishment receipt is overdue: served more
    /// than 48 hours ago with neither a receipt nor a finding recorded; oldest issued first, at
    /// most `first` (default 20, at most 100). `court` defaults to a court role's own court and
    /// must be it; law enforcement names a court in its token's counties.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn firearms_overdue(
        &self,
        ctx: &Context<'_>,
        court: Option<String>,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<Order>> {
        let court = crate::graphql::work_lists::list_court(ctx, court).await?;
        let db = &state(ctx)?.db;
        let n = first.map_or(DEFAULT_PAGE, |f| f.clamp(1, MAX_PAGE as i32) as usize);
        let rows = firearms::overdue(db, court.id, Utc::now(), n as u64)
            .await
            .gql()?;
        if let Some(l) = log(ctx) {
            l.orders(&rows);
        }
        Ok(rows.into_iter().map(Order).collect())
    }
}
