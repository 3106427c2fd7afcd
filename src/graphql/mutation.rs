//! Mutations on orders. Each resolver checks the caller's access, turns its input into the
//! service's command, calls one service function (one transaction) and wraps the result.
use async_graphql::{Context, Object, SimpleObject};

use crate::auth::{Caller, Permission, Role};
use crate::domain::codes::Keyer;
use crate::domain::court_code::CourtCode;
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderFamily;
use crate::domain::ori::Ori;
use crate::error::AppError;
use crate::graphql::access::{
    caller, may_write_court, order_visible, parties_in_scope, require, rule,
};
use crate::graphql::bench_officer::{conflicts_out, in_scope};
use crate::graphql::inputs::{
    CancelOrderInput, CreateOrderInput, ModifyOrderInput, RecordServiceInput, RenewOrderInput,
    TerminateOrderInput,
};
use crate::graphql::loaders::OrderId;
use crate::graphql::types::{Order, ServiceRecord};
use crate::graphql::{GqlResult, loader, state};
use crate::service::commands::{CreateOrder, OrderChange, RecordService};
use crate::service::{lifecycle, orders, refs, successor};

/// Result of `createOrder`.
#[derive(SimpleObject)]
pub struct CreateOrderPayload {
    pub order: Order,
    /// Active orders between the same persons (over linked records) and what conflicts, with
    /// the order that controls enforcement. Informs; the order is entered regardless.
    pub conflicts: Vec<crate::graphql::bench_officer::OrderConflict>,
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
    /// Active orders of other chains between the same persons and what conflicts, as for
    /// `createOrder`: a modification or renewal is a new order and is checked like one.
    pub conflicts: Vec<crate::graphql::bench_officer::OrderConflict>,
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

/// Row rules for a target order: its court must be the clerk's own.
pub(crate) async fn may_change(ctx: &Context<'_>, order_id: &str) -> async_graphql::Result<()> {
    use sea_orm::EntityTrait;
    let n = ids::decode("orderId", Kind::Order, order_id)
        .map_err(AppError::from)
        .gql()?;
    let not_found = || AppError::not_found(format!("order {order_id}"));
    // Straight from the database: the request loader would cache the row the write changes.
    let o = entities::order::Entity::find_by_id(n)
        .one(&state(ctx)?.db)
        .await
        .gql()?
        .ok_or_else(not_found)
        .gql()?;
    // Outside a narrowed token's counties the order answers as one that does not exist.
    if !order_visible(ctx, &o).await? {
        return Err(not_found()).gql();
    }
    may_write_court(ctx, o.court_id).await
}

/// Who may enter a new order: a clerk for their own court; an LEA an EPO, entered as its own
/// agency (Fam. Code 6250: officers request EPOs). Sets the LEA's agency on the command.
async fn may_create(ctx: &Context<'_>, input: &mut CreateOrder) -> async_graphql::Result<()> {
    let c = caller(ctx)?;
    match c.role {
        Role::Lea if keys_for(ctx, c, &input.court_code).await? => {
            // The court lets this agency key its orders: it enters them as a clerk would.
            court_in_scope(ctx, c, &input.court_code).await?;
        }
        Role::Lea => {
            require(ctx, Permission::EnterEpo)?;
            if input.family != OrderFamily::Epo {
                return Err(AppError::forbidden(
                    rule::EPO_ONLY,
                    "law enforcement enters emergency protective orders (EPO) only",
                ))
                .gql();
            }
            input.entered_by_agency_ori = Some(own_agency(
                c,
                input.entered_by_agency_ori.as_deref(),
                "enteredByAgencyOri",
            )?);
            court_in_scope(ctx, c, &input.court_code).await?;
        }
        _ => {
            require(ctx, Permission::WriteOrders)?;
            let code = CourtCode::parse("courtCode", &input.court_code)
                .map_err(AppError::from)
                .gql()?;
            // An unknown court is a validation error, reported by the service with its field.
            if c.court.as_deref() != Some(code.as_str())
                && refs::court_by_code(&state(ctx)?.db, code.as_str())
                    .await
                    .gql()?
                    .is_some()
            {
                return Err(AppError::forbidden(
                    rule::OWN_COURT,
                    format!(
                        "a clerk of {} may enter orders of that court only",
                        c.court.as_deref().unwrap_or("no court")
                    ),
                ))
                .gql();
            }
            court_in_scope(ctx, c, &input.court_code).await?;
        }
    }
    Ok(())
}

/// Whether the court `code` lets the caller's agency key its orders.
async fn keys_for(ctx: &Context<'_>, c: &Caller, code: &str) -> async_graphql::Result<bool> {
    let db = &state(ctx)?.db;
    let Some(court) = refs::court_by_code(db, &code.trim().to_ascii_uppercase())
        .await
        .gql()?
    else {
        return Ok(false);
    };
    let keying = refs::keying_ori(db, &court).await.gql()?;
    Ok(c.is_keyer(keying.as_deref()))
}

/// The caller's own agency; an explicit other agency is refused.
fn own_agency(c: &Caller, given: Option<&str>, field: &str) -> async_graphql::Result<String> {
    let own = c.agency.clone().unwrap_or_default();
    match given {
        None => Ok(own),
        Some(g) => {
            let g = Ori::parse(field, g).map_err(AppError::from).gql()?;
            if g.as_str() == own {
                Ok(own)
            } else {
                Err(AppError::forbidden(
                    rule::OWN_AGENCY,
                    format!("a token of {own} acts for that agency only"),
                ))
                .gql()
            }
        }
    }
}

/// A narrowed token writes only in its counties.
async fn court_in_scope(ctx: &Context<'_>, c: &Caller, code: &str) -> async_graphql::Result<()> {
    if c.counties.is_none() {
        return Ok(());
    }
    let county = refs::court_by_code(&state(ctx)?.db, &code.trim().to_ascii_uppercase())
        .await
        .gql()?
        .map(|ct| ct.county)
        .unwrap_or_default();
    c.require_county(&county).gql()
}

/// Who may record service: an LEA as its own agency, on an order in its scope; a clerk on an
/// order of their court. Sets the LEA's agency on the command.
async fn may_record_service(
    ctx: &Context<'_>,
    input: &mut RecordService,
) -> async_graphql::Result<()> {
    let c = require(ctx, Permission::RecordService)?;
    match c.role {
        Role::Lea => {
            input.agency_ori = Some(own_agency(c, input.agency_ori.as_deref(), "agencyOri")?);
            use sea_orm::EntityTrait;
            let n = ids::decode("orderId", Kind::Order, &input.order_id)
                .map_err(AppError::from)
                .gql()?;
            if let Some(o) = entities::order::Entity::find_by_id(n)
                .one(&state(ctx)?.db)
                .await
                .gql()?
            {
                crate::graphql::access::order_in_scope(ctx, &o).await?;
            }
            Ok(())
        }
        _ => may_change(ctx, &input.order_id).await,
    }
}

/// `modifyOrder` and `renewOrder`: the same access rule, service call and payload.
async fn change_order(
    ctx: &Context<'_>,
    change: OrderChange,
) -> async_graphql::Result<OrderChangePayload> {
    may_change(ctx, change.order_id()).await?;
    let s = state(ctx)?;
    let changed = successor::change_checked(&s.db, &s.search, &change)
        .await
        .gql()?;
    let found = in_scope(ctx, changed.conflicts).await?;
    Ok(OrderChangePayload {
        order: fetch(ctx, changed.order_id).await?,
        previous_order: fetch(ctx, changed.previous_order_id).await?,
        conflicts: conflicts_out(ctx, found),
    })
}

/// `createOrder` (and `cloneOrder`): who may enter it, the write, the conflicts in the caller's
/// scope.
pub(crate) async fn enter(
    ctx: &Context<'_>,
    mut input: CreateOrder,
) -> async_graphql::Result<CreateOrderPayload> {
    may_create(ctx, &mut input).await?;
    let s = state(ctx)?;
    if caller(ctx)?.counties.is_some() && input.parties.iter().any(|p| p.person_id.is_some()) {
        // Validation errors first, as the service reports them for any caller; then the
        // persons named by id, out of scope answering as missing.
        orders::validated(&s.db, &input).await.gql()?;
        parties_in_scope(ctx, &input.parties).await?;
    }
    let entered = orders::create_checked(&s.db, &s.search, &input)
        .await
        .gql()?;
    let found = in_scope(ctx, entered.conflicts).await?;
    Ok(CreateOrderPayload {
        order: fetch(ctx, entered.order_id).await?,
        conflicts: conflicts_out(ctx, found),
    })
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
        enter(ctx, CreateOrder::from(input)).await
    }

