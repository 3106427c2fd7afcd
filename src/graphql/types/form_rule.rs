//! The `FormRule` type: a form the registry accepts and its duration rule.
use async_graphql::SimpleObject;

use crate::domain::order_rules::{OrderFamily, OrderKind};

/// A Judicial Council form the registry accepts, with its duration rule.
#[derive(SimpleObject)]
pub struct FormRule {
    pub form_number: String,
    pub family: OrderFamily,
    pub kind: OrderKind,
    /// Longest duration in days, when capped in days.
    pub max_days: Option<i64>,
    /// Longest duration in years, when capped in years.
    pub max_years: Option<i32>,
    pub expiry_required: bool,
    pub citation: String,
}
