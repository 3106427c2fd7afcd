//! A person's orders across all courts, over their linked identity, grouped into chains
//! (TRO → continuance → OAH → amended → renewed → terminated) as of an instant.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entities::{court, order, order_event, order_party, person, person_link, service_record};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, UnionType};
use sea_orm::{ColumnTrait, ConnectionTrait, FromQueryResult, Iterable};

use crate::domain::codes::PartyRole;
use crate::error::AppResult;
use crate::service::identity;
use crate::service::joined::{optional, select_nulls, select_prefixed};

/// One chain of orders that replaced each other.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Chain {
    pub root_id: i32,
    /// Issued by `as_of`, oldest first.
    pub orders: Vec<order::Model>,
    /// The person's (or a linked record's) roles in the chain.
    pub roles: Vec<PartyRole>,
}

impl Chain {
    /// The chain's order that stood at the instant: the last one issued by then.
    pub fn current(&self) -> Option<&order::Model> {
        self.orders.last()
    }
}

/// What `personHistory` shows.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// The person's record and every record linked to it.
    pub identity: BTreeSet<i32>,
    /// Most recent activity first.
    pub chains: Vec<Chain>,
}

/// What a history read fetches beside the chains, as far as the caller's selection shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    /// Links touching the identity's records.
    pub links: bool,
    /// Each order's events and service records.
    pub events: bool,
    /// Each order's parties and their persons.
    pub parties: bool,
}

/// Rows a history read brings along: what the dashboard shows next to the chains (the linked
/// records and their links, each order's parties and their persons, events, service records, the
/// issuing courts), handed to the request's loaders so they need not fetch them again.
#[derive(Debug, Default)]
pub struct Related {
    /// The identity's records and every party's person.
    pub persons: Vec<person::Model>,
    /// Links touching the identity's records (when wanted).
    pub links: Option<Vec<person_link::Model>>,
    pub courts: Vec<court::Model>,
    /// Every party of each order of the history, by order id (when wanted).
    pub parties: Option<BTreeMap<i32, Vec<order_party::Model>>>,
    /// Every event of each order, oldest first (when wanted).
    pub events: Option<BTreeMap<i32, Vec<order_event::Model>>>,
    /// Every service record of each order, earliest first (when wanted).
    pub service: Option<BTreeMap<i32, Vec<service_record::Model>>>,
}

