//! A batch's messages taken together where that is safe. The ISSUE messages of new chains (a
//! court's backfill, a day's new orders) are stored in one write transaction per run: one
//! lookup of their message ids and chains, their orders through the batched insert the import
//! uses, their `feed_chain` and `feed_message` rows as multi-row statements. Every other line
//! (a resend, another action, a bad line, an ISSUE of a chain already there) is taken alone by
//! `Feed::take`, in its place; so is every message of a run whose write fails, whatever the
//! cause (a race with another server, a constraint), so the answers are what taking the lines
//! one by one gives. One message a transaction cost ~2.4 ms on SQLite (BENCHMARKS.md, feeds).
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use entities::{feed_chain, feed_deferred, feed_message};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};

use crate::domain::codes::EntrySource;
use crate::domain::ids::{self, Kind};
use crate::domain::time;
use crate::error::AppResult;
use crate::feed::ack::{Ack, Outcome, Status};
use crate::feed::message::{self, Body, Message};
use crate::feed::store::Feed;
use crate::service::model::NewOrder;
use crate::service::orders::insert_chunked;
use crate::service::validate;

/// Messages of one run at most: a transaction's worth, as an import batch.
const RUN: usize = 1_000;

/// Chains locked by one statement on PostgreSQL (two bound values each).
const LOCKS_PER_STATEMENT: usize = 500;

/// An ISSUE that may go in a run: parsed, valid, of a known court the sender may send for.
struct Candidate {
    at: usize,
    court_id: i32,
    msg: Message,
    hash: String,
    order: NewOrder,
}

/// Where a line goes: into the run, or to `take`, alone, with its parse.
enum Place {
    Run(Box<Candidate>),
    Alone(Box<AppResult<Message>>),
}

