//! Storing a batch of new orders as statements: the checks, ids and the few rows the CARPOS
//! facts need are read first; then every row is built and turned into multi-row statements
//! without the database, and executed in order. A large batch (an import's) builds its
//! statements on a blocking thread while the previous one executes, so building and SQLite's
//! single writer work at once instead of taking turns (issue 24: import rate).
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entities::{order, person};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Statement, TryIntoModel};

use crate::carpos::{facts, outbox};
use crate::db::{IdTable, allocate_ids};
use crate::domain::codes::EventKind;
use crate::error::{AppError, AppResult};
use crate::service::chunks::insert_statements;
use crate::service::model::{NewOrder, NewParty, PartyPerson};
use crate::service::orders::{
    PartyRows, check_existing_persons, event, new_person_count, order_row, outbox_rows, party_rows,
};

/// From this many orders a batch's statements are built beside their execution; below it
/// (one `createOrder`) the thread hand-off costs more than it saves.
const PIPELINE_FROM: usize = 64;

/// Statements built ahead of the one executing.
const AHEAD: usize = 4;

/// A batch ready to be built: the orders, their ids and the new persons' ids, and what the
/// CARPOS entry facts read from the database (existing persons, court ORIs).
struct Batch {
    orders: Vec<NewOrder>,
    order_ids: Vec<i32>,
    person_ids: Vec<i32>,
    now: DateTime<Utc>,
    existing: HashMap<i32, person::Model>,
    oris: HashMap<i32, String>,
}

