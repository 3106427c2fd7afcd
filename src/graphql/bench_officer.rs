//! The bench officer's view: a person's history across courts grouped into chains as of an
//! instant, and conflicting orders with the order that controls enforcement.
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entities::order;

use crate::auth::Permission;
use crate::domain::codes::PartyRole;
use crate::domain::conflict_rules::{ConflictKind, Direction};
use crate::domain::ids::{self, Kind};
use crate::domain::precedence::PrecedenceRule;
use crate::domain::status::OrderStatus;
use crate::error::AppError;
use crate::graphql::access::{Need, caller, log, order_visible, parties_in_scope};
use crate::graphql::identity::Identity;
use crate::graphql::inputs::CreateOrderInput;
use crate::graphql::loaders::{CourtId, PersonId, ServiceOf};
use crate::graphql::types::{Court, Order, Person};
use crate::graphql::{GqlResult, loader, request_cache, state};
use crate::service::conflicts::{self, Conflict};
use crate::service::history::{self, Chain, HistoryRead};
use crate::service::reads::lifecycle;
use crate::service::scope::Scope;

/// How another order's parties overlap.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlapDirection {
    /// Same restrained and protected persons.
    Same,
    /// The parties swapped: this order's protected person is restrained by the other.
    Reverse,
}

/// One conflicting term, with its source.
#[derive(SimpleObject)]
pub struct ConflictFinding {
    pub kind: ConflictKind,
    pub detail: String,
    pub citation: String,
}

/// The order law enforcement enforces. For an order between the same parties as the checked one
/// it is the one controlling order among the checked order and all the overlapping orders between
/// those parties (the same answer on each of them); for an order with the parties swapped, it is
/// decided between the two.
#[derive(SimpleObject)]
pub struct ControllingOrder {
    /// The controlling order; null when it is the order being checked and not yet entered.
    pub order: Option<Order>,
    /// The order being checked (or just entered) controls.
    pub is_checked_order: bool,
    pub rule: PrecedenceRule,
    /// The statute the rule comes from (Fam. Code 6457 / PC 136.2).
    pub citation: String,
}

/// An active order whose parties overlap the checked one.
#[derive(SimpleObject)]
pub struct OrderConflict {
    pub order: Order,
    pub direction: OverlapDirection,
    /// What conflicts (empty: the orders overlap without conflicting terms).
    pub kinds: Vec<ConflictKind>,
    pub findings: Vec<ConflictFinding>,
    pub controlling: ControllingOrder,
}

impl OrderConflict {
    /// `controller` is the controlling order's row when it is another overlapping order.
    pub fn of(c: Conflict, controller: Option<order::Model>) -> Self {
        let is_checked = c.decision.controlling == c.subject.key;
        Self {
            kinds: c.findings.iter().map(|f| f.kind).collect(),
            findings: c
                .findings
                .into_iter()
                .map(|f| ConflictFinding {
                    kind: f.kind,
                    detail: f.detail,
                    citation: f.citation.to_owned(),
                })
                .collect(),
            direction: match c.direction {
                Direction::Same => OverlapDirection::Same,
                Direction::Reverse => OverlapDirection::Reverse,
            },
            controlling: ControllingOrder {
                order: (!is_checked).then(|| Order(controller.unwrap_or_else(|| c.other.clone()))),
                is_checked_order: is_checked,
                rule: c.decision.rule,
                citation: c.decision.rule.citation().to_owned(),
            },
            order: Order(c.other),
        }
    }
}

/// Records conflicting orders in the request's audit row and wraps them.
pub fn conflicts_out(ctx: &Context<'_>, found: Vec<Conflict>) -> Vec<OrderConflict> {
    if let Some(l) = log(ctx) {
        l.objects(found.iter().map(|c| ids::encode(Kind::Order, c.other.id)));
        // Conflicts are worked out as of the moment asked.
        l.momentary();
    }
    let rows: std::collections::HashMap<i32, order::Model> = found
        .iter()
        .map(|c| (c.other.id, c.other.clone()))
        .collect();
    found
        .into_iter()
        .map(|c| {
            let controller = c.decision.controlling.and_then(|id| rows.get(&id).cloned());
            OrderConflict::of(c, controller)
        })
        .collect()
}

