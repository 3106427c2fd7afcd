//! Applying feed messages, each in its own write transaction with its `feed_message` row (or,
//! for a run of new chains' ISSUEs, in one with the run's: `feed::runs`), so a message is
//! stored with what it did or not at all. The unique constraints make it safe to
//! receive the same message on two servers at once: `(court, messageId)` on `feed_message`,
//! `(court, externalId)` on `feed_chain`, one waiting message per place in a chain on
//! `feed_deferred`, and the chain's `last_sequence` moved by compare-and-set. The loser of a race
//! rolls back and reads again, and finds the winner's message (`DUPLICATE`).
use chrono::{DateTime, Utc};
use entities::{feed_chain, feed_deferred, feed_message, feed_rejection};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

use crate::domain::codes::{Channel, EntrySource};
use crate::domain::ids::{self, Kind};
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::feed::ack::{Ack, AckError, Outcome, Status, ack_errors, rejected};
use crate::feed::message::{self, Body, Message};
use crate::service::commands::{ModifyOrder, OrderChange, Patch, RenewOrder};
use crate::service::orders::{first, insert_batch};
use crate::service::refs::Refs;
use crate::service::{lifecycle, successor, validate};

/// Who sends: a feed bound to one court, or an import (the court is the message's).
#[derive(Debug, Clone)]
pub struct Sender {
    pub court: Option<String>,
    pub channel: Channel,
}

/// Tries at a message whose write lost a race with another server's.
const RETRIES: usize = 3;

/// The ids and state a message is applied against.
pub struct Feed<'a> {
    pub db: &'a DatabaseConnection,
    pub refs: &'a Refs,
    pub sender: &'a Sender,
}

enum Step {
    Accepted(i32, Option<i32>),
    Deferred,
    Duplicate(Option<i32>),
    Reused,
}

/// The message `message_id` of the court, if stored before: a resend (`Duplicate`) or an id
/// reused with other content (`Reused`).
async fn seen<C: ConnectionTrait>(
    db: &C,
    court_id: i32,
    message_id: &str,
    hash: &str,
) -> AppResult<Option<Step>> {
    let m = feed_message::Entity::find()
        .filter(feed_message::Column::CourtId.eq(court_id))
        .filter(feed_message::Column::MessageId.eq(message_id))
        .one(db)
        .await?;
    Ok(m.map(|m| {
        if m.content_hash == hash {
            Step::Duplicate(m.order_id)
        } else {
            Step::Reused
        }
    }))
}

/// A unique constraint refused the write: another server (or transaction) stored it first.
/// On PostgreSQL, holds the chain's advisory lock until the transaction ends, so two instances
/// given the same message (or two messages of one chain) take turns: the second then finds the
/// first's row and answers DUPLICATE, instead of failing on the order the first changed. SQLite's
/// write transaction already serializes every writer.
async fn chain_lock(
    txn: &sea_orm::DatabaseTransaction,
    court_id: i32,
    external_id: &str,
) -> AppResult<()> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        [court_id.into(), external_id.into()],
    ))
    .await?;
    Ok(())
}

fn lost_race(e: &AppError) -> bool {
    match e {
        AppError::Internal(inner) => inner.chain().any(|c| {
            c.downcast_ref::<sea_orm::DbErr>()
                .is_some_and(crate::db::lost_race)
                || c.downcast_ref::<sea_orm::sqlx::Error>()
                    .is_some_and(crate::db::lost_race_sqlx)
        }),
        AppError::Conflict { message } => message == lifecycle::CHANGED_ELSEWHERE,
        _ => false,
    }
}

