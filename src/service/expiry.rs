//! The expiry job: orders past `expiresAt` already show as expired at query time (status is
//! derived); this records the `expired` event once per order (a partial unique index makes that
//! hold across instances) and refreshes the search index's active flag through the outbox;
//! subscribers hear of it through the event relay (`crate::service::events`), like any other event.
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::domain::codes::EventKind;
use crate::error::AppResult;
use crate::service::orders::{insert_chunked, outbox_rows};

/// How often `serve` sweeps.
pub const EVERY: Duration = Duration::from_secs(60);
/// Orders recorded per sweep statement.
const BATCH: usize = 1000;

/// Records `expired` events for orders that expired by `now` (and had not ended otherwise
/// before). Returns the orders recorded, with their expiry times.
pub async fn sweep(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Vec<(i32, DateTime<Utc>)>> {
    let backend = db.get_database_backend();
    let (p1, p2, p3) = (
        crate::db::placeholder(backend, 1),
        crate::db::placeholder(backend, 2),
        crate::db::placeholder(backend, 3),
    );
    let kind = EventKind::Expired.as_db();
    // `NOT IN` rather than `NOT EXISTS`: right after a bulk load PostgreSQL's statistics say
    // there are no EXPIRED events, and it planned the anti-join as a nested loop over all of
    // them for every expired order, so each batch of a 19k backlog took longer than the last
    // (27 s by the middle). `NOT IN` is a hashed subplan whatever the estimate (`order_id` is
    // never null).
    let sql = format!(
        "INSERT INTO order_event (order_id, kind, occurred_at, source, created_at, updated_at) \
         SELECT o.id, '{kind}', o.expires_at, o.source, {p1}, {p2} FROM protective_order o \
         WHERE o.expires_at IS NOT NULL AND o.expires_at <= {p3} \
           AND (o.cancelled_at IS NULL OR o.cancelled_at > o.expires_at) \
           AND (o.terminated_at IS NULL OR o.terminated_at > o.expires_at) \
           AND (o.superseded_at IS NULL OR o.superseded_at > o.expires_at) \
           AND o.id NOT IN (SELECT e.order_id FROM order_event e WHERE e.kind = '{kind}') \
         ORDER BY o.expires_at, o.id LIMIT {BATCH} \
         ON CONFLICT (order_id) WHERE kind = '{kind}' DO NOTHING \
         RETURNING order_id, occurred_at"
    );
    let mut sent = Vec::new();
    loop {
        let recorded = Utc::now();
        let txn = crate::db::begin_write(db).await?;
        let rows = txn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql.clone(),
                [recorded.into(), recorded.into(), now.into()],
            ))
            .await?;
        let mut expired = Vec::with_capacity(rows.len());
        for r in &rows {
            expired.push((
                r.try_get::<i32>("", "order_id")?,
                r.try_get::<DateTime<Utc>>("", "occurred_at")?,
            ));
        }
        let ids: Vec<i32> = expired.iter().map(|(id, _)| *id).collect();
        insert_chunked(&txn, outbox_rows(&ids, Utc::now())).await?;
        txn.commit().await?;
        let done = expired.len() < BATCH;
        sent.extend(expired);
        if done {
            return Ok(sent);
        }
    }
}

/// Sweeps every `every` (the first time `every` after start, so a starting server's first
/// requests do not queue behind it) until the task is aborted; failures are logged and retried.
/// A sweep that recorded expiries invalidates `cache`: the new EXPIRED events are part of the
/// orders' answers.
pub fn spawn(
    db: DatabaseConnection,
    cache: crate::cache::Cache,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep(&db, Utc::now()).await {
                Ok(n) if !n.is_empty() => {
                    cache.invalidate().await;
                    tracing::info!(orders = n.len(), "recorded expiries");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "expiry sweep failed; retrying"),
            }
        }
    })
}
