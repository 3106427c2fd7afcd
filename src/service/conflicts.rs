//! Conflicting-order detection (docs/law/precedence.md#conflicts): the active orders whose
//! restrained and protected persons overlap an order's (either direction, over linked identities),
//! what conflicts between them (`domain::conflict_rules`) and which order controls enforcement
//! (`domain::precedence`).
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use ccpor_index::PersonIndex;
use chrono::{DateTime, Utc};
use entities::{order, order_conflict, order_party};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::domain::codes::{ContactLevel, PartyRole, PcoCode};
use crate::domain::conflict_rules::{Direction, Finding, Terms, compare};
use crate::domain::identity_match::LinkState;
use crate::domain::order_rules::OrderFamily;
use crate::domain::precedence::{Contender, Decision, Restrictions, controlling};
use crate::domain::status::OrderStatus;
use crate::error::{AppError, AppResult};
use crate::service::identity::{self, Record};
use crate::service::model::{NewOrder, PartyPerson};
use crate::service::reads::lifecycle;

/// The order conflicts are checked for: stored, or a draft not yet entered.
#[derive(Debug, Clone)]
pub struct Subject {
    /// `None` for a draft.
    pub order_id: Option<i32>,
    pub chain_root_id: Option<i32>,
    pub issued_at: DateTime<Utc>,
    pub terms: Terms,
    pub restrained: BTreeSet<i32>,
    pub protected: BTreeSet<i32>,
}

/// One active order that overlaps the subject.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub other: order::Model,
    pub direction: Direction,
    pub findings: Vec<Finding>,
    /// `controlling` is an overlapping order's id, the subject's id, or `None` for a draft
    /// subject. For orders between the same parties (`Direction::Same`) it is the one order that
    /// controls among the subject and all of them (`settle`); for reverse orders (the parties
    /// swapped, so another person restrained) it is decided between the two.
    pub decision: Decision<Option<i32>>,
    /// What precedence looks at in the other order and in the subject.
    pub contender: Contender<Option<i32>>,
    pub subject: Contender<Option<i32>>,
}

/// Names one controlling order among the subject and every overlapping order between the same
/// parties (Fam. Code 6457 ranks all the orders an officer faces, not pairs of them); call again
/// after dropping orders a caller may not see, so that the answer names only orders shown.
pub fn settle(found: &mut [Conflict]) {
    let Some(subject) = found.first().map(|c| c.subject) else {
        return;
    };
    let mut group: Vec<Contender<Option<i32>>> = found
        .iter()
        .filter(|c| c.direction == Direction::Same)
        .map(|c| c.contender)
        .collect();
    // The subject last: a draft wins ties, as before.
    group.push(subject);
    let Some(decision) = controlling(&group) else {
        return;
    };
    for c in found.iter_mut().filter(|c| c.direction == Direction::Same) {
        c.decision = decision;
    }
}

/// Relationships on an order that make a protected party a child of the parties.
fn is_child(relationship: Option<&str>) -> bool {
    relationship.is_some_and(|r| {
        let r = r.to_ascii_lowercase();
        ["child", "son", "daughter", "minor"]
            .iter()
            .any(|w| r.contains(w))
    })
}

fn is_protected(role: &str) -> bool {
    role != PartyRole::Restrained.as_db()
}

/// The terms of a stored order, given its parties.
pub fn terms_of(o: &order::Model, parties: &[order_party::Model]) -> AppResult<Terms> {
    Ok(Terms {
        family: OrderFamily::from_db(&o.family)?,
        contact_level: ContactLevel::from_db(&o.contact_level)?,
        stay_away_yards: o.stay_away_yards,
        move_out: o.move_out,
        firearm_relinquishment: o.firearm_relinquishment,
        pco_codes: PcoCode::list_from_db(&o.pco_codes),
        protects_children: parties
            .iter()
            .any(|p| is_protected(&p.role) && is_child(p.relationship.as_deref())),
    })
}

/// A stored order as a subject.
pub async fn subject_of_order<C: ConnectionTrait>(db: &C, order_id: i32) -> AppResult<Subject> {
    let o = order::Entity::find_by_id(order_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("order"))?;
    let parties = order_party::Entity::find()
        .filter(order_party::Column::OrderId.eq(order_id))
        .all(db)
        .await?;
    Ok(Subject {
        order_id: Some(o.id),
        chain_root_id: Some(o.chain_root_id),
        issued_at: o.issued_at,
        terms: terms_of(&o, &parties)?,
        restrained: parties
            .iter()
            .filter(|p| !is_protected(&p.role))
            .map(|p| p.person_id)
            .collect(),
        protected: parties
            .iter()
            .filter(|p| is_protected(&p.role))
            .map(|p| p.person_id)
            .collect(),
    })
}