impl Feed<'_> {
    /// Takes one line: parses, checks the court, stores (or recognises) it, and applies the
    /// messages it was the missing predecessor of.
    pub async fn take(&self, line: &str) -> AppResult<Outcome> {
        self.take_parsed(line, message::parse(line)).await
    }

    /// `take` of a line already parsed (`parsed` is `message::parse(line)`).
    pub(crate) async fn take_parsed(
        &self,
        line: &str,
        parsed: AppResult<Message>,
    ) -> AppResult<Outcome> {
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                let id = message::message_id_of(line);
                let errors = ack_errors(&e);
                self.record_rejection(None, id.clone(), &errors).await?;
                return Ok(Outcome {
                    ack: rejected(id, errors),
                    action: None,
                    other_court: false,
                    new_order: None,
                });
            }
        };
        let mid = Some(msg.message_id.clone());
        let code = match (&self.sender.court, &msg.court_code) {
            (Some(own), Some(named)) if own != named => {
                let errors = vec![AckError {
                    path: if msg.court_code.is_some()
                        && matches!(msg.body, Body::Issue(_) | Body::Modify(_) | Body::Renew(..))
                    {
                        "order.courtCode".into()
                    } else {
                        "courtCode".into()
                    },
                    message: format!("a feed of {own} sends {own}'s orders only"),
                }];
                self.record_rejection(None, mid.clone(), &errors).await?;
                return Ok(Outcome {
                    ack: rejected(mid, errors),
                    action: Some(msg.action),
                    other_court: true,
                    new_order: None,
                });
            }
            (Some(own), _) => own.clone(),
            (None, Some(named)) => named.clone(),
            (None, None) => {
                let errors = vec![AckError {
                    path: "courtCode".into(),
                    message: format!("required with {}", msg.action.as_wire()),
                }];
                return Ok(Outcome {
                    ack: rejected(mid, errors),
                    action: Some(msg.action),
                    other_court: false,
                    new_order: None,
                });
            }
        };
        let Some(court) = self.refs.court(&code) else {
            let errors = vec![AckError {
                path: "courtCode".into(),
                message: format!("no court with code {code}"),
            }];
            return Ok(Outcome {
                ack: rejected(mid, errors),
                action: Some(msg.action),
                other_court: false,
                new_order: None,
            });
        };
        let court_id = court.id;
        let hash = crate::import::line_key(line);
        let mut tries = 0;
        let step = loop {
            tries += 1;
            match self.attempt(court_id, &msg, &hash, line).await {
                // A conflict may be another server's write of this very message seen half-way
                // (the order already superseded, the chain moved on): read again.
                Err(e)
                    if tries < RETRIES
                        && (lost_race(&e) || matches!(e, AppError::Conflict { .. })) =>
                {
                    continue;
                }
                other => break other,
            }
        };
        let outcome = |status, order: Option<i32>, new_order| Outcome {
            ack: Ack {
                message_id: mid.clone(),
                status,
                order_id: order.map(|o| ids::encode(Kind::Order, o)),
                errors: Vec::new(),
            },
            action: Some(msg.action),
            other_court: false,
            new_order,
        };
        match step {
            Ok(Step::Accepted(order, new_order)) => {
                self.drain(court_id, &msg.external_id).await?;
                Ok(outcome(Status::Accepted, Some(order), new_order))
            }
            Ok(Step::Deferred) => {
                // The predecessor may have been applied while this one was being stored.
                self.drain(court_id, &msg.external_id).await?;
                Ok(outcome(Status::Deferred, None, None))
            }
            Ok(Step::Duplicate(order)) => Ok(outcome(Status::Duplicate, order, None)),
            Ok(Step::Reused) => {
                let errors = vec![AckError {
                    path: "messageId".into(),
                    message: "this messageId was sent before with other content".into(),
                }];
                self.record_rejection(Some(court_id), mid.clone(), &errors)
                    .await?;
                Ok(Outcome {
                    ack: rejected(mid, errors),
                    action: Some(msg.action),
                    other_court: false,
                    new_order: None,
                })
            }
            Err(e) => {
                let errors = ack_errors(&e);
                self.record_rejection(Some(court_id), mid.clone(), &errors)
                    .await?;
                Ok(Outcome {
                    ack: rejected(mid, errors),
                    action: Some(msg.action),
                    other_court: false,
                    new_order: None,
                })
            }
        }
    }

    /// Counts a refused line for the court's feed status (a line of no known court is only
    /// acknowledged and audited).
    async fn record_rejection(
        &self,
        court_id: Option<i32>,
        message_id: Option<String>,
        errors: &[AckError],
    ) -> AppResult<()> {
        let court_id = match (court_id, &self.sender.court) {
            (Some(id), _) => id,
            (None, Some(code)) => match self.refs.court(code) {
                Some(c) => c.id,
                None => return Ok(()),
            },
            (None, None) => return Ok(()),
        };
        let now = Utc::now();
        feed_rejection::ActiveModel {
            court_id: Set(court_id),
            message_id: Set(message_id),
            errors: Set(serde_json::to_string(errors).unwrap_or_default()),
            received_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(self.db)
        .await?;
        Ok(())
    }

    /// One try at storing a message, in one transaction.
    async fn attempt(
        &self,
        court_id: i32,
        msg: &Message,
        hash: &str,
        line: &str,
    ) -> AppResult<Step> {
        // A resend is recognised without the write lock (a stored message never changes its
        // id or content); a message not seen yet is looked for again under it.
        if let Some(step) = seen(self.db, court_id, &msg.message_id, hash).await? {
            return Ok(step);
        }
        let txn = crate::db::begin_write(self.db).await?;
        chain_lock(&txn, court_id, &msg.external_id).await?;
        if let Some(step) = seen(&txn, court_id, &msg.message_id, hash).await? {
            txn.rollback().await?;
            return Ok(step);
        }
        let chain = find_chain(&txn, court_id, &msg.external_id).await?;
        let now = Utc::now();
        let row =
            |status: &str, order_id: Option<i32>, body: Option<String>| feed_message::ActiveModel {
                court_id: Set(court_id),
                message_id: Set(msg.message_id.clone()),
                content_hash: Set(hash.to_owned()),
                external_id: Set(msg.external_id.clone()),
                sequence: Set(msg.sequence),
                action: Set(msg.action.as_db().to_owned()),
                status: Set(status.to_owned()),
                order_id: Set(order_id),
                channel: Set(self.sender.channel.as_db().to_owned()),
                body: Set(body),
                errors: Set(None),
                received_at: Set(now),
                applied_at: Set((status == "accepted").then_some(now)),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
        let step = match (&msg.body, chain) {
            (Body::Issue(_), Some(_)) => Err(AppError::conflict(format!(
                "externalId {} was issued before; send MODIFY, RENEW, SERVE, TERMINATE or CANCEL",
                msg.external_id
            ))),
            (Body::Issue(input), None) => {
                if msg.sequence != 1 {
                    Err(AppError::invalid(
                        "sequence",
                        "an ISSUE opens its chain at sequence 1",
                    ))
                } else {
                    self.issue(&txn, court_id, msg, input, now)
                        .await
                        .map(|id| (Step::Accepted(id, Some(id)), Some(id)))
                }
            }
            (_, None) if msg.sequence == 1 => Err(AppError::invalid(
                "sequence",
                "sequence 1 is the chain's ISSUE",
            )),
            (_, Some(c)) if msg.sequence <= c.last_sequence => Err(AppError::conflict(format!(
                "sequence {} of externalId {} was already applied",
                msg.sequence, msg.external_id
            ))),
            (_, Some(c)) if msg.sequence == c.last_sequence + 1 => {
                match apply_to_chain(&txn, self.refs, &c, msg).await {
                    Ok((head, new_order)) => Ok((Step::Accepted(head, new_order), Some(head))),
                    Err(e) => Err(e),
                }
            }
            // No chain yet, or a gap before this message: it waits.
            _ => Ok((Step::Deferred, None)),
        };
        let (step, order_id) = match step {
            Ok(s) => s,
            Err(e) => {
                txn.rollback().await?;
                return Err(e);
            }
        };
        let status = if matches!(step, Step::Deferred) {
            "deferred"
        } else {
            "accepted"
        };
        let body = matches!(step, Step::Deferred).then(|| line.trim().to_owned());
        let stored = feed_message::Entity::insert(row(status, order_id, body))
            .exec(&txn)
            .await?;
        if matches!(step, Step::Deferred) {
            feed_deferred::Entity::insert(feed_deferred::ActiveModel {
                message_row_id: Set(stored.last_insert_id),
                court_id: Set(court_id),
                external_id: Set(msg.external_id.clone()),
                sequence: Set(msg.sequence),
                created_at: Set(now),
                updated_at: Set(now),
            })
            .exec_without_returning(&txn)
            .await
            .map_err(|e| {
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                    AppError::conflict(format!(
                        "another message already waits at sequence {} of externalId {}",
                        msg.sequence, msg.external_id
                    ))
                } else {
                    e.into()
                }
            })?;
        }
        txn.commit().await?;
        Ok(step)
    }

    /// ISSUE: a new order and its chain.
    async fn issue(
        &self,
        txn: &DatabaseTransaction,
        court_id: i32,
        msg: &Message,
        input: &crate::service::commands::CreateOrder,
        now: DateTime<Utc>,
    ) -> AppResult<i32> {
        let mut input = input.clone();
        input.source.get_or_insert(EntrySource::Feed);
        let mut order = validate::create_order(&input, self.refs, time::now())
            .map_err(|e| AppError::from(e).at("order"))?;
        order.channel = self.sender.channel;
        let id = first(insert_batch(txn, std::slice::from_ref(&order)).await?)?;
        feed_chain::Entity::insert(feed_chain::ActiveModel {
            court_id: Set(court_id),
            external_id: Set(msg.external_id.clone()),
            chain_root_id: Set(id),
            head_order_id: Set(id),
            last_sequence: Set(msg.sequence),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(txn)
        .await?;
        Ok(id)
    }

    /// Applies, in order, the waiting messages of a chain whose predecessors are now there.
    pub(super) async fn drain(&self, court_id: i32, external_id: &str) -> AppResult<()> {
        // Most chains have nothing waiting: a plain read says so without the write lock (on
        // SQLite, every writer's). A message deferred after this read drains the chain itself
        // once its own write has committed, so none is left waiting.
        let waiting = feed_deferred::Entity::find()
            .filter(feed_deferred::Column::CourtId.eq(court_id))
            .filter(feed_deferred::Column::ExternalId.eq(external_id))
            .one(self.db)
            .await?;
        if waiting.is_none() {
            return Ok(());
        }
        loop {
            let txn = crate::db::begin_write(self.db).await?;
            let Some(chain) = find_chain(&txn, court_id, external_id).await? else {
                txn.rollback().await?;
                return Ok(());
            };
            let next = feed_deferred::Entity::find()
                .filter(feed_deferred::Column::CourtId.eq(court_id))
                .filter(feed_deferred::Column::ExternalId.eq(external_id))
                .filter(feed_deferred::Column::Sequence.eq(chain.last_sequence + 1))
                .one(&txn)
                .await?;
            let Some(next) = next else {
                txn.rollback().await?;
                return Ok(());
            };
            let row = feed_message::Entity::find_by_id(next.message_row_id)
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("deferred message missing")))?;
            let taken = feed_deferred::Entity::delete_by_id(next.message_row_id)
                .exec(&txn)
                .await?;
            if taken.rows_affected != 1 {
                // Another server applied it.
                txn.rollback().await?;
                continue;
            }
            let parsed = message::parse(row.body.as_deref().unwrap_or_default());
            let applied = match parsed {
                Ok(msg) => apply_to_chain(&txn, self.refs, &chain, &msg).await,
                Err(e) => Err(e),
            };
            let now = Utc::now();
            let mut update = feed_message::ActiveModel {
                id: Set(row.id),
                updated_at: Set(now),
                ..Default::default()
            };
            match applied {
                Ok((head, _)) => {
                    update.status = Set("accepted".into());
                    update.order_id = Set(Some(head));
                    update.applied_at = Set(Some(now));
                    update.body = Set(None);
                    update.update(&txn).await?;
                    txn.commit().await?;
                }
                Err(e) if lost_race(&e) => {
                    txn.rollback().await?;
                }
                Err(e) => {
                    // The waiting message is refused now; the chain stays where it was, and a
                    // corrected message (a new messageId) can take this place.
                    txn.rollback().await?;
                    let txn = crate::db::begin_write(self.db).await?;
                    let gone = feed_deferred::Entity::delete_by_id(row.id)
                        .exec(&txn)
                        .await?;
                    if gone.rows_affected == 1 {
                        update.status = Set("rejected".into());
                        update.errors = Set(Some(
                            serde_json::to_string(&ack_errors(&e)).unwrap_or_default(),
                        ));
                        update.update(&txn).await?;
                        txn.commit().await?;
                    } else {
                        txn.rollback().await?;
                    }
                    return Ok(());
                }
            }
        }
    }
}

