//! The terms of an order (`OrderConditions`) and its NCIC PCO conditions.
use async_graphql::{ComplexObject, Context, SimpleObject};
use chrono::{DateTime, Utc};

use crate::domain::codes::{BradyIndicator, ContactLevel};
use crate::graphql::access::{identified, permit};

/// One NCIC PCO condition.
#[derive(SimpleObject)]
pub struct PcoCondition {
    pub code: String,
    pub meaning: String,
}

/// The terms of an order.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct OrderConditions {
    pub pco_codes: Vec<PcoCondition>,
    pub contact_level: ContactLevel,
    pub stay_away_yards: Option<i32>,
    pub move_out: bool,
    pub firearm_relinquishment: bool,
    pub firearm_due_at: Option<DateTime<Utc>>,
    pub brady_indicator: BradyIndicator,
    #[graphql(skip)]
    pub special_conditions: Option<String>,
    #[graphql(skip)]
    pub notes: Option<String>,
}

#[ComplexObject]
impl OrderConditions {
    /// Free text written by the court; may name people, so not for de-identified roles.
    async fn special_conditions(&self, ctx: &Context<'_>) -> Option<&str> {
        if !permit(ctx, identified(ctx)) {
            return None;
        }
        self.special_conditions.as_deref()
    }
    /// Free text: null with a `FORBIDDEN` error for de-identified roles.
    async fn notes(&self, ctx: &Context<'_>) -> Option<&str> {
        if !permit(ctx, identified(ctx)) {
            return None;
        }
        self.notes.as_deref()
    }
}