    /// Records proof of service.
    async fn record_service(
        &self,
        ctx: &Context<'_>,
        input: RecordServiceInput,
    ) -> async_graphql::Result<RecordServicePayload> {
        let mut input = RecordService::from(input);
        may_record_service(ctx, &mut input).await?;
        let (order_id, record) = lifecycle::record_service(&state(ctx)?.db, &input)
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
        change_order(ctx, OrderChange::Modify(input.into())).await
    }

    /// Enters a renewal that supersedes the given order after hearing.
    async fn renew_order(
        &self,
        ctx: &Context<'_>,
        input: RenewOrderInput,
    ) -> async_graphql::Result<OrderChangePayload> {
        change_order(ctx, OrderChange::Renew(input.into())).await
    }

    /// Records a court order terminating the order.
    async fn terminate_order(
        &self,
        ctx: &Context<'_>,
        input: TerminateOrderInput,
    ) -> async_graphql::Result<OrderPayload> {
        may_change(ctx, &input.order_id).await?;
        let id = lifecycle::terminate(&state(ctx)?.db, &input.into())
            .await
            .gql()?;
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
        may_change(ctx, &input.order_id).await?;
        let id = lifecycle::cancel(&state(ctx)?.db, &input.into())
            .await
            .gql()?;
        Ok(OrderPayload {
            order: fetch(ctx, id).await?,
        })
    }
}

