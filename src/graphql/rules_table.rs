//! `formRules` and `rulesTable`: the rules table in force (issue 25), read by any signed-in
//! caller; reference data, no person or order in it.
use async_graphql::Object;
use chrono::NaiveDate;

use crate::auth::Permission;
use crate::domain::court_days::california_date;
use crate::domain::order_rules::{self, Limit, describe_duration, whole_years};
use crate::domain::rules::{self, RuleTable, Validity};
use crate::graphql::access::Need;
use crate::graphql::types::{
    CourtHoliday, FormRule, HearingWindowRule, OrganisationFamilyRule, PcoRule, RenewalRule,
    RulesTable,
};

#[derive(Default)]
pub struct RulesQuery;

/// Which rows: those in force on `as_of` (default today, California date), or every row.
fn chosen(as_of: Option<NaiveDate>, all: Option<bool>) -> Option<NaiveDate> {
    if all.unwrap_or(false) {
        None
    } else {
        Some(as_of.unwrap_or_else(|| california_date(chrono::Utc::now())))
    }
}

fn keep(v: &Validity, day: Option<NaiveDate>) -> bool {
    day.is_none_or(|d| v.covers(d))
}

fn forms(table: &RuleTable, day: Option<NaiveDate>) -> Vec<FormRule> {
    table
        .forms
        .iter()
        .filter(|r| keep(&r.validity, day))
        .map(|r| form_rule(table, r))
        .collect()
}

fn form_rule(table: &RuleTable, r: &order_rules::FormRule) -> FormRule {
    FormRule {
        form_number: r.form.clone(),
        family: r.family,
        kind: r.kind,
        max_days: match r.limit {
            Limit::Days(d) => Some(d),
            _ => None,
        },
        max_court_days: r.max_court_days.and_then(|n| i32::try_from(n).ok()),
        max_years: match r.limit {
            Limit::Years(y) => i32::try_from(y).ok(),
            _ => None,
        },
        min_years: whole_years(r.min).and_then(|y| i32::try_from(y).ok()),
        default_years: whole_years(r.default).and_then(|y| i32::try_from(y).ok()),
        duration: describe_duration(r),
        expiry_required: r.expiry_required,
        citation: r.source.clone(),
        source: r.source.clone(),
        effective: r.validity.effective,
        until: r.validity.until,
        table_version: table.version.clone(),
    }
}

#[Object]
impl RulesQuery {
    /// The forms the registry accepts and the durations the law allows them, as rows of the
    /// rules table (`ccpor rules`): those in force on `asOf` (default today, California date),
    /// or with `all: true` every row, superseded ones included.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn form_rules(&self, as_of: Option<NaiveDate>, all: Option<bool>) -> Vec<FormRule> {
        forms(rules::active(), chosen(as_of, all))
    }

    /// The whole rules table in force, as `ccpor rules` prints it: forms, renewals, the hearing
    /// window of temporary orders, the families that may protect an organisation, the PCO
    /// conditions and the court holidays, every row with its source. Rows in force on `asOf`
    /// (default today, California date), or with `all: true` every row.
    #[graphql(guard = "Need(Permission::ReadReference)")]
    async fn rules_table(&self, as_of: Option<NaiveDate>, all: Option<bool>) -> RulesTable {
        let t = rules::active();
        let day = chosen(as_of, all);
        RulesTable {
            version: t.version.clone(),
            as_of: day,
            forms: forms(t, day),
            renewals: t
                .renewals
                .iter()
                .filter(|r| keep(&r.validity, day))
                .map(|r| RenewalRule {
                    family: r.family,
                    kinds: r.kinds.clone(),
                    max: r.max.as_data(),
                    min: r.min.map(Limit::as_data),
                    request_window: r.request_window.map(Limit::as_data),
                    source: r.source.clone(),
                    effective: r.validity.effective,
                    until: r.validity.until,
                })
                .collect(),
            hearing_windows: t
                .hearing
                .iter()
                .filter(|h| keep(&h.validity, day))
                .map(|h| HearingWindowRule {
                    days: h.days,
                    good_cause_days: h.good_cause_days,
                    source: h.source.clone(),
                    effective: h.validity.effective,
                    until: h.validity.until,
                })
                .collect(),
            organisation_families: t
                .organisations
                .iter()
                .filter(|o| keep(&o.validity, day))
                .map(|o| OrganisationFamilyRule {
                    family: o.family,
                    source: o.source.clone(),
                    effective: o.validity.effective,
                    until: o.validity.until,
                })
                .collect(),
            pco_conditions: t
                .pco
                .iter()
                .filter(|p| keep(&p.validity, day))
                .map(|p| PcoRule {
                    code: format!("{:02}", p.code),
                    meaning: p.meaning.clone(),
                    source: p.source.clone(),
                    effective: p.validity.effective,
                    until: p.validity.until,
                })
                .collect(),
            holidays: t
                .holidays
                .holidays()
                .iter()
                .map(|h| CourtHoliday {
                    date: h.date,
                    name: h.name.clone(),
                    basis: h.basis.as_str().to_owned(),
                    source: h.source.clone(),
                })
                .collect(),
        }
    }
}
