//! A person's orders across all courts, over their linked identity, grouped into chains
//! (TRO → continuance → OAH → amended → renewed → terminated) as of an instant. Three statements:
//! the identity, the chains, and the person's parts in them.
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use entities::{order, order_party};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::domain::codes::PartyRole;
use crate::error::AppResult;
use crate::service::identity;

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

/// The history of `person_id` as of `as_of`, limited to `court_ids` when the caller's token is
/// narrowed to some counties.
pub async fn person_history<C: ConnectionTrait>(
    db: &C,
    person_id: i32,
    as_of: DateTime<Utc>,
    court_ids: Option<&[i32]>,
) -> AppResult<History> {
    let ident = identity::identity_of(db, person_id).await?;
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
    let mut q = order::Entity::find()
        .filter(order::Column::ChainRootId.in_subquery(roots))
        .filter(order::Column::IssuedAt.lte(as_of));
    if let Some(ids) = court_ids {
        q = q.filter(order::Column::CourtId.is_in(ids.iter().copied()));
    }
    let orders = q
        .order_by_asc(order::Column::IssuedAt)
        .order_by_asc(order::Column::Id)
        .all(db)
        .await?;
    let parts = order_party::Entity::find()
        .filter(order_party::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .filter(order_party::Column::PersonId.is_in(ident.iter().copied()))
        .all(db)
        .await?;
    let mut roles: BTreeMap<i32, Vec<PartyRole>> = BTreeMap::new();
    let root_of: BTreeMap<i32, i32> = orders.iter().map(|o| (o.id, o.chain_root_id)).collect();
    for p in parts {
        if let Some(root) = root_of.get(&p.order_id) {
            let role = PartyRole::from_db(&p.role)?;
            let list = roles.entry(*root).or_default();
            if !list.contains(&role) {
                list.push(role);
            }
        }
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
    Ok(History {
        identity: ident,
        chains,
    })
}
