//! Reads: order lookups and cursor pages with status filters evaluated "as of" an instant.
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use entities::{order, order_party};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::domain::Invalid;
use crate::domain::order_rules::OrderFamily;
use crate::domain::status::{Lifecycle, OrderStatus};
use crate::error::AppResult;

/// Lifecycle facts of a stored order.
pub fn lifecycle(o: &order::Model) -> Lifecycle {
    Lifecycle {
        issued_at: o.issued_at,
        expires_at: o.expires_at,
        superseded_at: o.superseded_at,
        terminated_at: o.terminated_at,
        cancelled_at: o.cancelled_at,
    }
}

/// Largest page a client may ask for.
pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 20;

/// Which orders a page holds.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub person_id: Option<i32>,
    pub court_id: Option<i32>,
    pub family: Option<OrderFamily>,
    pub case_number_key: Option<String>,
    pub status: Option<OrderStatus>,
    /// Instant the status filter is evaluated at.
    pub as_of: Option<DateTime<Utc>>,
    /// Only orders of these courts (a token narrowed to some counties); `None`: all.
    pub court_ids: Option<Vec<i32>>,
    /// A work list's own condition (`service::work_lists`).
    pub extra: Option<Condition>,
}

/// Position in the newest-first order list: issue time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    pub issued_at: DateTime<Utc>,
    pub id: i32,
}