/// Orders of one chain as of the history's instant.
pub struct OrderChain {
    chain: Chain,
    as_of: DateTime<Utc>,
}

impl OrderChain {
    fn stood(&self) -> async_graphql::Result<&order::Model> {
        self.chain
            .current()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("empty chain")))
            .gql()
    }
}

#[Object]
impl OrderChain {
    /// Id of the chain's first order.
    async fn root_order_id(&self) -> ID {
        ID(ids::encode(Kind::Order, self.chain.root_id))
    }
    /// Status at `asOf` of the order that stood then (the chain's last order issued by then).
    async fn status(&self) -> async_graphql::Result<OrderStatus> {
        Ok(lifecycle(self.stood()?).status_at(self.as_of))
    }
    /// Whether that order had been served by `asOf` (an unserved order is still valid; serve by
    /// verbal notice, Fam. Code 6383(e)).
    async fn served(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let id = self.stood()?.id;
        let rows = loader(ctx)?.load_one(ServiceOf(id)).await.gql()?;
        Ok(rows
            .unwrap_or_default()
            .iter()
            .any(|s| s.served_at <= self.as_of))
    }
    /// The person's roles in the chain (over linked records).
    async fn roles(&self) -> Vec<PartyRole> {
        self.chain.roles.clone()
    }
    /// The order that stood at `asOf`: its conditions are the chain's key conditions.
    async fn current(&self) -> async_graphql::Result<Order> {
        Ok(Order(self.stood()?.clone()))
    }
    /// The custody and visitation terms of the order that stood at `asOf` (a modification or
    /// renewal carries them over unless it replaces them). They outlive the restraining order
    /// (DV-130), so they are shown after the chain's order has expired or ended.
    async fn custody_terms(&self) -> Option<&str> {
        self.chain
            .current()
            .and_then(|o| o.custody_terms.as_deref())
    }
    /// Every order of the chain issued by `asOf`, oldest first (TRO → OAH → amended → renewed).
    async fn orders(&self) -> Vec<Order> {
        self.chain.orders.iter().cloned().map(Order).collect()
    }
    /// Courts that issued orders of the chain.
    async fn courts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Court>> {
        let mut ids: Vec<i32> = self.chain.orders.iter().map(|o| o.court_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let found = loader(ctx)?
            .load_many(ids.iter().map(|&i| CourtId(i)))
            .await
            .gql()?;
        Ok(ids
            .iter()
            .filter_map(|i| found.get(&CourtId(*i)).cloned().map(Court))
            .collect())
    }
    async fn first_issued_at(&self) -> Option<DateTime<Utc>> {
        self.chain.orders.first().map(|o| o.issued_at)
    }
    async fn last_issued_at(&self) -> Option<DateTime<Utc>> {
        self.chain.current().map(|o| o.issued_at)
    }
}

/// Everything about one person across all courts, as of an instant.
pub struct PersonHistory {
    person: Person,
    as_of: DateTime<Utc>,
    identity: Vec<i32>,
    chains: Vec<OrderChain>,
}

#[Object]
impl PersonHistory {
    async fn person(&self) -> &Person {
        &self.person
    }
    async fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }
    /// The records of this person in other courts that the history covers.
    async fn identity(&self) -> Identity {
        Identity {
            members: self.identity.clone(),
        }
    }
    /// Chains, most recent activity first.
    async fn chains(&self) -> &[OrderChain] {
        &self.chains
    }
    /// Chains whose order in force at `asOf` is active.
    async fn active_chain_count(&self) -> usize {
        self.chains
            .iter()
            .filter(|c| {
                c.chain
                    .current()
                    .is_some_and(|o| lifecycle(o).status_at(self.as_of) == OrderStatus::Active)
            })
            .count()
    }
}

#[derive(Default)]
pub struct BenchQuery;

/// What the `personHistory` selection shows beside the chains, so its read fetches just that.
fn wanted(ctx: &Context<'_>) -> history::Wanted {
    let look = ctx.look_ahead();
    let chains = look.field("chains");
    let on_orders = |field: &str| {
        chains.field("orders").field(field).exists()
            || chains.field("current").field(field).exists()
    };
    history::Wanted {
        links: look.field("identity").field("links").exists(),
        events: chains.field("served").exists() || on_orders("events") || on_orders("served"),
        parties: on_orders("parties"),
    }
}

