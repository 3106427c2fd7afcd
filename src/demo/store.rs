//! Writes planned chains: allocates ids and inserts a batch's rows in one transaction.

use chrono::{DateTime, Utc};
use entities::{order, order_event, order_party, person, person_alias, service_record};
use sea_orm::{DatabaseConnection, DatabaseTransaction, Set};

use super::{Chain, Stage, Stored, Who, internal};
use crate::db::{IdTable, allocate_ids};
use crate::domain::codes::{EntrySource, EventKind, PartyRole};
use crate::domain::order_rules::{Limit, OrderFamily, check_expiry, renewal_rule};
use crate::error::AppResult;
use crate::service::model::{NewOrder, NewParty, PartyPerson, Supersedes};
use crate::service::orders::{
    alias_rows, event, insert_chunked, order_row, outbox_rows, party_row, person_row,
};

/// Allocates ids and writes a batch of chains in one transaction.
pub(super) async fn store(db: DatabaseConnection, chains: Vec<Chain>) -> AppResult<Stored> {
    let txn = crate::db::begin_write(&db).await?;
    let new_persons = chains
        .iter()
        .flat_map(|c| &c.parties)
        .filter(|p| matches!(p.who, Who::New(_)))
        .count();
    let order_count: usize = chains.iter().map(|c| c.stages.len()).sum();
    let person_ids = allocate_ids(&txn, IdTable::Person, new_persons)
        .await?
        .into_iter();
    let order_ids = allocate_ids(&txn, IdTable::Order, order_count)
        .await?
        .into_iter();
    let mut rows = Rows::new(person_ids, order_ids);
    let mut stored = Stored::default();
    for chain in &chains {
        let Some(ids_by_role) = rows.add_chain(chain)? else {
            continue;
        };
        let restrained = ids_by_role
            .iter()
            .find(|(r, _)| *r == PartyRole::Restrained)
            .map(|x| x.1);
        let protected = ids_by_role
            .iter()
            .find(|(r, _)| *r == PartyRole::Protected)
            .map(|x| x.1);
        if let (Some(r), Some(p)) = (restrained, protected) {
            stored.restrained.push(r);
            if !matches!(chain.family, OrderFamily::Rt | OrderFamily::Wv) {
                stored.pairs.push((r, p, chain.court));
            }
        }
    }
    stored.orders = rows.orders.len();
    stored.persons = rows.persons.len();
    rows.insert(&txn).await?;
    txn.commit().await?;
    Ok(stored)
}

/// Person ids of a chain's parties, by role.
type ByRole = Vec<(PartyRole, i32)>;

/// The rows of one batch, by table, and the ids still to hand out.
struct Rows {
    now: DateTime<Utc>,
    person_ids: std::vec::IntoIter<i32>,
    order_ids: std::vec::IntoIter<i32>,
    persons: Vec<person::ActiveModel>,
    aliases: Vec<person_alias::ActiveModel>,
    orders: Vec<order::ActiveModel>,
    parties: Vec<order_party::ActiveModel>,
    events: Vec<order_event::ActiveModel>,
    services: Vec<service_record::ActiveModel>,
    /// One outbox row per chain: its orders share their parties.
    chain_ends: Vec<i32>,
}

impl Rows {
    fn new(person_ids: std::vec::IntoIter<i32>, order_ids: std::vec::IntoIter<i32>) -> Self {
        Self {
            now: Utc::now(),
            person_ids,
            order_ids,
            persons: Vec::new(),
            aliases: Vec::new(),
            orders: Vec::new(),
            parties: Vec::new(),
            events: Vec::new(),
            services: Vec::new(),
            chain_ends: Vec::new(),
        }
    }

