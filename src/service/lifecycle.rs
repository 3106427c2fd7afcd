//! Lifecycle writes on an order: proof of service, termination, cancellation (modification and
//! renewal, which add a successor order, are `successor`'s). History is appended as events; an
//! order row's lifecycle columns are set once, guarded so a concurrent second write finds nothing
//! to update.
use chrono::{DateTime, Utc};
use entities::{order, order_event, service_record};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::carpos::mapping::Trigger;
use crate::carpos::outbox;
use crate::domain::codes::{EntrySource, EventKind};
use crate::domain::ids::{self, Kind};
use crate::domain::ori::Ori;
use crate::domain::status::OrderStatus;
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::service::commands::{CancelOrder, RecordService, TerminateOrder};
use crate::service::orders::{event, insert_chunked, outbox_rows};
use crate::service::reads::lifecycle;
use crate::service::{refs, validate};

/// The order a command names by global id at `field`; `NOT_FOUND` when there is none.
pub(crate) async fn load_order<C: ConnectionTrait>(
    conn: &C,
    field: &str,
    gid: &str,
) -> AppResult<order::Model> {
    let id = ids::decode(field, Kind::Order, gid)?;
    order::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found(format!("order {gid}")))
}

/// `recordService`: adds a proof of service and a `served` event.
pub async fn record_service(
    db: &DatabaseConnection,
    input: &RecordService,
) -> AppResult<(i32, service_record::Model)> {
    let txn = crate::db::begin_write(db).await?;
    let done = record_service_in(&txn, input).await?;
    txn.commit().await?;
    Ok(done)
}