async fn find_chain<C: ConnectionTrait>(
    conn: &C,
    court_id: i32,
    external_id: &str,
) -> AppResult<Option<feed_chain::Model>> {
    Ok(feed_chain::Entity::find()
        .filter(feed_chain::Column::CourtId.eq(court_id))
        .filter(feed_chain::Column::ExternalId.eq(external_id))
        .order_by_asc(feed_chain::Column::Id)
        .one(conn)
        .await?)
}

/// Applies a message that follows the chain's last one, through the service's own writes.
/// Returns the chain's current order afterwards and the order written, if any.
async fn apply_to_chain(
    txn: &DatabaseTransaction,
    refs: &Refs,
    chain: &feed_chain::Model,
    msg: &Message,
) -> AppResult<(i32, Option<i32>)> {
    let head = ids::encode(Kind::Order, chain.head_order_id);
    let (new_head, written) = match &msg.body {
        Body::Issue(_) => {
            return Err(AppError::conflict(format!(
                "externalId {} was issued before",
                msg.external_id
            )));
        }
        Body::Modify(o) | Body::Renew(o, _) => {
            // The whole order as it now stands is checked as an order first.
            validate::create_order(o, refs, time::now())
                .map_err(|e| AppError::from(e).at("order"))?;
            let change = match &msg.body {
                Body::Renew(_, filed) => OrderChange::Renew(RenewOrder {
                    order_id: head,
                    issued_at: o.issued_at,
                    expires_at: o.expires_at,
                    form_number: Some(o.form_number.clone()),
                    judicial_officer: o.judicial_officer.clone(),
                    request_filed_on: *filed,
                }),
                _ => OrderChange::Modify(ModifyOrder {
                    order_id: head,
                    issued_at: o.issued_at,
                    form_number: Some(o.form_number.clone()),
                    kind: o.kind,
                    expires_at: o.expires_at.map_or(Patch::Clear, Patch::Set),
                    hearing_date: o.hearing_date.map_or(Patch::Clear, Patch::Set),
                    judicial_officer: o.judicial_officer.clone(),
                    terms: Some(o.terms.clone()),
                    reason: Some(format!("feed message {}", msg.message_id)),
                    criminal_stage: o.criminal_stage,
                    custody_terms: o.custody_terms.clone(),
                    restrained: o.restrained_descriptors(),
                }),
            };
            let (new_id, _) = successor::change_order_in(txn, &change, Channel::Feed)
                .await
                .map_err(|e| e.at("order"))?;
            (new_id, Some(new_id))
        }
        Body::Serve(s) => {
            let mut s = s.clone();
            s.order_id = head;
            lifecycle::record_service_in(txn, &s)
                .await
                .map_err(|e| e.at("service"))?;
            (chain.head_order_id, None)
        }
        Body::Terminate(t) => {
            let mut t = t.clone();
            t.order_id = head;
            lifecycle::terminate_in(txn, &t)
                .await
                .map_err(|e| e.at("termination"))?;
            (chain.head_order_id, None)
        }
        Body::Cancel(c) => {
            let mut c = c.clone();
            c.order_id = head;
            lifecycle::cancel_in(txn, &c)
                .await
                .map_err(|e| e.at("cancellation"))?;
            (chain.head_order_id, None)
        }
    };
    let moved = feed_chain::Entity::update_many()
        .col_expr(feed_chain::Column::LastSequence, Expr::value(msg.sequence))
        .col_expr(feed_chain::Column::HeadOrderId, Expr::value(new_head))
        .col_expr(feed_chain::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(feed_chain::Column::Id.eq(chain.id))
        .filter(feed_chain::Column::LastSequence.eq(msg.sequence - 1))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::conflict(lifecycle::CHANGED_ELSEWHERE));
    }
    Ok((new_head, written))
}