    /// Adds a chain's rows; returns its parties' person ids by role, or `None` if it has no
    /// order.
    fn add_chain(&mut self, chain: &Chain) -> AppResult<Option<ByRole>> {
        let (party_models, ids_by_role) = self.add_persons(chain)?;
        let chain_ids: Vec<i32> = (0..chain.stages.len())
            .map(|_| {
                self.order_ids
                    .next()
                    .ok_or_else(|| internal("order id block too small".into()))
            })
            .collect::<AppResult<_>>()?;
        let Some(&root) = chain_ids.first() else {
            return Ok(None);
        };
        if let Some(&end) = chain_ids.last() {
            self.chain_ends.push(end);
        }
        for i in 0..chain.stages.len() {
            self.add_order(chain, &chain_ids, i, root, &party_models)?;
        }
        Ok(Some(ids_by_role))
    }

    /// The chain's parties as stored persons; new persons get ids and rows.
    fn add_persons(&mut self, chain: &Chain) -> AppResult<(Vec<NewParty>, ByRole)> {
        let mut party_models = Vec::new();
        let mut ids_by_role = Vec::new();
        for p in &chain.parties {
            let id = match &p.who {
                Who::Old(id) => *id,
                Who::New(np) => {
                    let id = self
                        .person_ids
                        .next()
                        .ok_or_else(|| internal("person id block too small".into()))?;
                    self.persons.push(person_row(np, id, self.now));
                    self.aliases.extend(alias_rows(np, id, self.now));
                    id
                }
            };
            ids_by_role.push((p.role, id));
            party_models.push(NewParty {
                role: p.role,
                relationship: p.relationship.clone(),
                person: PartyPerson::Existing(id),
            });
        }
        Ok((party_models, ids_by_role))
    }

    /// Adds the `i`-th order of a chain whose orders get `chain_ids`, with its history,
    /// service and parties.
    fn add_order(
        &mut self,
        chain: &Chain,
        chain_ids: &[i32],
        i: usize,
        root: i32,
        party_models: &[NewParty],
    ) -> AppResult<()> {
        let stage = &chain.stages[i];
        let id = chain_ids[i];
        check_rules(chain.family, stage)?;
        let new = NewOrder {
            court_id: chain.court_id,
            case_number: chain.case_number.clone(),
            family: chain.family,
            form_number: stage.rule.form.as_str(),
            kind: stage.rule.kind,
            issued_at: stage.issued_at,
            hearing_date: stage.hearing_date,
            expires_at: stage.expires_at,
            judicial_officer: stage.judge.clone(),
            conditions: stage.conditions.clone(),
            source: stage.source,
            entered_by_court_id: (stage.source != EntrySource::Lea).then_some(chain.court_id),
            entered_by_agency_id: stage.agency,
            parties: Vec::new(),
            supersedes: (i > 0).then(|| Supersedes {
                order_id: chain_ids[i - 1],
                chain_root_id: root,
            }),
            image_only: false,
            law: demo_law(chain.family, id, stage.expires_at),
            channel: crate::domain::codes::Channel::Demo,
        };
        let mut row = order_row(&new, id, self.now);
        self.add_history(chain, chain_ids, i, &mut row);
        if let Some((at, method, agency)) = stage.served {
            self.services.push(service_record::ActiveModel {
                order_id: Set(id),
                served_at: Set(at),
                method: Set(method.as_db().to_owned()),
                server_name: Set(agency.map(|_| "Deputy (synthetic)".to_owned())),
                agency_id: Set(agency),
                notes: Set(None),
                created_at: Set(self.now),
                updated_at: Set(self.now),
                ..Default::default()
            });
            self.events.push(event(
                id,
                EventKind::Served,
                at,
                None,
                None,
                if agency.is_some() {
                    EntrySource::Lea
                } else {
                    EntrySource::Court
                },
            ));
        }
        self.orders.push(row);
        for p in party_models {
            if let PartyPerson::Existing(pid) = p.person {
                self.parties.push(party_row(id, pid, p, self.now));
            }
        }
        Ok(())
    }

