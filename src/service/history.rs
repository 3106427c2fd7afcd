//! A person's orders across all courts, over their linked identity, grouped into chains
//! (TRO → continuance → OAH → amended → renewed → terminated) as of an instant.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entities::{court, order, order_event, order_party, person, person_link, service_record};
use sea_orm::sea_query::{Alias, BinOper, Condition, Expr, ExprTrait, JoinType, UnionType};
use sea_orm::{ConnectionTrait, DbBackend, EntityName, FromQueryResult};

use crate::cache::{CacheKind, Computed, RequestCache, ttl_for_orders};
use crate::domain::codes::PartyRole;
use crate::error::{AppError, AppResult};
use crate::service::identity;
use crate::service::joined::{Stack, optional};
use crate::service::scope::Scope;
use crate::service::statements;

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
    /// Every link touching each of the identity's records, by record (when wanted).
    pub links: Option<HashMap<i32, Vec<person_link::Model>>>,
    pub courts: Vec<court::Model>,
    /// Every party of each order of the history, by order id (when wanted).
    pub parties: Option<BTreeMap<i32, Vec<order_party::Model>>>,
    /// Every event of each order, oldest first (when wanted).
    pub events: Option<BTreeMap<i32, Vec<order_event::Model>>>,
    /// Every service record of each order, earliest first (when wanted).
    pub service: Option<BTreeMap<i32, Vec<service_record::Model>>>,
}

/// A history as `personHistory` shows it.
#[derive(Debug)]
pub struct HistoryRead {
    pub history: History,
    /// The instant asked about (now when none was).
    pub as_of: DateTime<Utc>,
    /// What the read brought along for the request's loaders; `None` when the history came
    /// from the cache.
    pub related: Option<Related>,
}

/// The history of `person_id` as of `asked` (now when `None`) for a caller of `scope`; `None`
/// when the person is outside the scope or names no record, alike. The scope is checked before
/// anything is read. Cached (`CacheKind::History`) under a key holding everything that changes
/// the answer, the instant asked for ("now" is refreshed by writes, which bump the generation)
/// and the scope's courts, until the first order it holds changes status on its own.
pub async fn read<C: ConnectionTrait>(
    db: &C,
    cache: Option<&RequestCache>,
    scope: &Scope,
    person_id: i32,
    asked: Option<DateTime<Utc>>,
    wanted: Wanted,
) -> AppResult<Option<HistoryRead>> {
    // Outside a narrowed token's counties the person answers as one that does not exist.
    if !scope.person_visible(db, person_id).await? {
        return Ok(None);
    }
    let as_of = asked.unwrap_or_else(Utc::now);
    let key = format!(
        "{person_id}:{}:{}",
        asked.map_or_else(|| "now".to_owned(), |t| t.timestamp_micros().to_string()),
        scope.courts_key(),
    );
    let found = RequestCache::get_or_compute(cache, CacheKind::History, &key, async || {
        // The person's own row comes with the history (and so does whatever else the selection
        // shows beside the chains): one round trip instead of one per loader.
        let (history, related) =
            person_history(db, person_id, as_of, scope.court_ids(), wanted).await?;
        if !related.persons.iter().any(|p| p.id == person_id) {
            return Err(Missing::Absent);
        }
        let ttl = ttl_for_orders(history.chains.iter().flat_map(|c| &c.orders), Utc::now());
        Ok(Computed {
            value: history,
            ttl,
            extra: related,
        })
    })
    .await;
    match found {
        Ok((history, related)) => Ok(Some(HistoryRead {
            history,
            as_of,
            related,
        })),
        Err(Missing::Absent) => Ok(None),
        Err(Missing::Failed(e)) => Err(e),
    }
}

/// Why a history was not computed: no such person (nothing to cache), or a failure.
enum Missing {
    Absent,
    Failed(AppError),
}

impl From<AppError> for Missing {
    fn from(e: AppError) -> Self {
        Self::Failed(e)
    }
}

