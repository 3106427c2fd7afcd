//! Firearm relinquishment writes and the overdue list (docs/law/firearms.md; Fam. Code 6389(c),
//! CCP 527.9(b), PC 18120(b)).
use chrono::{DateTime, Utc};
use entities::{order, service_record};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::firearms::{self, FirearmFinding};
use crate::domain::order_rules::OrderFamily;
use crate::domain::ori::Ori;
use crate::domain::status::OrderStatus;
use crate::domain::time;
use crate::error::{AppError, AppResult};
use crate::service::commands::RecordFirearms;
use crate::service::lifecycle::load_order;
use crate::service::reads::status_condition;
use crate::service::refs;

/// `recordFirearmCompliance`: records the receipt (form, filing time, agency) and/or the court's
/// finding on the order; a later record replaces an earlier one (a corrected receipt, a finding
/// after a compliance hearing). Returns the order's id.
pub async fn record(db: &DatabaseConnection, input: &RecordFirearms) -> AppResult<i32> {
    let receipt = match (&input.receipt_form, input.receipt_filed_at) {
        (Some(form), Some(at)) => Some((form.as_str(), time::to_seconds(at))),
        (None, None) => None,
        (Some(_), None) => {
            return Err(AppError::invalid(
                "receiptFiledAt",
                "a receipt is recorded with the time it was filed",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::invalid(
                "receiptForm",
                "a receipt is recorded with its form",
            ));
        }
    };
    if receipt.is_none() && input.finding.is_none() {
        return Err(AppError::invalid(
            "finding",
            "record a receipt (receiptForm, receiptFiledAt), a finding, or both",
        ));
    }
    if receipt.is_none() && input.agency_ori.is_some() {
        return Err(AppError::invalid(
            "agencyOri",
            "the agency is recorded with the receipt that names it",
        ));
    }
    let agency_id = match input.agency_ori.as_deref() {
        Some(o) => {
            let ori = Ori::parse("agencyOri", o)?;
            let found = refs::agency_by_ori(db, &ori).await?;
            Some(found.map(|a| a.id).ok_or_else(|| {
                AppError::invalid("agencyOri", format!("no agency with ORI {}", ori.as_str()))
            })?)
        }
        None => None,
    };
    let now = time::now();
    let txn = crate::db::begin_write(db).await?;
    let o = load_order(&txn, "orderId", &input.order_id).await?;
    if o.cancelled_at.is_some() {
        return Err(AppError::conflict(
            "the order was cancelled as entered in error",
        ));
    }
    let family = OrderFamily::from_db(&o.family)?;
    firearms::applicable(family, o.firearm_relinquishment)?;
    let id = o.id;
    let issued_at = o.issued_at;
    let mut row = o.into_active_model();
    if let Some((form, filed_at)) = receipt {
        let form = firearms::check_receipt(family, true, form, filed_at, issued_at, now)?;
        row.firearm_receipt_form = Set(Some(form));
        row.firearm_receipt_filed_at = Set(Some(filed_at));
        row.firearm_receipt_agency_id = Set(agency_id);
    }
    if let Some(f) = input.finding {
        row.firearm_finding = Set(Some(f.as_db().to_owned()));
        row.firearm_finding_at = Set(Some(now));
    }
    row.updated_at = Set(now);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(id)
}

/// The finding recorded on an order.
pub fn finding_of(o: &order::Model) -> AppResult<Option<FirearmFinding>> {
    o.firearm_finding
        .as_deref()
        .map(FirearmFinding::from_db)
        .transpose()
}

/// Orders in force at `at` that order relinquishment under a tracked law, were served before
/// the receipt's 48 hours, and have neither a receipt nor a finding.
pub fn overdue_condition(at: DateTime<Utc>) -> Condition {
    let families: Vec<&str> = OrderFamily::ALL
        .iter()
        .filter(|f| firearms::relinquishment(**f).is_some())
        .map(|f| f.as_db())
        .collect();
    let served = Query::select()
        .column(service_record::Column::OrderId)
        .from(service_record::Entity)
        .and_where(service_record::Column::ServedAt.lte(firearms::served_by_for_overdue(at)))
        .to_owned();
    Condition::all()
        .add(order::Column::FirearmRelinquishment.eq(true))
        .add(order::Column::Family.is_in(families))
        .add(order::Column::FirearmReceiptFiledAt.is_null())
        .add(order::Column::FirearmFinding.is_null())
        .add(order::Column::ImageOnly.eq(false))
        .add(status_condition(OrderStatus::Active, at))
        .add(order::Column::Id.in_subquery(served))
}

/// `overdue_condition`'s orders of `court_id`: oldest issued first, at most `limit`.
pub async fn overdue<C: ConnectionTrait>(
    db: &C,
    court_id: i32,
    at: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<order::Model>> {
    Ok(order::Entity::find()
        .filter(order::Column::CourtId.eq(court_id))
        .filter(overdue_condition(at))
        .order_by_asc(order::Column::IssuedAt)
        .order_by_asc(order::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
