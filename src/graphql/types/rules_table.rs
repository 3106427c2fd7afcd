//! The rules table as GraphQL types (`rulesTable`): renewals, the hearing window, the families
//! that may protect an organisation, the PCO conditions and the court holidays, each row with its
//! source. Forms are `FormRule`s.
use async_graphql::{ComplexObject, SimpleObject};
use chrono::NaiveDate;

use super::FormRule;
use crate::domain::order_rules::{OrderFamily, OrderKind};

/// The rules table in force (`ccpor rules`, `--rules FILE`), the rows that apply on a day or
/// every row.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct RulesTable {
    /// The table's version, as its file gives it.
    pub version: String,
    /// The day the rows were chosen for; null when every row was asked for.
    pub as_of: Option<NaiveDate>,
    pub forms: Vec<FormRule>,
    pub renewals: Vec<RenewalRule>,
    pub hearing_windows: Vec<HearingWindowRule>,
    pub organisation_families: Vec<OrganisationFamilyRule>,
    pub pco_conditions: Vec<PcoRule>,
    #[graphql(skip)]
    pub holidays: Vec<CourtHoliday>,
}

#[ComplexObject]
impl RulesTable {
    /// The judicial holidays court days skip (CCP 135; observed dates per Cal. Rules of Court,
    /// rule 1.11), of `year` or of every year the table covers. A day in a year outside them
    /// cannot be counted in court days, and an order needing it is refused.
    async fn court_holidays(&self, year: Option<i32>) -> Vec<&CourtHoliday> {
        self.holidays
            .iter()
            .filter(|h| year.is_none_or(|y| chrono::Datelike::year(&h.date) == y))
            .collect()
    }
}

/// How a family's orders are renewed.
#[derive(SimpleObject)]
pub struct RenewalRule {
    pub family: OrderFamily,
    /// The kinds of order that may be renewed.
    pub kinds: Vec<OrderKind>,
    /// The longest a renewal may run ("5 years"; "none": permanently).
    pub max: String,
    /// The shortest, when the law sets one.
    pub min: Option<String>,
    /// How long before expiry the renewal request must be filed, when the law sets it.
    pub request_window: Option<String>,
    pub source: String,
    pub effective: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// How soon a temporary order's hearing must be held.
#[derive(SimpleObject)]
pub struct HearingWindowRule {
    pub days: i64,
    /// With good cause.
    pub good_cause_days: i64,
    pub source: String,
    pub effective: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// A family whose orders may protect an organisation.
#[derive(SimpleObject)]
pub struct OrganisationFamilyRule {
    pub family: OrderFamily,
    pub source: String,
    pub effective: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// An NCIC protection order condition (PCO) the registry may send.
#[derive(SimpleObject)]
pub struct PcoRule {
    /// Two digits, "01" to "09".
    pub code: String,
    pub meaning: String,
    pub source: String,
    pub effective: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// A day the courts are closed.
#[derive(SimpleObject)]
pub struct CourtHoliday {
    /// The day observed.
    pub date: NaiveDate,
    pub name: String,
    /// "published" (a court's published calendar lists it) or "statute" (our reading of CCP 135
    /// and Gov. Code 6700; no published calendar for the year was found).
    pub basis: String,
    pub source: String,
}