/// The history of `person_id` as of `as_of`, limited to `court_ids` when the caller's token is
/// narrowed to some counties, and the rows around it, in one statement (`service::joined`): the
/// identity's records and, when wanted, their links; the chains' orders with their courts, parties
/// and, when wanted, the parties' persons; when wanted, the orders' events and service records.
/// Through the loaders the bench dashboard took ten statements.
pub async fn person_history<C: ConnectionTrait>(
    db: &C,
    person_id: i32,
    as_of: DateTime<Utc>,
    court_ids: Option<&[i32]>,
    wanted: Wanted,
) -> AppResult<(History, Related)> {
    let backend = db.get_database_backend();
    let shape = Shape {
        links: wanted.links,
        events: wanted.events,
        parties: wanted.parties,
        courts: court_ids.map(<[i32]>::len),
    };
    let mut values: Vec<sea_orm::Value> = vec![person_id.into(), as_of.into()];
    values.extend(court_ids.unwrap_or_default().iter().map(|&id| id.into()));
    let rows = db
        .query_all_raw(statements::statement(backend, shape, values))
        .await?;
    let (c, p, pp, l, e, s) = ("c", "p", "pp", "l", "e", "s");

    let mut records: BTreeMap<i32, person::Model> = BTreeMap::new();
    let mut party_persons: BTreeMap<i32, person::Model> = BTreeMap::new();
    let mut by_id: BTreeMap<i32, order::Model> = BTreeMap::new();
    let mut courts: BTreeMap<i32, court::Model> = BTreeMap::new();
    let mut parties: BTreeMap<i32, Vec<order_party::Model>> = BTreeMap::new();
    let mut links = Vec::new();
    let mut events: BTreeMap<i32, Vec<order_event::Model>> = BTreeMap::new();
    let mut service: BTreeMap<i32, Vec<service_record::Model>> = BTreeMap::new();
    for row in rows {
        if let Some(order_id) = row.try_get::<Option<i32>>("o_", "id")? {
            if let std::collections::btree_map::Entry::Vacant(slot) = by_id.entry(order_id) {
                slot.insert(order::Model::from_query_result(&row, "o_")?);
                parties.insert(order_id, Vec::new());
            }
            if let Some(court) = optional::<court::Model>(&row, c)? {
                courts.entry(court.id).or_insert(court);
            }
            // The left joins: an order without parties yields one row of nulls.
            if let Some(party) = optional::<order_party::Model>(&row, p)? {
                parties.entry(order_id).or_default().push(party);
            }
            if let Some(person) = optional::<person::Model>(&row, pp)? {
                party_persons.entry(person.id).or_insert(person);
            }
        } else if let Some(person) = optional::<person::Model>(&row, pp)? {
            records.insert(person.id, person);
        } else if let Some(link) = optional::<person_link::Model>(&row, l)? {
            links.push(link);
        } else if let Some(ev) = optional::<order_event::Model>(&row, e)? {
            events.entry(ev.order_id).or_default().push(ev);
        } else if let Some(sr) = optional::<service_record::Model>(&row, s)? {
            service.entry(sr.order_id).or_default().push(sr);
        }
    }

    let mut ident: BTreeSet<i32> = records.keys().copied().collect();
    ident.insert(person_id);
    let mut orders: Vec<order::Model> = by_id.into_values().collect();
    orders.sort_by_key(|o| (o.issued_at, o.id));
    let mut roles: BTreeMap<i32, Vec<PartyRole>> = BTreeMap::new();
    for o in &orders {
        let mut list = parties.remove(&o.id).unwrap_or_default();
        list.sort_by_key(|party| party.id);
        for party in list.iter().filter(|party| ident.contains(&party.person_id)) {
            let role = PartyRole::from_db(&party.role)?;
            let chain = roles.entry(o.chain_root_id).or_default();
            if !chain.contains(&role) {
                chain.push(role);
            }
        }
        parties.insert(o.id, list);
    }
    for list in events.values_mut() {
        list.sort_by_key(|ev| (ev.occurred_at, ev.id));
    }
    for list in service.values_mut() {
        list.sort_by_key(|sr| (sr.served_at, sr.id));
    }
    links.sort_by_key(|link: &person_link::Model| link.id);
    let links_of = identity::links_by_member(links, ident.iter().copied());
    let ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
    let mut persons: Vec<person::Model> = records.into_values().collect();
    persons.extend(
        party_persons
            .into_iter()
            .filter(|(id, _)| !ident.contains(id))
            .map(|(_, person)| person),
    );
    let related = Related {
        persons,
        links: wanted.links.then_some(links_of),
        courts: courts.into_values().collect(),
        parties: wanted.parties.then_some(parties),
        events: wanted.events.then(|| for_each_order(events, &ids)),
        service: wanted.events.then(|| for_each_order(service, &ids)),
    };

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

/// What decides a history statement's text (with the backend): everything else is a bound value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    links: bool,
    events: bool,
    parties: bool,
    /// How many courts the caller is narrowed to, if narrowed.
    courts: Option<usize>,
}

impl statements::Shape for Shape {
    fn sql(self, backend: DbBackend) -> String {
        history_sql(backend, self)
    }
}