/// A validated draft as a subject. New persons stand for the records they would be linked to
/// automatically (the same threshold `createOrder` links at).
pub async fn subject_of_draft<C: ConnectionTrait>(
    db: &C,
    index: Arc<PersonIndex>,
    draft: &NewOrder,
) -> AppResult<Subject> {
    let mut restrained = BTreeSet::new();
    let mut protected = BTreeSet::new();
    for p in &draft.parties {
        let ids: Vec<i32> = match &p.person {
            PartyPerson::Existing(id) => vec![*id],
            PartyPerson::New(np) => {
                identity::candidates(db, index.clone(), &Record::of_new(np), None)
                    .await?
                    .into_iter()
                    .filter(|c| c.state == LinkState::Auto)
                    .map(|c| c.person_id)
                    .collect()
            }
        };
        if p.role == PartyRole::Restrained {
            restrained.extend(ids);
        } else {
            protected.extend(ids);
        }
    }
    let c = &draft.conditions;
    Ok(Subject {
        order_id: None,
        chain_root_id: None,
        issued_at: draft.issued_at,
        terms: Terms {
            family: draft.family,
            contact_level: c.contact_level,
            stay_away_yards: c.stay_away_yards,
            move_out: c.move_out,
            firearm_relinquishment: c.firearm_relinquishment,
            pco_codes: c.pco_codes.clone(),
            protects_children: draft
                .parties
                .iter()
                .any(|p| p.role != PartyRole::Restrained && is_child(p.relationship.as_deref())),
        },
        restrained,
        protected,
    })
}

/// Active orders at `at` overlapping `subject` over linked identities, each with its conflicts
/// and the controlling order. Four statements whatever the number of orders.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    subject: &Subject,
    at: DateTime<Utc>,
) -> AppResult<Vec<Conflict>> {
    let roots: Vec<i32> = subject
        .restrained
        .iter()
        .chain(subject.protected.iter())
        .copied()
        .collect();
    if subject.restrained.is_empty() || subject.protected.is_empty() {
        return Ok(Vec::new());
    }
    let idents = identity::identities(db, &roots).await?;
    let expand = |ids: &BTreeSet<i32>| -> BTreeSet<i32> {
        ids.iter()
            .flat_map(|id| {
                idents
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| BTreeSet::from([*id]))
            })
            .collect()
    };
    let r_star = expand(&subject.restrained);
    let p_star = expand(&subject.protected);
    let everyone: Vec<i32> = r_star.union(&p_star).copied().collect();
    let order_ids: Vec<i32> = order_party::Entity::find()
        .select_only()
        .column(order_party::Column::OrderId)
        .distinct()
        .filter(order_party::Column::PersonId.is_in(everyone))
        .into_tuple()
        .all(db)
        .await?;
    let orders: Vec<order::Model> = order::Entity::find()
        .filter(order::Column::Id.is_in(order_ids))
        .all(db)
        .await?
        .into_iter()
        .filter(|o| Some(o.id) != subject.order_id)
        .filter(|o| Some(o.chain_root_id) != subject.chain_root_id)
        .filter(|o| lifecycle(o).status_at(at) == OrderStatus::Active)
        .collect();
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut parties: HashMap<i32, Vec<order_party::Model>> = HashMap::new();
    for p in order_party::Entity::find()
        .filter(order_party::Column::OrderId.is_in(orders.iter().map(|o| o.id)))
        .all(db)
        .await?
    {
        parties.entry(p.order_id).or_default().push(p);
    }
    let mut out = Vec::new();
    for o in orders {
        let ps = parties.remove(&o.id).unwrap_or_default();
        let hits = |restrained: bool, set: &BTreeSet<i32>| {
            ps.iter()
                .any(|p| is_protected(&p.role) != restrained && set.contains(&p.person_id))
        };
        let direction = if hits(true, &r_star) && hits(false, &p_star) {
            Direction::Same
        } else if hits(true, &p_star) && hits(false, &r_star) {
            Direction::Reverse
        } else {
            continue;
        };
        let terms = terms_of(&o, &ps)?;
        let findings = compare(&subject.terms, &terms, direction);
        let contenders = [
            contender(Some(o.id), &terms, o.issued_at),
            contender(subject.order_id, &subject.terms, subject.issued_at),
        ];
        let Some(decision) = controlling(&contenders) else {
            continue;
        };
        out.push(Conflict {
            other: o,
            direction,
            findings,
            decision,
            contender: contenders[0],
            subject: contenders[1],
        });
    }
    settle(&mut out);
    // Newest first, as a judge reads them.
    out.sort_by(|a, b| {
        b.other
            .issued_at
            .cmp(&a.other.issued_at)
            .then(b.other.id.cmp(&a.other.id))
    });
    Ok(out)
}

