//! Transmission to CARPOS in the API: an order's transmissions, a court's work list of rejected
//! and held ones, and `retryTransmission` once the clerk has fixed the data. The transmitter
//! (`carpos::transmitter`) does the sending; these only read and re-queue.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::carpos_transmission as tx;
use sea_orm::EntityTrait;

use crate::auth::Permission;
use crate::carpos::outbox::{self, TxState};
use crate::domain::court_code::CourtCode;
use crate::domain::ids::{self, Kind};
use crate::error::AppError;
use crate::graphql::access::{Need, log, may_write_court};
use crate::graphql::loaders::OrderId;
use crate::graphql::mutation::may_change;
use crate::graphql::types::Order;
use crate::graphql::{GqlResult, loader, state};

/// One message owed to CARPOS (Fam. Code 6380(a)) and where it stands.
pub struct Transmission(pub tx::Model);

/// A transmission's global id (`CarposTransmission:n`).
fn gid(id: i64) -> async_graphql::Result<ID> {
    let n = i32::try_from(id)
        .map_err(|_| AppError::Internal(std::sync::Arc::new(anyhow::anyhow!("id {id} too large"))))
        .gql()?;
    Ok(ID(ids::encode(Kind::Transmission, n)))
}

#[Object(name = "CarposTransmission")]
impl Transmission {
    async fn id(&self) -> async_graphql::Result<ID> {
        gid(self.0.id)
    }
    /// The order whose state the message carries.
    async fn order(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Order>> {
        Ok(loader(ctx)?
            .load_one(OrderId(self.0.order_id))
            .await
            .gql()?
            .map(Order))
    }
    /// NCIC-style message key: `EPO`, `ETO`, `MPO`, `CPO`, `XPO` or `ENPO` (docs/wire/carpos.md).
    async fn message_key(&self) -> &str {
        &self.0.message_key
    }
    /// The lifecycle event that made it (`issue`, `order_after_hearing`, `service`, …).
    async fn trigger(&self) -> &str {
        &self.0.trigger
    }
    /// Its place among its chain's messages, which go out strictly in order.
    async fn sequence(&self) -> i32 {
        self.0.seq
    }
    async fn state(&self) -> async_graphql::Result<TxState> {
        TxState::from_db(&self.0.state).gql()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// The 13-digit File Control Number CARPOS gave the record, once acknowledged.
    async fn fcn(&self) -> Option<&str> {
        self.0.fcn.as_deref()
    }
    /// Why it was rejected, or why the last attempt failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Field codes an entry lacks (`HELD_INCOMPLETE`), e.g. `HGT`.
    async fn missing_fields(&self) -> Vec<&str> {
        self.0
            .missing_fields
            .as_deref()
            .map(|m| m.split(',').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }
    async fn queued_at(&self) -> DateTime<Utc> {
        self.0.queued_at
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at
    }
    /// Fam. Code 6380(a): the end of the next court day after the event.
    async fn due_by(&self) -> DateTime<Utc> {
        self.0.due_by
    }
    /// Acknowledged after `dueBy`, or not acknowledged and past it.
    async fn late(&self) -> bool {
        self.0
            .acknowledged_at
            .unwrap_or_else(Utc::now)
            .gt(&self.0.due_by)
    }
}

/// An order's transmissions, by chain and sequence (for `Order.transmissions`).
pub async fn of_order(
    ctx: &Context<'_>,
    order_id: i32,
) -> async_graphql::Result<Vec<Transmission>> {
    let rows = outbox::of_orders(&state(ctx)?.db, &[order_id])
        .await
        .gql()?;
    Ok(rows.into_values().flatten().map(Transmission).collect())
}

#[derive(Default)]
pub struct TransmissionQuery;

#[Object]
impl TransmissionQuery {
    /// A court's rejected and held transmissions, oldest first: what its clerks must fix. Clerks
    /// of that court only.
    #[graphql(guard = "Need(Permission::WriteOrders)")]
    async fn carpos_work_list(
        &self,
        ctx: &Context<'_>,
        court_code: String,
    ) -> async_graphql::Result<Vec<Transmission>> {
        let code = CourtCode::parse("courtCode", &court_code)
            .map_err(AppError::from)
            .gql()?;
        let s = state(ctx)?;
        let court = crate::service::refs::court_by_code(&s.db, code.as_str())
            .await
            .gql()?
            .ok_or_else(|| AppError::not_found(format!("court {court_code}")))
            .gql()?;
        may_write_court(ctx, court.id).await?;
        let rows = outbox::work_list(&s.db, court.id).await.gql()?;
        if let Some(l) = log(ctx) {
            l.objects(rows.iter().map(|r| ids::encode(Kind::Order, r.order_id)));
        }
        Ok(rows.into_iter().map(Transmission).collect())
    }
}

#[derive(Default)]
pub struct TransmissionMutation;

#[Object]
impl TransmissionMutation {
    /// Sends a rejected transmission again (with a new idempotency key) once the data is fixed,
    /// or releases a held entry that is now complete. Clerks of the order's court.
    #[graphql(guard = "Need(Permission::WriteOrders)")]
    async fn retry_transmission(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Transmission> {
        let n = ids::decode("id", Kind::Transmission, &id)
            .map_err(AppError::from)
            .gql()?;
        let s = state(ctx)?;
        let row = tx::Entity::find_by_id(i64::from(n))
            .one(&s.db)
            .await
            .gql()?
            .ok_or_else(|| AppError::not_found(format!("transmission {}", id.as_str())))
            .gql()?;
        let order = ids::encode(Kind::Order, row.order_id);
        may_change(ctx, &order).await?;
        let row = outbox::retry(&s.db, row.id).await.gql()?;
        if let Some(l) = log(ctx) {
            l.objects([order]);
        }
        Ok(Transmission(row))
    }
}
