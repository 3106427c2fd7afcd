//! The registry's rules as data (issue 25): forms and their lengths, renewals, the hearing window
//! of temporary orders, the families that may protect an organisation, the NCIC PCO conditions
//! and the court holidays, read from one versioned file: `data/rules.toml` as shipped, or the file
//! `--rules FILE` (`CCPOR_RULES`) names. Each row carries its source and the days it is in force
//! (a holiday is itself a day); an order is judged by the rows in force on the day it was issued
//! (`order_rules::check_form`).
//!
//! The table is loaded and checked once at start-up (`install`) and then read by every rule of
//! `order_rules`, `renewal`, `codes::PcoCode` and `court_days`; nothing holds a second copy of its
//! numbers.
mod load;
pub mod render;

use std::path::Path;
use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::domain::court_days::Calendar;
use crate::domain::order_rules::{FormRule, Limit, OrderFamily, OrderKind};

pub use load::parse;

/// The shipped table.
pub const SHIPPED: &str = include_str!("../data/rules.toml");
/// How the shipped table is named in messages.
pub const SHIPPED_FILE: &str = "src/domain/data/rules.toml";

/// A mistake in a rules file: where, which field, what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}{}: {message}", field_part(.field))]
pub struct RulesError {
    pub file: String,
    /// 1-based; 0 when the mistake has no line (the file could not be read).
    pub line: usize,
    /// The field at fault; empty when the file itself is malformed.
    pub field: String,
    pub message: String,
}

fn field_part(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!(", field `{field}`")
    }
}

/// The days a row is in force: from `effective`, through `until` when given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub effective: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Validity {
    pub fn covers(&self, day: NaiveDate) -> bool {
        day >= self.effective && self.until.is_none_or(|u| day <= u)
    }

    fn overlaps(&self, other: &Validity) -> bool {
        let ends_before = |a: &Validity, b: &Validity| a.until.is_some_and(|u| u < b.effective);
        !ends_before(self, other) && !ends_before(other, self)
    }

    pub fn describe(&self) -> String {
        match self.until {
            Some(u) => format!("{} to {u}", self.effective),
            None => format!("from {}", self.effective),
        }
    }
}

/// How an order of a family is renewed.
#[derive(Debug, Clone)]
pub struct RenewalRule {
    pub family: OrderFamily,
    /// The kinds of order that may be renewed.
    pub kinds: Vec<OrderKind>,
    /// The longest a renewal may run from its issuance (`Unlimited`: permanently).
    pub max: Limit,
    /// The shortest, when the law sets one (a permanent renewal always satisfies it).
    pub min: Option<Limit>,
    /// How long before expiry the request must be filed; when set, the request date is required
    /// and an expired order cannot be renewed.
    pub request_window: Option<Limit>,
    pub source: String,
    pub validity: Validity,
    pub line: usize,
}

/// The hearing window of a temporary order.
#[derive(Debug, Clone)]
pub struct HearingWindow {
    pub days: i64,
    pub good_cause_days: i64,
    pub source: String,
    pub validity: Validity,
    pub line: usize,
}

/// A family whose orders may protect an organisation.
#[derive(Debug, Clone)]
pub struct OrganisationRule {
    pub family: OrderFamily,
    pub source: String,
    pub validity: Validity,
    pub line: usize,
}

/// An NCIC Protection Order Condition.
#[derive(Debug, Clone)]
pub struct PcoRule {
    pub code: u8,
    pub meaning: String,
    pub source: String,
    pub validity: Validity,
    pub line: usize,
}

/// One loaded, checked rules file.
#[derive(Debug)]
pub struct RuleTable {
    /// The file it was read from.
    pub file: String,
    pub version: String,
    pub forms: Vec<FormRule>,
    pub renewals: Vec<RenewalRule>,
    pub hearing: Vec<HearingWindow>,
    pub organisations: Vec<OrganisationRule>,
    pub pco: Vec<PcoRule>,
    /// The judicial holidays court days skip.
    pub holidays: Calendar,
}

impl RuleTable {
    /// The shipped table.
    pub fn shipped() -> Result<Self, RulesError> {
        parse(SHIPPED_FILE, SHIPPED)
    }