impl OrderCursor {
    pub fn of(o: &order::Model) -> Self {
        Self {
            issued_at: o.issued_at,
            id: o.id,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.issued_at.timestamp(), self.id))
    }

    pub fn decode(field: &str, s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::new(field, "not a cursor from this API");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (ts, id) = text.split_once('|').ok_or_else(bad)?;
        let ts = ts.parse::<i64>().map_err(|_| bad())?;
        Ok(Self {
            issued_at: DateTime::from_timestamp(ts, 0).ok_or_else(bad)?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// Not yet ended (cancelled, terminated, superseded) at `t`.
fn open_at(t: DateTime<Utc>) -> Condition {
    let not_by = |c: order::Column| Condition::any().add(c.is_null()).add(c.gt(t));
    Condition::all()
        .add(order::Column::IssuedAt.lte(t))
        .add(not_by(order::Column::CancelledAt))
        .add(not_by(order::Column::TerminatedAt))
        .add(not_by(order::Column::SupersededAt))
}

/// SQL for `Lifecycle::status_at` (same precedence).
pub fn status_condition(status: OrderStatus, t: DateTime<Utc>) -> Condition {
    let by = |c: order::Column| Condition::all().add(c.is_not_null()).add(c.lte(t));
    let not_by = |c: order::Column| Condition::any().add(c.is_null()).add(c.gt(t));
    let issued = order::Column::IssuedAt.lte(t);
    match status {
        OrderStatus::Pending => Condition::all().add(order::Column::IssuedAt.gt(t)),
        OrderStatus::Cancelled => Condition::all()
            .add(issued)
            .add(by(order::Column::CancelledAt)),
        OrderStatus::Terminated => Condition::all()
            .add(issued)
            .add(not_by(order::Column::CancelledAt))
            .add(by(order::Column::TerminatedAt)),
        OrderStatus::Superseded => Condition::all()
            .add(issued)
            .add(not_by(order::Column::CancelledAt))
            .add(not_by(order::Column::TerminatedAt))
            .add(by(order::Column::SupersededAt)),
        OrderStatus::Expired => open_at(t).add(by(order::Column::ExpiresAt)),
        OrderStatus::Active => open_at(t).add(not_by(order::Column::ExpiresAt)),
    }
}

/// Orders matching `filter`'s court, family, case number and status (not its person, which
/// callers select in their own way).
fn filtered_orders(filter: &OrderFilter) -> sea_orm::Select<order::Entity> {
    let mut q = order::Entity::find();
    if let Some(cid) = filter.court_id {
        q = q.filter(order::Column::CourtId.eq(cid));
    }
    if let Some(ids) = &filter.court_ids {
        q = q.filter(order::Column::CourtId.is_in(ids.iter().copied()));
    }
    if let Some(f) = filter.family {
        q = q.filter(order::Column::Family.eq(f.as_db()));
    }
    if let Some(k) = &filter.case_number_key {
        q = q.filter(order::Column::CaseNumberKey.eq(k.as_str()));
    }
    if let Some(s) = filter.status {
        q = q.filter(status_condition(s, filter.as_of.unwrap_or_else(Utc::now)));
    }
    if let Some(c) = &filter.extra {
        q = q.filter(c.clone());
    }
    q
}

/// One page of orders, newest first, and whether more follow.
pub async fn orders_page<C: ConnectionTrait>(
    db: &C,
    filter: &OrderFilter,
    first: usize,
    after: Option<OrderCursor>,
) -> AppResult<(Vec<order::Model>, bool)> {
    let mut q = filtered_orders(filter);
    if let Some(pid) = filter.person_id {
        q = q.filter(
            Expr::col((order::Entity, order::Column::Id)).in_subquery(
                Query::select()
                    .column(order_party::Column::OrderId)
                    .from(order_party::Entity)
                    .and_where(order_party::Column::PersonId.eq(pid))
                    .to_owned(),
            ),
        );
    }
    if let Some(c) = after {
        q = q.filter(
            Condition::any()
                .add(order::Column::IssuedAt.lt(c.issued_at))
                .add(
                    Condition::all()
                        .add(order::Column::IssuedAt.eq(c.issued_at))
                        .add(order::Column::Id.lt(c.id)),
                ),
        );
    }
    let limit = first.min(MAX_PAGE);
    let mut rows = q
        .order_by_desc(order::Column::IssuedAt)
        .order_by_desc(order::Column::Id)
        .limit(u64::try_from(limit + 1).unwrap_or(u64::MAX))
        .all(db)
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// The first page (newest first, `first` rows, and whether more follow) of each person's orders
/// matching `filter` (its `person_id` is not used). Two statements for any number of persons,
/// so a page of search hits showing their orders does not cost a statement per hit.
pub async fn first_orders_of_persons<C: ConnectionTrait>(
    db: &C,
    person_ids: &[i32],
    filter: &OrderFilter,
    first: usize,
) -> AppResult<HashMap<i32, (Vec<order::Model>, bool)>> {
    let mut out: HashMap<i32, (Vec<order::Model>, bool)> = person_ids
        .iter()
        .map(|p| (*p, (Vec::new(), false)))
        .collect();
    if person_ids.is_empty() {
        return Ok(out);
    }
    let parties: Vec<(i32, i32)> = order_party::Entity::find()
        .select_only()
        .column(order_party::Column::OrderId)
        .column(order_party::Column::PersonId)
        .filter(order_party::Column::PersonId.is_in(person_ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let mut order_ids: Vec<i32> = parties.iter().map(|(o, _)| *o).collect();
    order_ids.sort_unstable();
    order_ids.dedup();
    let q = filtered_orders(filter).filter(order::Column::Id.is_in(order_ids));
    let orders: HashMap<i32, order::Model> =
        q.all(db).await?.into_iter().map(|o| (o.id, o)).collect();
    let mut by_person: HashMap<i32, Vec<&order::Model>> = HashMap::new();
    for (order_id, person_id) in &parties {
        if let Some(o) = orders.get(order_id) {
            let list = by_person.entry(*person_id).or_default();
            if !list.iter().any(|x| x.id == o.id) {
                list.push(o);
            }
        }
    }
    let limit = first.min(MAX_PAGE);
    for (person_id, mut list) in by_person {
        // newest first, as `orders_page`
        list.sort_by(|a, b| b.issued_at.cmp(&a.issued_at).then(b.id.cmp(&a.id)));
        let more = list.len() > limit;
        let rows = list.into_iter().take(limit).cloned().collect();
        out.insert(person_id, (rows, more));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = OrderCursor {
            issued_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            id: 7,
        };
        assert_eq!(OrderCursor::decode("after", &c.encode()).unwrap(), c);
        assert!(OrderCursor::decode("after", "zzz").is_err());
    }
}
