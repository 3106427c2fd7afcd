//! Work lists clerks and officers live by (issue 25): which orders need someone's attention, as
//! conditions on the order list (`reads::OrderFilter::extra`), each evaluated at one instant.
use chrono::{DateTime, Duration, Months, Utc};
use entities::{carpos_transmission, order, service_record};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition};

use crate::domain::order_rules::{OrderFamily, OrderKind};
use crate::domain::status::OrderStatus;
use crate::service::firearms::overdue_condition;
use crate::service::reads::status_condition;

crate::domain::codes::code_enum!(
    /// A work list.
    WorkListKind {
        /// In force and expiring within `withinDays`.
        ExpiringSoon => "expiring_soon",
        /// Domestic violence and workplace violence orders after hearing whose renewal request
        /// window is open: the 3 months before expiry (Fam. Code 6345(a); CCP 527.8(k)(1)).
        RenewalWindow => "renewal_window",
        /// In force and not served.
        Unserved => "unserved",
        /// Temporary orders still standing whose hearing date has passed with no order after
        /// hearing (which would have superseded them).
        HearingPassed => "hearing_passed",
        /// Firearm relinquishment receipt overdue (docs/law/firearms.md).
        FirearmsOverdue => "firearms_overdue",
        /// Orders with a CARPOS transmission that was rejected, is held for missing data, or is
        /// not acknowledged by its Fam. Code 6380(a) due time (the end of the next court day;
        /// docs/wire/carpos.md#the-sending-side), whatever the order's status.
        TransmissionProblems => "transmission_problems",
    }
);

/// Longest look-ahead of `withinDays`.
pub const MAX_WITHIN_DAYS: i64 = 366;
/// `withinDays` when not given.
pub const DEFAULT_WITHIN_DAYS: i64 = 30;

/// The orders of list `kind` at `at`; `within_days` is the look-ahead of `ExpiringSoon`.
pub fn condition(kind: WorkListKind, at: DateTime<Utc>, within_days: i64) -> Condition {
    let active = status_condition(OrderStatus::Active, at);
    match kind {
        WorkListKind::ExpiringSoon => active
            .add(order::Column::ExpiresAt.is_not_null())
            .add(order::Column::ExpiresAt.lte(at + Duration::days(within_days))),
        WorkListKind::RenewalWindow => {
            let closes_by = at.checked_add_months(Months::new(3)).unwrap_or(at);
            active
                .add(
                    order::Column::Family.is_in([OrderFamily::Dv.as_db(), OrderFamily::Wv.as_db()]),
                )
                .add(order::Column::Kind.eq(OrderKind::AfterHearing.as_db()))
                .add(order::Column::ExpiresAt.is_not_null())
                .add(order::Column::ExpiresAt.lte(closes_by))
        }
        WorkListKind::Unserved => active.add(order::Column::ImageOnly.eq(false)).add(
            order::Column::Id.not_in_subquery(
                Query::select()
                    .column(service_record::Column::OrderId)
                    .from(service_record::Entity)
                    .and_where(service_record::Column::ServedAt.lte(at))
                    .to_owned(),
            ),
        ),
        WorkListKind::HearingPassed => active
            .add(order::Column::Kind.eq(OrderKind::Temporary.as_db()))
            .add(order::Column::HearingDate.is_not_null())
            .add(order::Column::HearingDate.lt(at.date_naive())),
        WorkListKind::FirearmsOverdue => overdue_condition(at),
        WorkListKind::TransmissionProblems => {
            use crate::carpos::outbox::TxState;
            let tx = carpos_transmission::Column::State;
            let problem = Condition::any()
                .add(tx.is_in([TxState::Rejected.as_db(), TxState::HeldIncomplete.as_db()]))
                .add(
                    Condition::all()
                        .add(tx.ne(TxState::Acknowledged.as_db()))
                        .add(carpos_transmission::Column::DueBy.lt(at)),
                );
            Condition::all().add(
                order::Column::Id.in_subquery(
                    Query::select()
                        .column(carpos_transmission::Column::OrderId)
                        .from(carpos_transmission::Entity)
                        .cond_where(problem)
                        .to_owned(),
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{EntityTrait, QueryFilter, QueryTrait};

    fn sql(kind: WorkListKind) -> String {
        let at = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
        order::Entity::find()
            .filter(condition(kind, at, 30))
            .build(sea_orm::DatabaseBackend::Sqlite)
            .to_string()
    }

    #[test]
    fn each_list_says_what_it_holds() {
        assert!(sql(WorkListKind::ExpiringSoon).contains("\"expires_at\" <="));
        let renewal = sql(WorkListKind::RenewalWindow);
        assert!(
            renewal.contains("'dv'")
                && renewal.contains("'wv'")
                && renewal.contains("'after_hearing'")
        );
        assert!(
            sql(WorkListKind::Unserved)
                .contains("NOT IN (SELECT \"order_id\" FROM \"service_record\"")
        );
        let hearing = sql(WorkListKind::HearingPassed);
        assert!(hearing.contains("'temporary'") && hearing.contains("\"hearing_date\" <"));
        assert!(
            sql(WorkListKind::FirearmsOverdue).contains("\"firearm_receipt_filed_at\" IS NULL")
        );
        let tx = sql(WorkListKind::TransmissionProblems);
        assert!(
            tx.contains("'rejected'")
                && tx.contains("'held_incomplete'")
                && tx.contains("\"due_by\" <")
                && tx.contains("<> 'acknowledged'"),
            "{tx}"
        );
    }
}