    /// A table read from `path`.
    pub fn from_file(path: &Path) -> Result<Self, RulesError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RulesError {
            file: file.clone(),
            line: 0,
            field: String::new(),
            message: format!("cannot read the rules file: {e}"),
        })?;
        parse(&file, &text)
    }

    /// A table with no rows: every form is unknown, so every order is refused. Used only when
    /// the shipped table cannot be read and start-up did not stop (it does: `install`).
    fn empty() -> Self {
        Self {
            file: String::new(),
            version: String::new(),
            forms: Vec::new(),
            renewals: Vec::new(),
            hearing: Vec::new(),
            organisations: Vec::new(),
            pco: Vec::new(),
            holidays: Calendar::none(),
        }
    }

    /// Every row of a form (case-insensitive), in file order.
    pub fn form_rows<'a>(&'a self, form: &str) -> impl Iterator<Item = &'a FormRule> + 'a {
        let f = form.trim().to_ascii_uppercase();
        self.forms.iter().filter(move |r| r.form == f)
    }

    /// The row of a form in force on `day`.
    pub fn form_on(&self, form: &str, day: NaiveDate) -> Option<&FormRule> {
        self.form_rows(form).find(|r| r.validity.covers(day))
    }

    /// The forms in force on `day`.
    pub fn forms_on(&self, day: NaiveDate) -> impl Iterator<Item = &FormRule> {
        self.forms.iter().filter(move |r| r.validity.covers(day))
    }

    /// How a family's orders are renewed on `day`; `None`: they are not.
    pub fn renewal_on(&self, family: OrderFamily, day: NaiveDate) -> Option<&RenewalRule> {
        self.renewals
            .iter()
            .find(|r| r.family == family && r.validity.covers(day))
    }

    /// Whether orders of `family` issued on `day` may protect an organisation.
    pub fn protects_organisations(&self, family: OrderFamily, day: NaiveDate) -> bool {
        self.organisations
            .iter()
            .any(|o| o.family == family && o.validity.covers(day))
    }

    /// The families that may protect an organisation on `day`.
    pub fn organisation_families(&self, day: NaiveDate) -> Vec<OrderFamily> {
        self.organisations
            .iter()
            .filter(|o| o.validity.covers(day))
            .map(|o| o.family)
            .collect()
    }

    /// The PCO condition `code` in force on `day`.
    pub fn pco_on(&self, code: u8, day: NaiveDate) -> Option<&PcoRule> {
        self.pco
            .iter()
            .find(|p| p.code == code && p.validity.covers(day))
    }

    /// The hearing window in force on `day`.
    pub fn hearing_on(&self, day: NaiveDate) -> Option<&HearingWindow> {
        self.hearing.iter().find(|h| h.validity.covers(day))
    }
}

static ACTIVE: OnceLock<RuleTable> = OnceLock::new();

/// Makes `table` the rules of this process. Called once at start-up, before anything reads the
/// rules; an error when they were already in use (then they stay as they were).
pub fn install(table: RuleTable) -> Result<&'static RuleTable, RulesError> {
    let file = table.file.clone();
    let mut fresh = Some(table);
    let active = ACTIVE.get_or_init(|| fresh.take().unwrap_or_else(RuleTable::empty));
    if fresh.is_some() && active.file != file {
        return Err(RulesError {
            file,
            line: 0,
            field: String::new(),
            message: format!(
                "the rules of {} are already in use in this process",
                active.file
            ),
        });
    }
    Ok(active)
}

/// Loads the rules of this process: `path`, or the shipped table; checked, then installed.
pub fn load(path: Option<&Path>) -> Result<&'static RuleTable, RulesError> {
    match path {
        Some(p) => install(RuleTable::from_file(p)?),
        None => match ACTIVE.get() {
            Some(t) => Ok(t),
            None => install(RuleTable::shipped()?),
        },
    }
}

/// The rules in force in this process: those `install`ed, else the shipped table (whose
/// validity the tests below guarantee; `App::build` and the command line install it first).
pub fn active() -> &'static RuleTable {
    ACTIVE.get_or_init(|| {
        RuleTable::shipped().unwrap_or_else(|e| {
            tracing::error!(error = %e, "the shipped rules table is invalid: every order is refused");
            RuleTable::empty()
        })
    })
}

#[cfg(test)]
mod tests;
