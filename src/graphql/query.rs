//! Query fields, one object per domain. Resolvers stay thin: parse, call a service, wrap.
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entities::{agency, court};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::auth::Permission;
use crate::domain::case_number::CaseNumber;
use crate::domain::codes::{CourtType, ParticipationMode};
use crate::domain::court_code::CourtCode;
use crate::domain::ids::{self, Kind};
use crate::domain::order_rules::OrderFamily;
use crate::domain::ori::Ori;
use crate::domain::status::OrderStatus;
use crate::error::AppError;
use crate::graphql::access::{Need, caller, log, order_visible, person_visible, require};
use crate::graphql::connection::{OrderConnection, order_connection};
use crate::graphql::loaders::{AgencyId, CourtId, OrderId, PersonId};
use crate::graphql::types::{Agency, Court, Node, Order, Person};
use crate::graphql::{GqlResult, loader, state};
use crate::service::reads::{MAX_PAGE, OrderFilter};
use crate::service::scope::Scope;
use crate::service::{case_lookup, refs};

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when there is none. Images are not nodes: they are
    /// read through `Order.images`, where access is checked.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let (kind, n) = ids::decode_any("id", &id).map_err(AppError::from).gql()?;
        let l = loader(ctx)?;
        match kind {
            Kind::Court | Kind::Agency => require(ctx, Permission::ReadReference)?,
            Kind::Person | Kind::Order | Kind::Image | Kind::PersonLink | Kind::Transmission => {
                require(ctx, Permission::ReadIdentified)?
            }
        };
        let node = match kind {
            Kind::Court => l
                .load_one(CourtId(n))
                .await
                .gql()?
                .map(|m| Node::Court(Court(m))),
            Kind::Agency => l
                .load_one(AgencyId(n))
                .await
                .gql()?
                .map(|m| Node::Agency(Agency(m))),
            Kind::Person => l
                .load_one(PersonId(n))
                .await
                .gql()?
                .map(|m| Node::Person(Person(m))),
            Kind::Order => l
                .load_one(OrderId(n))
                .await
                .gql()?
                .map(|m| Node::Order(Order(m))),
            // Not nodes: read through their order.
            Kind::Image | Kind::Transmission => None,
            Kind::PersonLink => {
                use sea_orm::EntityTrait;
                let link = entities::person_link::Entity::find_by_id(n)
                    .one(&state(ctx)?.db)
                    .await
                    .gql()?;
                match link {
                    Some(l)
                        if person_visible(ctx, l.person_a).await?
                            && person_visible(ctx, l.person_b).await? =>
                    {
                        Some(Node::PersonLink(crate::graphql::identity::PersonLink(l)))
                    }
                    _ => None,
                }
            }
        };
        // Outside a narrowed token's counties an object answers as one that does not exist.
        let visible = match &node {
            Some(Node::Order(o)) => order_visible(ctx, &o.0).await?,
            Some(Node::Person(p)) => person_visible(ctx, p.0.id).await?,
            _ => true,
        };
        Ok(node.filter(|_| visible))
    }
}

/// The order `id` names, through the request's loader and the caller's county scope; `None`
/// when there is none or it is outside the scope, alike (`order` answers `NOT_FOUND`, a
/// federation entity null).
pub(crate) async fn order_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Order>> {
    let n = ids::decode("id", Kind::Order, id)
        .map_err(AppError::from)
        .gql()?;
    match loader(ctx)?.load_one(OrderId(n)).await.gql()? {
        Some(o) if order_visible(ctx, &o).await? => Ok(Some(Order(o))),
        _ => Ok(None),
    }
}