/// The history of `person_id` as of `as_of`, limited to `court_ids` when the caller's token is
/// narrowed to some counties, and the rows around it (`service::joined`), in at most three
/// statements:
/// the identity's records with their links; the chains' orders joined to their courts, parties
/// and the parties' persons; the orders' events and service records. Through the loaders it was
/// nine.
pub async fn person_history<C: ConnectionTrait>(
    db: &C,
    person_id: i32,
    as_of: DateTime<Utc>,
    court_ids: Option<&[i32]>,
    wanted: Wanted,
) -> AppResult<(History, Related)> {
    let (mut persons, links) = identity::identity_rows(db, person_id, wanted.links).await?;
    let mut ident: BTreeSet<i32> = persons.iter().map(|p| p.id).collect();
    ident.insert(person_id);

    let (o, c, p, pp) = ("o", "c", "p", "pp");
    let involving = Query::select()
        .column(order_party::Column::OrderId)
        .from(order_party::Entity)
        .and_where(order_party::Column::PersonId.is_in(ident.iter().copied()))
        .to_owned();
    let roots = Query::select()
        .column(order::Column::ChainRootId)
        .from(order::Entity)
        .and_where(order::Column::Id.in_subquery(involving))
        .to_owned();
    let mut q = Query::select();
    select_prefixed(&mut q, o, order::Column::iter());
    select_prefixed(&mut q, c, court::Column::iter());
    select_prefixed(&mut q, p, order_party::Column::iter());
    // Every party of each order when the selection shows them; otherwise only the person's own
    // (for the chains' roles).
    let mut party_on = Expr::col((Alias::new(p), order_party::Column::OrderId))
        .equals((Alias::new(o), order::Column::Id));
    if wanted.parties {
        select_prefixed(&mut q, pp, person::Column::iter());
    } else {
        party_on = party_on.and(
            Expr::col((Alias::new(p), order_party::Column::PersonId)).is_in(ident.iter().copied()),
        );
    }
    q.from_as(order::Entity, Alias::new(o))
        .join_as(
            JoinType::InnerJoin,
            court::Entity,
            Alias::new(c),
            Expr::col((Alias::new(c), court::Column::Id))
                .equals((Alias::new(o), order::Column::CourtId)),
        )
        .join_as(
            JoinType::LeftJoin,
            order_party::Entity,
            Alias::new(p),
            party_on,
        );
    if wanted.parties {
        q.join_as(
            JoinType::LeftJoin,
            person::Entity,
            Alias::new(pp),
            Expr::col((Alias::new(pp), person::Column::Id))
                .equals((Alias::new(p), order_party::Column::PersonId)),
        );
    }
    q.and_where(Expr::col((Alias::new(o), order::Column::ChainRootId)).in_subquery(roots))
        .and_where(Expr::col((Alias::new(o), order::Column::IssuedAt)).lte(as_of));
    if let Some(ids) = court_ids {
        q.and_where(Expr::col((Alias::new(o), order::Column::CourtId)).is_in(ids.iter().copied()));
    }
    q.order_by((Alias::new(o), order::Column::IssuedAt), Order::Asc)
        .order_by((Alias::new(o), order::Column::Id), Order::Asc)
        .order_by((Alias::new(p), order_party::Column::Id), Order::Asc);
    let rows = db
        .query_all_raw(db.get_database_backend().build(&q))
        .await?;

    let mut related = Related::default();
    let mut parties: BTreeMap<i32, Vec<order_party::Model>> = BTreeMap::new();
    let mut orders: Vec<order::Model> = Vec::new();
    let mut seen_courts = BTreeSet::new();
    let mut seen_persons = ident.clone();
    let mut roles: BTreeMap<i32, Vec<PartyRole>> = BTreeMap::new();
    for row in rows {
        let order_id: i32 = row.try_get("o_", "id")?;
        if orders.last().is_none_or(|last| last.id != order_id) {
            orders.push(order::Model::from_query_result(&row, "o_")?);
            parties.insert(order_id, Vec::new());
        }
        let court_id: i32 = row.try_get("c_", "id")?;
        if seen_courts.insert(court_id) {
            related
                .courts
                .push(court::Model::from_query_result(&row, "c_")?);
        }
        // The left joins: an order without parties yields one row of nulls.
        let Some(party) = optional::<order_party::Model>(&row, p)? else {
            continue;
        };
        if ident.contains(&party.person_id) {
            let root = orders.last().map_or(order_id, |o| o.chain_root_id);
            let role = PartyRole::from_db(&party.role)?;
            let list = roles.entry(root).or_default();
            if !list.contains(&role) {
                list.push(role);
            }
        }
        if wanted.parties
            && seen_persons.insert(party.person_id)
            && let Some(person) = optional::<person::Model>(&row, pp)?
        {
            persons.push(person);
        }
        parties.entry(order_id).or_default().push(party);
    }
    related.parties = wanted.parties.then_some(parties);
    related.persons = persons;
    related.links = wanted.links.then_some(links);
    if wanted.events {
        let (events, service) = events_and_service(db, orders.iter().map(|o| o.id)).await?;
        related.events = Some(events);
        related.service = Some(service);
    }

    let mut chains: BTreeMap<i32, Chain> = BTreeMap::new();
    for o in orders {
        let root = o.chain_root_id;
        chains
            .entry(root)
            .or_insert_with(|| Chain {
                root_id: root,
                orders: Vec::new(),
                roles: roles.remove(&root).unwrap_or_default(),
            })
            .orders
            .push(o);
    }
    let mut chains: Vec<Chain> = chains.into_values().collect();
    let latest = |c: &Chain| c.current().map(|o| (o.issued_at, o.id));
    chains.sort_by_key(|c| std::cmp::Reverse(latest(c)));
    Ok((
        History {
            identity: ident,
            chains,
        },
        related,
    ))
}

/// Events (oldest first) and service records (earliest first) of `orders`, by order id, in one
/// statement.
async fn events_and_service<C: ConnectionTrait>(
    db: &C,
    orders: impl Iterator<Item = i32> + Clone,
) -> AppResult<(
    BTreeMap<i32, Vec<order_event::Model>>,
    BTreeMap<i32, Vec<service_record::Model>>,
)> {
    let (e, s) = ("e", "s");
    let mut events: BTreeMap<i32, Vec<order_event::Model>> =
        orders.clone().map(|id| (id, Vec::new())).collect();
    let mut service: BTreeMap<i32, Vec<service_record::Model>> =
        orders.clone().map(|id| (id, Vec::new())).collect();
    if events.is_empty() {
        return Ok((events, service));
    }
    let mut q = Query::select();
    select_prefixed(&mut q, e, order_event::Column::iter());
    select_nulls(&mut q, s, service_record::Column::iter());
    q.from_as(order_event::Entity, Alias::new(e))
        .and_where(Expr::col((Alias::new(e), order_event::Column::OrderId)).is_in(orders.clone()));
    let mut served = Query::select();
    select_nulls(&mut served, e, order_event::Column::iter());
    select_prefixed(&mut served, s, service_record::Column::iter());
    served
        .from_as(service_record::Entity, Alias::new(s))
        .and_where(Expr::col((Alias::new(s), service_record::Column::OrderId)).is_in(orders));
    q.union(UnionType::All, served);
    for row in db
        .query_all_raw(db.get_database_backend().build(&q))
        .await?
    {
        if let Some(ev) = optional::<order_event::Model>(&row, e)? {
            events.entry(ev.order_id).or_default().push(ev);
        } else if let Some(sr) = optional::<service_record::Model>(&row, s)? {
            service.entry(sr.order_id).or_default().push(sr);
        }
    }
    for list in events.values_mut() {
        list.sort_by_key(|ev| (ev.occurred_at, ev.id));
    }
    for list in service.values_mut() {
        list.sort_by_key(|sr| (sr.served_at, sr.id));
    }
    Ok((events, service))
}