/// What precedence looks at in an order with these terms.
fn contender(key: Option<i32>, t: &Terms, issued_at: DateTime<Utc>) -> Contender<Option<i32>> {
    Contender {
        key,
        family: t.family,
        contact_level: contact(t),
        issued_at,
        restrictions: Restrictions {
            contact_level: contact(t),
            stay_away_yards: t.stay_away_yards.unwrap_or(0),
            move_out: t.move_out || t.pco_codes.iter().any(|c| c.number() == 3),
            firearms: t.firearm_relinquishment || t.pco_codes.iter().any(|c| c.number() == 7),
            pco_mask: Restrictions::pco_mask(t.pco_codes.iter().map(|c| c.number())),
        },
    }
}

/// PCO 05 (no communication) counts as a no-contact order for precedence (Fam. Code 6320).
fn contact(t: &Terms) -> ContactLevel {
    if t.pco_codes.iter().any(|c| c.number() == 5) {
        ContactLevel::NoContact
    } else {
        t.contact_level
    }
}

/// Records the conflicts found when `order_id` was entered (for statistics and review).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    order_id: i32,
    conflicts: &[Conflict],
) -> AppResult<()> {
    if conflicts.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let rows: Vec<order_conflict::ActiveModel> = conflicts
        .iter()
        .map(|c| order_conflict::ActiveModel {
            order_id: Set(order_id),
            other_order_id: Set(c.other.id),
            kinds: Set(c
                .findings
                .iter()
                .map(|f| f.kind.as_db())
                .collect::<Vec<_>>()
                .join(",")),
            controlling_order_id: Set(c.decision.controlling.unwrap_or(order_id)),
            rule: Set(c.decision.rule.as_db().to_owned()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    order_conflict::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// `checkConflicts`: the active orders a validated draft would conflict with, nothing stored.
pub async fn for_draft(
    db: &sea_orm::DatabaseConnection,
    search: &crate::search::Search,
    draft: &NewOrder,
) -> AppResult<Vec<Conflict>> {
    search.catch_up(db).await?;
    let subject = subject_of_draft(db, search.index()?, draft).await?;
    find(db, &subject, Utc::now()).await
}

/// After `createOrder`, `modifyOrder` or `renewOrder` commits: link the order's persons to records from other courts (the
/// index is brought up to date first, so orders entered a moment ago are candidates), then find
/// and record the conflicts. It informs and never undoes the order: a linking failure is logged
/// and the check runs on the links there are; a failure to record the conflicts found (for
/// statistics and review) is logged and they are still returned, since an error here would tell
/// the clerk that a stored order was refused (the disk-full test saw it: the order took the
/// disk's last room, the conflicts' rows found none, and a resend would have entered it twice).
pub async fn after_create(
    db: &sea_orm::DatabaseConnection,
    search: &crate::search::Search,
    order_id: i32,
) -> AppResult<Vec<Conflict>> {
    let linked = async {
        search.catch_up(db).await?;
        let persons: Vec<i32> = order_party::Entity::find()
            .select_only()
            .column(order_party::Column::PersonId)
            .filter(order_party::Column::OrderId.eq(order_id))
            .into_tuple()
            .all(db)
            .await?;
        identity::link_persons(db, search.index()?, &persons).await
    }
    .await;
    if let Err(e) = linked {
        tracing::error!(error = %e, order_id, "identity linking after createOrder failed");
    }
    let subject = subject_of_order(db, order_id).await?;
    let found = find(db, &subject, Utc::now()).await?;
    if let Err(e) = record(db, order_id, &found).await {
        tracing::error!(error = %e, order_id, "recording the conflicts of a new order failed");
    }
    Ok(found)
}