/// The person `id` names, as `order_by_id`.
pub(crate) async fn person_by_id(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<Person>> {
    let n = ids::decode("id", Kind::Person, id)
        .map_err(AppError::from)
        .gql()?;
    match loader(ctx)?.load_one(PersonId(n)).await.gql()? {
        Some(p) if person_visible(ctx, p.id).await? => Ok(Some(Person(p))),
        _ => Ok(None),
    }
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// One order; error `NOT_FOUND` when the id names no order.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Order>> {
        match order_by_id(ctx, &id).await? {
            Some(o) => Ok(Some(o)),
            None => Err(AppError::not_found(format!("order {}", id.as_str()))).gql(),
        }
    }

    /// Orders whose case number matches ignoring case, spaces and punctuation
    /// (`22FL-01234` finds `22FL01234`), optionally in one court; newest first, at most 100.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn orders_by_case_number(
        &self,
        ctx: &Context<'_>,
        case_number: String,
        court: Option<String>,
    ) -> async_graphql::Result<Vec<Order>> {
        let key = CaseNumber::parse("caseNumber", &case_number)
            .map_err(AppError::from)
            .gql()?;
        let db = &state(ctx)?.db;
        let mut court_id = None;
        if let Some(code) = court {
            let code = CourtCode::parse("court", &code)
                .map_err(AppError::from)
                .gql()?;
            court_id = Some(refs::court_id(db, "court", &code).await.gql()?);
        }
        let scope = Scope::of(db, caller(ctx)?).await.gql()?;
        // The orders and what the selection shows of them in one read, for the loaders to hand
        // out (and record for the audit row) as if they had fetched them.
        let look = ctx.look_ahead();
        let wanted = case_lookup::Wanted {
            court: look.field("court").exists(),
            parties: look.field("parties").exists(),
            service: look.field("served").exists() || look.field("serviceRecords").exists(),
        };
        let (rows, related) = case_lookup::orders_by_case_number(
            db,
            &scope,
            key.key(),
            court_id,
            MAX_PAGE as u64,
            wanted,
        )
        .await
        .gql()?;
        loader(ctx)?.loader().prefetch(related);
        if let Some(l) = log(ctx) {
            l.orders(&rows);
        }
        Ok(rows.into_iter().map(Order).collect())
    }

    /// All orders, newest first, filtered: for analysts exploring and for list screens.
    #[expect(
        clippy::too_many_arguments,
        reason = "one argument per GraphQL field argument"
    )]
    #[graphql(
        guard = "Need(Permission::ReadDeidentified)",
        complexity = "crate::graphql::limits::page_cost(first, crate::service::reads::DEFAULT_PAGE, MAX_PAGE, child_complexity)"
    )]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        court: Option<String>,
        family: Option<OrderFamily>,
        status: Option<OrderStatus>,
        as_of: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        let court_id = match court {
            Some(code) => {
                let code = CourtCode::parse("court", &code)
                    .map_err(AppError::from)
                    .gql()?;
                Some(
                    refs::court_id(&state(ctx)?.db, "court", &code)
                        .await
                        .gql()?,
                )
            }
            None => None,
        };
        let filter = OrderFilter {
            court_id,
            family,
            status,
            as_of,
            ..Default::default()
        };
        order_connection(ctx, filter, first, after).await
    }
}

#[derive(Default)]
pub struct PersonQuery;

#[Object]
impl PersonQuery {
    /// One person; error `NOT_FOUND` when the id names no person.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Person>> {
        match person_by_id(ctx, &id).await? {
            Some(p) => Ok(Some(p)),
            None => Err(AppError::not_found(format!("person {}", id.as_str()))).gql(),
        }
    }
}

#[derive(Default)]
pub struct CourtQuery;

#[Object]
impl CourtQuery {
    /// All courts, by code.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn courts(
        &self,
        ctx: &Context<'_>,
        court_type: Option<CourtType>,
        participation_mode: Option<ParticipationMode>,
    ) -> async_graphql::Result<Vec<Court>> {
        let mut q = court::Entity::find();
        if let Some(t) = court_type {
            q = q.filter(court::Column::CourtType.eq(t.as_db()));
        }
        if let Some(m) = participation_mode {
            q = q.filter(court::Column::ParticipationMode.eq(m.as_db()));
        }
        let rows = q
            .order_by_asc(court::Column::Code)
            .all(&state(ctx)?.db)
            .await
            .gql()?;
        Ok(rows.into_iter().map(Court).collect())
    }

    /// A court by code (`SC19`); error `NOT_FOUND` when there is none.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn court(&self, ctx: &Context<'_>, code: String) -> async_graphql::Result<Option<Court>> {
        let code = CourtCode::parse("code", &code)
            .map_err(AppError::from)
            .gql()?;
        match refs::court_by_code(&state(ctx)?.db, code.as_str())
            .await
            .gql()?
        {
            Some(c) => Ok(Some(Court(c))),
            None => Err(AppError::not_found(format!("court {}", code.as_str()))).gql(),
        }
    }

    /// All law-enforcement agencies, by ORI.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn agencies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Agency>> {
        let rows = agency::Entity::find()
            .order_by_asc(agency::Column::Ori)
            .all(&state(ctx)?.db)
            .await
            .gql()?;
        Ok(rows.into_iter().map(Agency).collect())
    }

    /// An agency by ORI; error `NOT_FOUND` when there is none.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn agency(
        &self,
        ctx: &Context<'_>,
        ori: String,
    ) -> async_graphql::Result<Option<Agency>> {
        let ori = Ori::parse("ori", &ori).map_err(AppError::from).gql()?;
        match refs::agency_by_ori(&state(ctx)?.db, &ori).await.gql()? {
            Some(a) => Ok(Some(Agency(a))),
            None => Err(AppError::not_found(format!("agency {}", ori.as_str()))).gql(),
        }
    }
}
