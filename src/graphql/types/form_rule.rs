//! The `FormRule` type: a form the registry accepts and its duration rule.
use async_graphql::SimpleObject;

use crate::domain::order_rules::{OrderFamily, OrderKind};

/// A Judicial Council form the registry accepts, with its duration rule.
#[derive(SimpleObject)]
pub struct FormRule {
    pub form_number: String,
    pub family: OrderFamily,
    pub kind: OrderKind,
    /// Longest duration in days, when capped in days. For EPO-001 the law's limit is the
    /// earlier of this and `maxCourtDays`.
    pub max_days: Option<i64>,
    /// Court days following the day of issuance, when the form is also bounded by court days
    /// (EPO-001: the earlier of 5 court days or 7 days, Fam. Code 6256).
    pub max_court_days: Option<i32>,
    /// Longest duration in years, when capped in years.
    pub max_years: Option<i32>,
    /// Shortest duration in years, when the law sets one (GV-130: 1 year since AB 12).
    pub min_years: Option<i32>,
    /// Years the order runs from issuance when no expiry is written (JV-255: 3).
    pub default_years: Option<i32>,
    /// The whole duration rule in words.
    pub duration: String,
    pub expiry_required: bool,
    /// The statute or form the rule comes from (the same text as `source`).
    pub citation: String,
    /// The statute or form the rule comes from, as the rules table gives it.
    pub source: String,
    /// The first day the rule applies: an order is judged by the rule in force on the day it
    /// was issued.
    pub effective: chrono::NaiveDate,
    /// The last day the rule applies, when a later rule replaced it.
    pub until: Option<chrono::NaiveDate>,
    /// The version of the rules table the rule is read from.
    pub table_version: String,
}