    /// The `i`-th order's history: its replacement by the next one, its issue, and for the
    /// last order the chain's termination or cancellation (also set on `row`).
    fn add_history(
        &mut self,
        chain: &Chain,
        chain_ids: &[i32],
        i: usize,
        row: &mut order::ActiveModel,
    ) {
        let stage = &chain.stages[i];
        let id = chain_ids[i];
        let successor = chain.stages.get(i + 1);
        let last = successor.is_none();
        if let Some(next) = successor {
            row.superseded_at = Set(Some(next.issued_at));
            self.events.push(event(
                id,
                next.link,
                next.issued_at,
                Some(chain_ids[i + 1]),
                None,
                EntrySource::Court,
            ));
        }
        self.events.push(event(
            id,
            EventKind::Issued,
            stage.issued_at,
            (i > 0).then(|| chain_ids[i - 1]),
            None,
            stage.source,
        ));
        if last {
            if let Some(t) = chain.terminated_at {
                row.terminated_at = Set(Some(t));
                self.events.push(event(
                    id,
                    EventKind::Terminated,
                    t,
                    None,
                    Some("Terminated by court order".into()),
                    EntrySource::Court,
                ));
            }
            if let Some(t) = chain.cancelled_at {
                row.cancelled_at = Set(Some(t));
                self.events.push(event(
                    id,
                    EventKind::Cancelled,
                    t,
                    None,
                    Some("Entered in error (duplicate entry)".into()),
                    EntrySource::Court,
                ));
            }
        }
    }

    /// Inserts every row, parents before children.
    async fn insert(self, txn: &DatabaseTransaction) -> AppResult<()> {
        insert_chunked(txn, self.persons).await?;
        insert_chunked(txn, self.aliases).await?;
        insert_chunked(txn, self.orders).await?;
        insert_chunked(txn, self.parties).await?;
        insert_chunked(txn, self.events).await?;
        insert_chunked(txn, self.services).await?;
        insert_chunked(txn, outbox_rows(&self.chain_ends, self.now)).await?;
        Ok(())
    }
}

/// A stage breaking the form's duration rules (or the renewal limit) is a bug of the generator.
/// The law record of a demo order: a criminal order's stage read from its expiry, and a
/// synthetic Nevada issuer for an out-of-state order (docs/law/registry.md#out-of-state-and-tribal-orders).
fn demo_law(
    family: OrderFamily,
    id: i32,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> crate::service::model::LawRecord {
    use crate::domain::law_records::{CriminalStage, ForeignIssuer, ForeignKind};
    crate::service::model::LawRecord {
        criminal_stage: (family == OrderFamily::Cr).then_some(if expires_at.is_some() {
            CriminalStage::PostConviction
        } else {
            CriminalStage::PreJudgment
        }),
        custody_terms: None,
        foreign_issuer: (family == OrderFamily::OutOfState).then(|| ForeignIssuer {
            kind: ForeignKind::State,
            jurisdiction: "NV".to_owned(),
            court: "Eighth Judicial District Court (synthetic)".to_owned(),
            case_number: format!("D-{id:08}"),
        }),
    }
}

fn check_rules(family: OrderFamily, stage: &Stage) -> AppResult<()> {
    if stage.renewal {
        let (limit, citation) = renewal_rule(family, stage.issued_at)
            .map_or((Limit::Unlimited, ""), |r| (r.max, r.source.as_str()));
        check_expiry(
            "expiresAt",
            stage.issued_at,
            stage.expires_at,
            false,
            limit,
            citation,
            "renewal",
        )
        .map_err(|e| internal(format!("demo renewal breaks a rule: {e}")))?;
    } else {
        check_expiry(
            "expiresAt",
            stage.issued_at,
            stage.expires_at,
            stage.rule.expiry_required,
            stage.rule.limit,
            &stage.rule.source,
            &stage.rule.form,
        )
        .map_err(|e| internal(format!("demo order breaks a rule: {e}")))?;
    }
    Ok(())
}