/// Court administration.
#[derive(Default)]
pub struct CourtMutation;

#[Object]
impl CourtMutation {
    /// Sets how a court takes part: `FULL`, `IMAGE_ONLY` or `NOT_PARTICIPATING`; and, when
    /// `keyedBy` is given, who keys its orders: the court's clerks (`COURT`), or the sheriff's
    /// agency `keyingAgencyOri` (`SHERIFF`), whose LEA tokens then enter and change that court's
    /// orders and add their images as the court's clerks do.
    #[graphql(guard = "crate::graphql::access::Need(Permission::Administer)")]
    async fn set_court_participation(
        &self,
        ctx: &Context<'_>,
        code: String,
        mode: crate::domain::codes::ParticipationMode,
        keyed_by: Option<Keyer>,
        keying_agency_ori: Option<String>,
    ) -> async_graphql::Result<crate::graphql::types::Court> {
        let code = CourtCode::parse("code", &code)
            .map_err(AppError::from)
            .gql()?;
        let keyed_by = match (keyed_by, keying_agency_ori) {
            (None | Some(Keyer::Court), Some(_)) => {
                return Err(AppError::invalid(
                    "keyingAgencyOri",
                    "an agency keys a court's orders only with keyedBy: SHERIFF",
                ))
                .gql();
            }
            (Some(Keyer::Sheriff), None) => {
                return Err(AppError::invalid(
                    "keyingAgencyOri",
                    "keyedBy: SHERIFF names the agency's ORI",
                ))
                .gql();
            }
            (Some(Keyer::Sheriff), Some(ori)) => Some(refs::KeyedBy::Sheriff(
                Ori::parse("keyingAgencyOri", &ori)
                    .map_err(AppError::from)
                    .gql()?,
            )),
            (Some(Keyer::Court), None) => Some(refs::KeyedBy::Court),
            (None, None) => None,
        };
        let saved = refs::set_participation(&state(ctx)?.db, &code, mode, keyed_by)
            .await
            .gql()?;
        Ok(crate::graphql::types::Court(saved))
    }
}