/// The history statement for `shape`, its values bound in this order: the person's id, `as_of`,
/// then the courts. The identity (its records, by their root in `person_identity`) and the history's order ids
/// are common table expressions, so each is worked out once per statement however many
/// branches read it.
fn history_sql(backend: DbBackend, shape: Shape) -> String {
    let (o, c, p, pp, l, e, s) = ("o", "c", "p", "pp", "l", "e", "s");
    let col = |table: &str, column: &str| Expr::col((Alias::new(table), Alias::new(column)));
    let in_identity =
        |table: &str, column: &str| col(table, column).binary(BinOper::In, Expr::cust(IDENT));
    let in_history =
        |table: &str, column: &str| col(table, column).binary(BinOper::In, Expr::cust(HIST));

    // The tables the statement stacks, under the aliases `person_history` reads them back by.
    let stack = Stack::default()
        .group(o, order::Entity)
        .group(c, court::Entity)
        .group(p, order_party::Entity)
        .group(pp, person::Entity)
        .group(l, person_link::Entity)
        .group(e, order_event::Entity)
        .group(s, service_record::Entity);
    let mut q = stack.typing_branch();
    // The identity's records.
    let mut records = stack.branch(&[pp]);
    records
        .from_as(person::Entity, Alias::new(pp))
        .and_where(in_identity(pp, "id"));
    q.union(UnionType::All, records);
    // The orders, each joined to its court and its parties: all of them (with their persons)
    // when the selection shows parties, else the identity's own, for the chains' roles.
    let active = if shape.parties {
        vec![o, c, p, pp]
    } else {
        vec![o, c, p]
    };
    let mut orders = stack.branch(&active);
    let mut party_on = col(p, "order_id").equals((Alias::new(o), Alias::new("id")));
    if !shape.parties {
        party_on = party_on.and(in_identity(p, "person_id"));
    }
    orders
        .from_as(order::Entity, Alias::new(o))
        .join_as(
            JoinType::InnerJoin,
            court::Entity,
            Alias::new(c),
            col(c, "id").equals((Alias::new(o), Alias::new("court_id"))),
        )
        .join_as(
            JoinType::LeftJoin,
            order_party::Entity,
            Alias::new(p),
            party_on,
        );
    if shape.parties {
        orders.join_as(
            JoinType::LeftJoin,
            person::Entity,
            Alias::new(pp),
            col(pp, "id").equals((Alias::new(p), Alias::new("person_id"))),
        );
    }
    orders.and_where(in_history(o, "id"));
    q.union(UnionType::All, orders);
    if shape.links {
        let mut links = stack.branch(&[l]);
        links
            .from_as(person_link::Entity, Alias::new(l))
            .cond_where(
                Condition::any()
                    .add(in_identity(l, "person_a"))
                    .add(in_identity(l, "person_b")),
            );
        q.union(UnionType::All, links);
    }
    if shape.events {
        let mut events = stack.branch(&[e]);
        events
            .from_as(order_event::Entity, Alias::new(e))
            .and_where(in_history(e, "order_id"));
        q.union(UnionType::All, events);
        let mut service = stack.branch(&[s]);
        service
            .from_as(service_record::Entity, Alias::new(s))
            .and_where(in_history(s, "order_id"));
        q.union(UnionType::All, service);
    }
    // The stack itself binds nothing: its values are all in the prefix below.
    let body = backend.build(&q);
    debug_assert!(body.values.is_none_or(|v| v.0.is_empty()));
    let body = body.sql;

    let order_table = order::Entity.table_name();
    let party_table = order_party::Entity.table_name();
    let courts = match shape.courts {
        None => String::new(),
        Some(0) => " AND 1 = 0".to_owned(),
        Some(n) => {
            let marks: Vec<String> = (3..3 + n)
                .map(|i| crate::db::placeholder(backend, i))
                .collect();
            format!(" AND h.court_id IN ({})", marks.join(","))
        }
    };
    // The history's orders: every order issued by `as_of`, within the caller's courts, of each
    // chain that involves one of the identity's records.
    format!(
        "{ident}, hist(id) AS ( \
           SELECT h.id FROM {order_table} h \
           WHERE h.chain_root_id IN ( \
             SELECT chain_root_id FROM {order_table} WHERE id IN ( \
               SELECT order_id FROM {party_table} WHERE person_id IN {IDENT})) \
           AND h.issued_at <= {as_of}{courts}) \
         {body}",
        ident = identity::ident_cte(&crate::db::placeholder(backend, 1)),
        as_of = crate::db::placeholder(backend, 2),
    )
}

/// The identity's record ids, from the statement's `ident` expression.
const IDENT: &str = "(SELECT pid FROM ident)";
/// The history's order ids, from the statement's `hist` expression.
const HIST: &str = "(SELECT id FROM hist)";

/// `rows` with an entry, empty if need be, for each of `orders`: what a loader hands out for an
/// order that has none.
pub(crate) fn for_each_order<T>(
    mut rows: BTreeMap<i32, Vec<T>>,
    orders: &[i32],
) -> BTreeMap<i32, Vec<T>> {
    for id in orders {
        rows.entry(*id).or_default();
    }
    rows
}