impl Feed<'_> {
    /// Takes every line, in order; the answers are in the lines' order. `Err` only where the
    /// database failed for a line taken alone (as `take`).
    pub async fn take_all(&self, lines: &[String]) -> Vec<AppResult<Outcome>> {
        let mut out: Vec<Option<AppResult<Outcome>>> = (0..lines.len()).map(|_| None).collect();
        let mut run: Vec<Candidate> = Vec::new();
        // A run holds one message of a chain and one use of a message id.
        let mut chains: HashSet<(i32, String)> = HashSet::new();
        let mut ids: HashSet<(i32, String)> = HashSet::new();
        for (at, line) in lines.iter().enumerate() {
            match self.candidate(at, line) {
                Place::Run(c) => {
                    let chain = (c.court_id, c.msg.external_id.clone());
                    let id = (c.court_id, c.msg.message_id.clone());
                    if run.len() >= RUN || chains.contains(&chain) || ids.contains(&id) {
                        self.flush(std::mem::take(&mut run), lines, &mut out).await;
                        chains.clear();
                        ids.clear();
                    }
                    chains.insert(chain);
                    ids.insert(id);
                    run.push(*c);
                }
                Place::Alone(parsed) => {
                    // What is queued goes first: this line may depend on it.
                    self.flush(std::mem::take(&mut run), lines, &mut out).await;
                    chains.clear();
                    ids.clear();
                    out[at] = Some(self.take_parsed(line, *parsed).await);
                }
            }
        }
        self.flush(run, lines, &mut out).await;
        out.into_iter()
            .zip(lines)
            .map(|(o, line)| match o {
                Some(o) => o,
                // Unreachable by construction; taking the line alone is always correct.
                None => Err(crate::error::AppError::internal(anyhow::anyhow!(
                    "feed line {} not taken",
                    message::message_id_of(line).unwrap_or_default()
                ))),
            })
            .collect()
    }

    /// The line as a run member, if it is an ISSUE opening a chain that validates; anything
    /// else is for `take`, which answers it as it would alone, from the parse returned here.
    fn candidate(&self, at: usize, line: &str) -> Place {
        let msg = match message::parse(line) {
            Ok(msg) => msg,
            Err(e) => return Place::Alone(Box::new(Err(e))),
        };
        match self.fits_a_run(&msg) {
            Some((court_id, order)) => Place::Run(Box::new(Candidate {
                at,
                court_id,
                hash: crate::import::line_key(line),
                msg,
                order,
            })),
            None => Place::Alone(Box::new(Ok(msg))),
        }
    }

    /// The court and the validated order of a new chain's ISSUE sent for a court the sender may
    /// send for; `None` for anything else.
    fn fits_a_run(&self, msg: &Message) -> Option<(i32, NewOrder)> {
        let Body::Issue(input) = &msg.body else {
            return None;
        };
        if msg.sequence != 1 {
            return None;
        }
        let code = match (&self.sender.court, &msg.court_code) {
            (Some(own), Some(named)) if own != named => return None,
            (Some(own), _) => own.clone(),
            (None, Some(named)) => named.clone(),
            (None, None) => return None,
        };
        let court_id = self.refs.court(&code)?.id;
        let mut input = input.clone();
        input.source.get_or_insert(EntrySource::Feed);
        let mut order = validate::create_order(&input, self.refs, time::now()).ok()?;
        order.channel = self.sender.channel;
        Some((court_id, order))
    }

    /// Stores a run in one transaction; on any failure takes its lines one by one. A resend
    /// found by the run's lookup is answered from it; a message whose id or chain is known
    /// otherwise is taken alone, and the rest still go together.
    async fn flush(
        &self,
        run: Vec<Candidate>,
        lines: &[String],
        out: &mut [Option<AppResult<Outcome>>],
    ) {
        if run.is_empty() {
            return;
        }
        let mut alone: Vec<usize> = Vec::new();
        let fresh: Vec<Candidate> = match known(self.db, &run).await {
            Ok(found) => run
                .into_iter()
                .enumerate()
                .filter_map(|(i, c)| match found.get(&i) {
                    None => Some(c),
                    Some(Known::Resent(order)) => {
                        out[c.at] = Some(Ok(answer(&c, Status::Duplicate, *order, None)));
                        None
                    }
                    Some(Known::Other) => {
                        alone.push(c.at);
                        None
                    }
                })
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "a run of feed messages is taken one by one");
                alone.extend(run.iter().map(|c| c.at));
                Vec::new()
            }
        };
        if !fresh.is_empty() {
            match self.store_run(&fresh).await {
                Ok(Some(ids)) => {
                    for (c, id) in fresh.iter().zip(ids) {
                        out[c.at] = Some(Ok(answer(c, Status::Accepted, Some(id), Some(id))));
                    }
                    if let Err(e) = self.drain_run(&fresh).await {
                        tracing::error!(error = %e, "applying messages that waited for a run's ISSUEs");
                    }
                }
                // Stored by another server since the lookup: each is answered alone.
                Ok(None) => alone.extend(fresh.iter().map(|c| c.at)),
                Err(e) => {
                    tracing::warn!(error = %e, "a run of feed messages is taken one by one");
                    alone.extend(fresh.iter().map(|c| c.at));
                }
            }
        }
        alone.sort_unstable();
        for at in alone {
            out[at] = Some(self.take(&lines[at]).await);
        }
    }

    /// The run's rows, committed: `Some(order ids)` in run order; `None` (nothing written)
    /// when a message of it was stored before or its chain exists.
    async fn store_run(&self, run: &[Candidate]) -> AppResult<Option<Vec<i32>>> {
        let txn = crate::db::begin_write(self.db).await?;
        if txn.get_database_backend() == DbBackend::Postgres {
            // The chains' advisory locks (as `take` holds one), in one order for every server,
            // taken by one statement (a round trip each cost a third of the run).
            let mut chains: Vec<(i32, &str)> = run
                .iter()
                .map(|c| (c.court_id, c.msg.external_id.as_str()))
                .collect();
            chains.sort_unstable();
            for slice in chains.chunks(LOCKS_PER_STATEMENT) {
                let rows: Vec<String> = (0..slice.len())
                    .map(|i| format!("(${}::int4, ${}::text)", 2 * i + 1, 2 * i + 2))
                    .collect();
                let values: Vec<sea_orm::Value> = slice
                    .iter()
                    .flat_map(|(court_id, external_id)| {
                        [(*court_id).into(), (*external_id).to_owned().into()]
                    })
                    .collect();
                // A VALUES list is scanned in its order, so the locks are taken in it.
                txn.query_all_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    format!(
                        "SELECT pg_advisory_xact_lock(c, hashtext(e)) FROM (VALUES {}) AS t(c, e)",
                        rows.join(", ")
                    ),
                    values,
                ))
                .await?;
            }
        }
        // Looked up without the write lock (`flush`), and again under it.
        if !known(&txn, run).await?.is_empty() {
            txn.rollback().await?;
            return Ok(None);
        }
        let orders: Vec<NewOrder> = run.iter().map(|c| c.order.clone()).collect();
        let written = async {
            let ids = crate::service::orders::insert_batch(&txn, &orders).await?;
            let now = Utc::now();
            let chains = run
                .iter()
                .zip(&ids)
                .map(|(c, &id)| feed_chain::ActiveModel {
                    court_id: Set(c.court_id),
                    external_id: Set(c.msg.external_id.clone()),
                    chain_root_id: Set(id),
                    head_order_id: Set(id),
                    last_sequence: Set(c.msg.sequence),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .collect();
            insert_chunked(&txn, chains).await?;
            let messages = run
                .iter()
                .zip(&ids)
                .map(|(c, &id)| feed_message::ActiveModel {
                    court_id: Set(c.court_id),
                    message_id: Set(c.msg.message_id.clone()),
                    content_hash: Set(c.hash.clone()),
                    external_id: Set(c.msg.external_id.clone()),
                    sequence: Set(c.msg.sequence),
                    action: Set(c.msg.action.as_db().to_owned()),
                    status: Set("accepted".to_owned()),
                    order_id: Set(Some(id)),
                    channel: Set(self.sender.channel.as_db().to_owned()),
                    body: Set(None),
                    errors: Set(None),
                    received_at: Set(now),
                    applied_at: Set(Some(now)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                })
                .collect();
            insert_chunked(&txn, messages).await?;
            AppResult::Ok(ids)
        }
        .await;
        match written {
            Ok(ids) => {
                txn.commit().await?;
                Ok(Some(ids))
            }
            Err(e) => {
                txn.rollback().await?;
                Err(e)
            }
        }
    }

    /// Applies the messages that arrived before their chain's ISSUE (deferred), now that the
    /// run has committed: one read finds the chains that have any.
    async fn drain_run(&self, run: &[Candidate]) -> AppResult<()> {
        let mut by_court: HashMap<i32, Vec<&str>> = HashMap::new();
        for c in run {
            by_court
                .entry(c.court_id)
                .or_default()
                .push(c.msg.external_id.as_str());
        }
        for (court_id, external_ids) in by_court {
            for chunk in external_ids.chunks(500) {
                let waiting: HashSet<String> = feed_deferred::Entity::find()
                    .filter(feed_deferred::Column::CourtId.eq(court_id))
                    .filter(feed_deferred::Column::ExternalId.is_in(chunk.iter().copied()))
                    .all(self.db)
                    .await?
                    .into_iter()
                    .map(|d| d.external_id)
                    .collect();
                for external_id in waiting {
                    self.drain(court_id, &external_id).await?;
                }
            }
        }
        Ok(())
    }
}

/// What is stored of a run's messages, by their place in it.
enum Known {
    /// The message was stored with this content: a resend, answered DUPLICATE.
    Resent(Option<i32>),
    /// Its id was used for other content, or its chain exists: `take` says which.
    Other,
}

/// The messages of `run` that are stored already, or whose chain is.
async fn known<C: ConnectionTrait>(
    conn: &C,
    run: &[Candidate],
) -> AppResult<HashMap<usize, Known>> {
    let mut by_court: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, c) in run.iter().enumerate() {
        by_court.entry(c.court_id).or_default().push(i);
    }
    let mut found = HashMap::new();
    for (court_id, places) in by_court {
        for chunk in places.chunks(500) {
            let by_id: HashMap<&str, usize> = chunk
                .iter()
                .map(|&i| (run[i].msg.message_id.as_str(), i))
                .collect();
            let stored = lookup(
                conn,
                "feed_message",
                "message_id",
                ", t.content_hash, t.order_id",
                court_id,
                by_id.keys().copied(),
            )
            .await?;
            for row in stored {
                let id: String = row.try_get("", "message_id")?;
                let hash: String = row.try_get("", "content_hash")?;
                let order: Option<i32> = row.try_get("", "order_id")?;
                if let Some(&i) = by_id.get(id.as_str()) {
                    let k = if hash == run[i].hash {
                        Known::Resent(order)
                    } else {
                        Known::Other
                    };
                    found.insert(i, k);
                }
            }
            let by_chain: HashMap<&str, usize> = chunk
                .iter()
                .map(|&i| (run[i].msg.external_id.as_str(), i))
                .collect();
            let chains = lookup(
                conn,
                "feed_chain",
                "external_id",
                "",
                court_id,
                by_chain.keys().copied(),
            )
            .await?;
            for row in chains {
                let external_id: String = row.try_get("", "external_id")?;
                if let Some(&i) = by_chain.get(external_id.as_str()) {
                    found.entry(i).or_insert(Known::Other);
                }
            }
        }
    }
    Ok(found)
}