#[Object]
impl BenchQuery {
    /// Every order involving the person (restrained or protected) across all courts and linked
    /// records, grouped into chains, with status at `asOf` (default now).
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn person_history(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        as_of: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<PersonHistory> {
        let id = ids::decode("personId", Kind::Person, &person_id)
            .map_err(AppError::from)
            .gql()?;
        let db = &state(ctx)?.db;
        let scope = Scope::of(db, caller(ctx)?).await.gql()?;
        let not_found = || AppError::not_found(format!("person {}", person_id.as_str()));
        let read = history::read(db, request_cache(ctx)?, &scope, id, as_of, wanted(ctx))
            .await
            .gql()?
            .ok_or_else(not_found)
            .gql()?;
        let HistoryRead {
            history: h,
            as_of,
            related,
        } = read;
        if let Some(related) = related {
            loader(ctx)?.loader().prefetch(related);
        }
        let person = loader(ctx)?
            .load_one(PersonId(id))
            .await
            .gql()?
            .ok_or_else(not_found)
            .gql()?;
        if let Some(l) = log(ctx) {
            l.orders(h.chains.iter().flat_map(|c| c.orders.iter()));
            l.objects(h.identity.iter().map(|p| ids::encode(Kind::Person, *p)));
        }
        Ok(PersonHistory {
            person: Person(person),
            as_of,
            identity: h.identity.into_iter().collect(),
            chains: h
                .chains
                .into_iter()
                .map(|chain| OrderChain { chain, as_of })
                .collect(),
        })
    }

    /// Active orders conflicting with an existing order, over linked identities.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn conflicts(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
    ) -> async_graphql::Result<Vec<OrderConflict>> {
        let id = ids::decode("orderId", Kind::Order, &order_id)
            .map_err(AppError::from)
            .gql()?;
        let db = &state(ctx)?.db;
        let not_found = || AppError::not_found(format!("order {}", order_id.as_str()));
        let o = loader(ctx)?
            .load_one(crate::graphql::loaders::OrderId(id))
            .await
            .gql()?
            .ok_or_else(not_found)
            .gql()?;
        if !order_visible(ctx, &o).await? {
            return Err(not_found()).gql();
        }
        let subject = conflicts::subject_of_order(db, id).await.gql()?;
        let found = conflicts::find(db, &subject, Utc::now()).await.gql()?;
        Ok(conflicts_out(ctx, in_scope(ctx, found).await?))
    }

    /// Active orders an order being drafted would conflict with (the same input as
    /// `createOrder`; nothing is stored). New persons stand for the records they would be
    /// linked to automatically.
    #[graphql(guard = "Need(Permission::ReadIdentified)")]
    async fn check_conflicts(
        &self,
        ctx: &Context<'_>,
        input: CreateOrderInput,
    ) -> async_graphql::Result<Vec<OrderConflict>> {
        let input = crate::service::commands::CreateOrder::from(input);
        let s = state(ctx)?;
        // Validation errors first, as for any caller; then the persons named by id.
        let draft = crate::service::orders::validated(&s.db, &input)
            .await
            .gql()?;
        parties_in_scope(ctx, &input.parties).await?;
        let found = conflicts::for_draft(&s.db, &s.search, &draft).await.gql()?;
        Ok(conflicts_out(ctx, in_scope(ctx, found).await?))
    }
}

/// A narrowed token sees conflicts with orders of its counties only.
pub async fn in_scope(
    ctx: &Context<'_>,
    found: Vec<Conflict>,
) -> async_graphql::Result<Vec<Conflict>> {
    let scope = Scope::of(&state(ctx)?.db, caller(ctx)?).await.gql()?;
    Ok(match scope.court_ids() {
        Some(courts) => {
            let mut shown: Vec<Conflict> = found
                .into_iter()
                .filter(|c| courts.contains(&c.other.court_id))
                .collect();
            // The controlling order is named among the orders shown (an order out of scope
            // answers as missing, docs/law/precedence.md#enforcement-order).
            conflicts::settle(&mut shown);
            shown
        }
        None => found,
    })
}
