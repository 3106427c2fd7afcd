//! The orders under one case number, with what an officer's lookup shows of them (the issuing
//! courts, the parties and their persons, the service records) in one statement
//! (`service::joined`). Through the loaders the LEA lookup took five reads, each two round trips.
use std::collections::BTreeMap;

use entities::{court, order, order_party, person, service_record};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, UnionType};
use sea_orm::{ConnectionTrait, DbBackend, EntityName, FromQueryResult};

use crate::error::AppResult;
use crate::service::history::{Related, for_each_order};
use crate::service::joined::{Stack, optional};
use crate::service::scope::Scope;
use crate::service::statements;

/// What the lookup's selection shows of each order, so its read fetches just that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Wanted {
    pub court: bool,
    /// Every party, with its person.
    pub parties: bool,
    /// Service records (`served`, `serviceRecords`).
    pub service: bool,
}

/// What decides the statement's text (with the backend): everything else is a bound value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    wanted: Wanted,
    /// Whether the caller named a court.
    court: bool,
    /// How many courts the caller is narrowed to, if narrowed.
    courts: Option<usize>,
}

impl statements::Shape for Shape {
    fn sql(self, backend: DbBackend) -> String {
        lookup_sql(backend, self)
    }
}

/// The orders whose case number key is `key`, in `court_id` when given and within the courts of
/// the caller's `scope` (applied by the statement itself, so nothing outside it is read), newest
/// first, at most `limit`; and the rows around them that `wanted` names, for the request's
/// loaders. Not cached: a case lookup is the officer's question of the moment.
pub async fn orders_by_case_number<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    key: &str,
    court_id: Option<i32>,
    limit: u64,
    wanted: Wanted,
) -> AppResult<(Vec<order::Model>, Related)> {
    let courts = scope.court_ids();
    let backend = db.get_database_backend();
    let shape = Shape {
        wanted,
        court: court_id.is_some(),
        courts: courts.map(<[i32]>::len),
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut values: Vec<sea_orm::Value> = vec![key.into(), limit.into()];
    values.extend(court_id.map(Into::into));
    values.extend(courts.unwrap_or_default().iter().map(|&id| id.into()));
    let rows = db
        .query_all_raw(statements::statement(backend, shape, values))
        .await?;

    let mut by_id: BTreeMap<i32, order::Model> = BTreeMap::new();
    let mut found_courts: BTreeMap<i32, court::Model> = BTreeMap::new();
    let mut parties: BTreeMap<i32, Vec<order_party::Model>> = BTreeMap::new();
    let mut persons: BTreeMap<i32, person::Model> = BTreeMap::new();
    let mut service: BTreeMap<i32, Vec<service_record::Model>> = BTreeMap::new();
    for row in rows {
        if let Some(order_id) = row.try_get::<Option<i32>>("o_", "id")? {
            if let std::collections::btree_map::Entry::Vacant(slot) = by_id.entry(order_id) {
                slot.insert(order::Model::from_query_result(&row, "o_")?);
            }
            if let Some(c) = optional::<court::Model>(&row, "c")? {
                found_courts.entry(c.id).or_insert(c);
            }
            // The left join: an order without parties yields one row of nulls.
            if let Some(party) = optional::<order_party::Model>(&row, "p")? {
                parties.entry(order_id).or_default().push(party);
            }
            if let Some(p) = optional::<person::Model>(&row, "pp")? {
                persons.entry(p.id).or_insert(p);
            }
        } else if let Some(sr) = optional::<service_record::Model>(&row, "s")? {
            service.entry(sr.order_id).or_default().push(sr);
        }
    }
    let mut orders: Vec<order::Model> = by_id.into_values().collect();
    orders.sort_by_key(|o| std::cmp::Reverse((o.issued_at, o.id)));
    let ids: Vec<i32> = orders.iter().map(|o| o.id).collect();
    for list in parties.values_mut() {
        list.sort_by_key(|party| party.id);
    }
    for list in service.values_mut() {
        list.sort_by_key(|sr| (sr.served_at, sr.id));
    }
    let related = Related {
        persons: persons.into_values().collect(),
        links: None,
        courts: found_courts.into_values().collect(),
        parties: wanted.parties.then(|| for_each_order(parties, &ids)),
        events: None,
        service: wanted.service.then(|| for_each_order(service, &ids)),
    };
    Ok((orders, related))
}

/// The statement for `shape`, its values bound in this order: the case number key, the limit,
/// the named court, then the caller's courts. The matching order ids are a common table
/// expression, worked out once however many branches read it.
fn lookup_sql(backend: DbBackend, shape: Shape) -> String {
    let (o, c, p, pp, s) = ("o", "c", "p", "pp", "s");
    let col = |table: &str, column: &str| Expr::col((Alias::new(table), Alias::new(column)));
    let stack = Stack::default()
        .group(o, order::Entity)
        .group(c, court::Entity)
        .group(p, order_party::Entity)
        .group(pp, person::Entity)
        .group(s, service_record::Entity);
    let mut q = stack.typing_branch();
    let mut active = vec![o];
    if shape.wanted.court {
        active.push(c);
    }
    if shape.wanted.parties {
        active.extend([p, pp]);
    }
    let mut orders = stack.branch(&active);
    orders.from_as(order::Entity, Alias::new(o));
    if shape.wanted.court {
        orders.join_as(
            JoinType::InnerJoin,
            court::Entity,
            Alias::new(c),
            col(c, "id").equals((Alias::new(o), Alias::new("court_id"))),
        );
    }
    if shape.wanted.parties {
        orders
            .join_as(
                JoinType::LeftJoin,
                order_party::Entity,
                Alias::new(p),
                col(p, "order_id").equals((Alias::new(o), Alias::new("id"))),
            )
            .join_as(
                JoinType::LeftJoin,
                person::Entity,
                Alias::new(pp),
                col(pp, "id").equals((Alias::new(p), Alias::new("person_id"))),
            );
    }
    orders.and_where(Expr::cust(format!("{o}.id IN {HITS}")));
    q.union(UnionType::All, orders);
    if shape.wanted.service {
        let mut records = stack.branch(&[s]);
        records
            .from_as(service_record::Entity, Alias::new(s))
            .and_where(Expr::cust(format!("{s}.order_id IN {HITS}")));
        q.union(UnionType::All, records);
    }
    // The stack itself binds nothing: its values are all in the prefix below.
    let body = backend.build(&q);
    debug_assert!(body.values.is_none_or(|v| v.0.is_empty()));
    let mark = |n: usize| crate::db::placeholder(backend, n);
    let mut next = 3;
    let mut filter = String::new();
    if shape.court {
        filter.push_str(&format!(" AND court_id = {}", mark(next)));
        next += 1;
    }
    match shape.courts {
        None => {}
        Some(0) => filter.push_str(" AND 1 = 0"),
        Some(n) => {
            let marks: Vec<String> = (next..next + n).map(mark).collect();
            filter.push_str(&format!(" AND court_id IN ({})", marks.join(",")));
        }
    }
    format!(
        "WITH hits(id) AS ( \
           SELECT id FROM {orders} WHERE case_number_key = {key}{filter} \
           ORDER BY issued_at DESC, id DESC LIMIT {limit}) \
         {body}",
        orders = order::Entity.table_name(),
        key = mark(1),
        limit = mark(2),
        body = body.sql,
    )
}

/// The matching order ids, from the statement's `hits` expression.
const HITS: &str = "(SELECT id FROM hits)";