/// The rows of `table` of the court whose `column` is one of `keys`, with `column` and `more`.
/// Joined to the keys as a VALUES list rather than `column IN (…)`: on PostgreSQL, a table that
/// grew since its last ANALYZE (a first import into a new database) was read whole, each row
/// compared with every key (120 ms a lookup at 10,000 messages, growing with the table); a join
/// looks each key up in the unique index, or hashes the keys.
async fn lookup<'k, C: ConnectionTrait>(
    conn: &C,
    table: &str,
    column: &str,
    more: &str,
    court_id: i32,
    keys: impl Iterator<Item = &'k str>,
) -> AppResult<Vec<sea_orm::QueryResult>> {
    let backend = conn.get_database_backend();
    // Numbered placeholders (`$n` and SQLite's `?n`), so the court bound first is named last.
    // PostgreSQL types a VALUES column from its first row: the keys are text.
    let (mark, cast) = if backend == DbBackend::Postgres {
        ('$', "::text")
    } else {
        ('?', "")
    };
    let mut values: Vec<sea_orm::Value> = vec![court_id.into()];
    let mut rows: Vec<String> = Vec::new();
    for key in keys {
        values.push(key.to_owned().into());
        rows.push(format!("({mark}{}{cast})", values.len()));
    }
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT t.{column}{more} FROM (VALUES {}) AS k \
         JOIN {table} t ON t.court_id = {mark}1 AND t.{column} = k.column1",
        rows.join(", ")
    );
    Ok(conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?)
}

/// The answer to a run's message, as `take` gives it.
fn answer(c: &Candidate, status: Status, order: Option<i32>, new_order: Option<i32>) -> Outcome {
    Outcome {
        ack: Ack {
            message_id: Some(c.msg.message_id.clone()),
            status,
            order_id: order.map(|o| ids::encode(Kind::Order, o)),
            errors: Vec::new(),
        },
        action: Some(c.msg.action),
        other_court: false,
        new_order,
    }
}