/// Inserts validated orders with their new persons, aliases, parties, `issued` events, search
/// outbox rows and CARPOS entries. Call inside a transaction. Returns the new order ids, in
/// input order.
pub async fn insert<C: ConnectionTrait>(conn: &C, orders: Vec<NewOrder>) -> AppResult<Vec<i32>> {
    let batch = prepare(conn, orders).await?;
    let ids = batch.order_ids.clone();
    let backend = conn.get_database_backend();
    if batch.orders.len() < PIPELINE_FROM {
        let mut statements = Vec::new();
        batch.build(backend, &mut |s| {
            statements.push(s);
            true
        })?;
        for s in statements {
            conn.execute_raw(s).await?;
        }
        return Ok(ids);
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Statement>(AHEAD);
    let builder = tokio::task::spawn_blocking(move || {
        batch.build(backend, &mut |s| tx.blocking_send(s).is_ok())
    });
    while let Some(s) = rx.recv().await {
        if let Err(e) = conn.execute_raw(s).await {
            // The builder stops at its next statement; the caller's transaction is abandoned.
            drop(rx);
            let _ = builder.await;
            return Err(e.into());
        }
    }
    builder
        .await
        .map_err(|e| internal(format!("building a batch's statements failed: {e}")))??;
    Ok(ids)
}

/// The reads a batch needs before its rows can be built.
async fn prepare<C: ConnectionTrait>(conn: &C, orders: Vec<NewOrder>) -> AppResult<Batch> {
    check_existing_persons(conn, &orders).await?;
    let order_ids = allocate_ids(conn, IdTable::Order, orders.len()).await?;
    let new_persons = new_person_count(orders.iter().flat_map(|o| o.parties.iter()));
    let person_ids = allocate_ids(conn, IdTable::Person, new_persons).await?;
    // New chains enter CARPOS; their facts come from the rows built here, and from the persons
    // that existed before and the courts' ORIs, read now.
    let entries: Vec<&NewOrder> = orders.iter().filter(|o| is_entry(o)).collect();
    let (existing, oris) = if entries.is_empty() {
        (HashMap::new(), HashMap::new())
    } else {
        let known: Vec<i32> = entries
            .iter()
            .flat_map(|o| o.parties.iter())
            .filter_map(|p| match p.person {
                PartyPerson::Existing(id) => Some(id),
                PartyPerson::New(_) => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let existing = if known.is_empty() {
            HashMap::new()
        } else {
            facts::load_persons(conn, &known).await?
        };
        let oris = facts::court_oris(conn, entries.iter().map(|o| o.court_id)).await?;
        (existing, oris)
    };
    Ok(Batch {
        orders,
        order_ids,
        person_ids,
        now: Utc::now(),
        existing,
        oris,
    })
}

/// A new chain's first order, which enters CARPOS; a successor's message is queued by its
/// change (`successor`), an image-only order's when its data is keyed.
fn is_entry(o: &NewOrder) -> bool {
    o.supersedes.is_none() && !o.image_only
}

/// Orders whose statements are built and emitted together: small enough that the executor
/// never waits long for its next statement, large enough for multi-row statements; a fixed
/// size, so a slice's statements repeat and stay prepared.
const SLICE: usize = 250;
/// The same on PostgreSQL, whose statements bind one array a column (`unnest`) and cost the
/// same to prepare whatever their rows: fewer, larger statements (a 100,000-order import,
/// alternated: 250 orders 5,252-5,527 orders/s, 1,000 5,918-5,971; 2,500 within the noise of
/// 1,000; BENCHMARKS.md, "PostgreSQL inserts as arrays").
const PG_SLICE: usize = 1_000;

impl Batch {
    /// Builds every statement of the batch, in the order they must run, handing each to `emit`;
    /// stops early when `emit` returns false (the executor gave up). Slice by slice of orders:
    /// their order rows, new persons, aliases, parties, events, search outbox and CARPOS rows.
    fn build(self, backend: DbBackend, emit: &mut dyn FnMut(Statement) -> bool) -> AppResult<()> {
        let Batch {
            orders,
            order_ids,
            person_ids,
            now,
            existing,
            oris,
        } = self;
        let mut next_person = person_ids.into_iter();
        let size = match backend {
            DbBackend::Postgres => PG_SLICE,
            _ => SLICE,
        };
        for (orders, order_ids) in orders.chunks(size).zip(order_ids.chunks(size)) {
            let go = slice(
                backend,
                orders,
                order_ids,
                &mut next_person,
                now,
                &existing,
                &oris,
                emit,
            )?;
            if !go {
                break;
            }
        }
        Ok(())
    }
}

/// One slice's statements (`Batch::build`); false when `emit` gave up.
#[expect(
    clippy::too_many_arguments,
    reason = "one batch's parts, passed apart to borrow them apart"
)]
fn slice(
    backend: DbBackend,
    orders: &[NewOrder],
    order_ids: &[i32],
    next_person: &mut impl Iterator<Item = i32>,
    now: DateTime<Utc>,
    existing: &HashMap<i32, person::Model>,
    oris: &HashMap<i32, String>,
    emit: &mut dyn FnMut(Statement) -> bool,
) -> AppResult<bool> {
    let order_rows: Vec<order::ActiveModel> = orders
        .iter()
        .zip(order_ids)
        .map(|(o, &id)| order_row(o, id, now))
        .collect();
    let entry_models = order_rows
        .iter()
        .zip(orders)
        .filter(|(_, o)| is_entry(o))
        .map(|(r, _)| r.clone().try_into_model())
        .collect::<Result<Vec<order::Model>, _>>()?;
    let keep = !entry_models.is_empty();
    if !chunked(backend, order_rows, emit) {
        return Ok(false);
    }
    let with_ids: Vec<(i32, &[NewParty])> = orders
        .iter()
        .zip(order_ids)
        .map(|(o, &id)| (id, o.parties.as_slice()))
        .collect();
    let PartyRows {
        persons,
        aliases,
        parties,
        written,
        mut new_persons,
    } = party_rows(&with_ids, next_person, now, keep)?;
    // Image-only orders have no keyed issue time: their `issued` event comes with data entry.
    let events = orders
        .iter()
        .zip(order_ids)
        .filter(|(o, _)| !o.image_only)
        .map(|(o, &id)| {
            event(
                id,
                EventKind::Issued,
                o.issued_at,
                o.supersedes.map(|s| s.order_id),
                None,
                o.source,
            )
        })
        .collect();
    if !(chunked(backend, persons, emit)
        && chunked(backend, aliases, emit)
        && chunked(backend, parties, emit)
        && chunked(backend, events, emit)
        && chunked(backend, outbox_rows(order_ids, now), emit))
    {
        return Ok(false);
    }
    if keep {
        let entries: Vec<i32> = entry_models.iter().map(|m| m.id).collect();
        // The slice's persons: those it created and those that existed before.
        let known: Vec<i32> = written
            .iter()
            .map(|&(_, p, _)| p)
            .filter(|p| !new_persons.contains_key(p))
            .collect();
        for id in known {
            if let Some(p) = existing.get(&id) {
                new_persons.insert(id, p.clone());
            }
        }
        let facts = facts::assemble(entry_models, &written, &new_persons, oris)?;
        return Ok(chunked(
            backend,
            outbox::entry_rows(&entries, &facts)?,
            emit,
        ));
    }
    Ok(true)
}

/// `models` as multi-row INSERT statements sized for the backend; false when `emit` gave up.
fn chunked<A: ActiveModelTrait>(
    backend: DbBackend,
    models: Vec<A>,
    emit: &mut dyn FnMut(Statement) -> bool,
) -> bool {
    insert_statements(backend, models).all(emit)
}

fn internal(m: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(anyhow::anyhow!(m)))
}