/// `record_service` inside the caller's write transaction.
pub async fn record_service_in<C: ConnectionTrait>(
    txn: &C,
    input: &RecordService,
) -> AppResult<(i32, service_record::Model)> {
    let served_at = validate::issued_at("servedAt", input.served_at, time::now())
        .map_err(|_| AppError::invalid("servedAt", "service time is in the future"))?;
    // One indexed lookup; loading all reference data is for whole orders.
    let agency_id = match input.agency_ori.as_deref() {
        Some(o) => {
            let ori = Ori::parse("agencyOri", o)?;
            let found = refs::agency_by_ori(txn, &ori).await?;
            Some(found.map(|a| a.id).ok_or_else(|| {
                AppError::invalid("agencyOri", format!("no agency with ORI {}", ori.as_str()))
            })?)
        }
        None => None,
    };
    let server_name = validate::text("serverName", input.server_name.as_deref(), 120)?;
    let notes = validate::text("notes", input.notes.as_deref(), validate::MAX_TEXT)?;
    let o = load_order(txn, "orderId", &input.order_id).await?;
    if served_at < o.issued_at {
        return Err(AppError::invalid(
            "servedAt",
            "service time is before the order was issued",
        ));
    }
    if o.cancelled_at.is_some() {
        return Err(AppError::conflict(
            "the order was cancelled as entered in error",
        ));
    }
    let now = chrono::Utc::now();
    let record = service_record::ActiveModel {
        order_id: Set(o.id),
        served_at: Set(served_at),
        method: Set(input.method.as_db().to_owned()),
        server_name: Set(server_name),
        agency_id: Set(agency_id),
        notes: Set(notes),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let source = if agency_id.is_some() {
        EntrySource::Lea
    } else {
        EntrySource::Court
    };
    order_event::Entity::insert(event(
        o.id,
        EventKind::Served,
        served_at,
        None,
        None,
        source,
    ))
    .exec_without_returning(txn)
    .await?;
    outbox::queue_change(txn, o.id, Trigger::Service).await?;
    Ok((o.id, record))
}

/// Only an order in force (or not yet in force) can be modified, renewed or terminated.
pub(crate) fn require_open(o: &order::Model, at: DateTime<Utc>, action: &str) -> AppResult<()> {
    if o.image_only {
        return Err(AppError::conflict(format!(
            "cannot {action} an image-only order before its data is entered (completeImageOnlyOrder)"
        )));
    }
    match lifecycle(o).status_at(at) {
        OrderStatus::Active | OrderStatus::Pending => Ok(()),
        OrderStatus::Expired if action == "renew" => Ok(()),
        status => Err(AppError::conflict(format!(
            "cannot {action} an order that is {}",
            status.as_db()
        ))),
    }
}

/// Sets one lifecycle projection column, once. With `open_only` the order must also not have
/// ended otherwise (superseded, terminated, cancelled). The guard sits in the UPDATE itself, so
/// of two concurrent writers one finds nothing to update and gets `CONFLICT`.
pub(crate) async fn set_once<C: ConnectionTrait>(
    conn: &C,
    order_id: i32,
    column: order::Column,
    at: DateTime<Utc>,
    open_only: bool,
    conflict: &str,
) -> AppResult<()> {
    let mut update = order::Entity::update_many()
        .col_expr(column, Expr::value(at))
        .col_expr(order::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(order::Column::Id.eq(order_id))
        .filter(column.is_null());
    if open_only {
        for c in [
            order::Column::SupersededAt,
            order::Column::TerminatedAt,
            order::Column::CancelledAt,
        ] {
            update = update.filter(c.is_null());
        }
    }
    if update.exec(conn).await?.rows_affected != 1 {
        return Err(AppError::conflict(conflict));
    }
    Ok(())
}

pub(crate) const CHANGED_ELSEWHERE: &str = "the order was changed by someone else; reload it";

/// `terminateOrder`: ends an order by court order.
pub async fn terminate(db: &DatabaseConnection, input: &TerminateOrder) -> AppResult<i32> {
    let txn = crate::db::begin_write(db).await?;
    let id = terminate_in(&txn, input).await?;
    txn.commit().await?;
    Ok(id)
}

/// `terminate` inside the caller's write transaction.
pub async fn terminate_in<C: ConnectionTrait>(txn: &C, input: &TerminateOrder) -> AppResult<i32> {
    let now = time::now();
    let at = validate::issued_at("terminatedAt", input.terminated_at, now)
        .map_err(|_| AppError::invalid("terminatedAt", "termination time is in the future"))?;
    let reason = validate::text("reason", input.reason.as_deref(), validate::MAX_TEXT)?;
    let o = load_order(txn, "orderId", &input.order_id).await?;
    require_open(&o, now, "terminate")?;
    if at < o.issued_at {
        return Err(AppError::invalid(
            "terminatedAt",
            "termination time is before the order was issued",
        ));
    }
    set_once(
        txn,
        o.id,
        order::Column::TerminatedAt,
        at,
        true,
        CHANGED_ELSEWHERE,
    )
    .await?;
    order_event::Entity::insert(event(
        o.id,
        EventKind::Terminated,
        at,
        None,
        reason,
        EntrySource::Court,
    ))
    .exec_without_returning(txn)
    .await?;
    insert_chunked(txn, outbox_rows(&[o.id], chrono::Utc::now())).await?;
    outbox::queue_change(txn, o.id, Trigger::Termination).await?;
    Ok(o.id)
}

/// `cancelOrder`: entered in error. The order and its history stay; it shows as cancelled.
pub async fn cancel(db: &DatabaseConnection, input: &CancelOrder) -> AppResult<i32> {
    let txn = crate::db::begin_write(db).await?;
    let id = cancel_in(&txn, input).await?;
    txn.commit().await?;
    Ok(id)
}

/// `cancel` inside the caller's write transaction.
pub async fn cancel_in<C: ConnectionTrait>(txn: &C, input: &CancelOrder) -> AppResult<i32> {
    let reason = validate::text("reason", Some(&input.reason), validate::MAX_TEXT)?
        .ok_or_else(|| AppError::invalid("reason", "say why the order is cancelled"))?;
    let now = time::now();
    let o = load_order(txn, "orderId", &input.order_id).await?;
    set_once(
        txn,
        o.id,
        order::Column::CancelledAt,
        now,
        false,
        "the order is already cancelled",
    )
    .await?;
    order_event::Entity::insert(event(
        o.id,
        EventKind::Cancelled,
        now,
        None,
        Some(reason),
        EntrySource::Court,
    ))
    .exec_without_returning(txn)
    .await?;
    insert_chunked(txn, outbox_rows(&[o.id], chrono::Utc::now())).await?;
    outbox::queue_change(txn, o.id, Trigger::Cancellation).await?;
    Ok(o.id)
}
