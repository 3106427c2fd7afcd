//! One chain's story: the first order, then hearing, amendment, renewal, termination or
//! cancellation, each stage within the form's duration rules.

use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use rand::Rng;

use super::{Chain, Generator, PlannedParty, Stage, internal, pick};
use crate::domain::codes::{ContactLevel, EntrySource, EventKind, ServiceMethod};
use crate::domain::order_rules::{FormRule, OrderFamily, form_rule, renewal_rule};
use crate::error::AppResult;

/// How far back issue dates go.
const HISTORY_DAYS: i64 = 6 * 365;

/// What every stage of one chain shares.
struct Story {
    family: OrderFamily,
    /// The parties are or were intimate partners (for the Brady indicator).
    intimate: bool,
    judge: Option<String>,
}

impl Generator {
    fn rule(form: &str) -> AppResult<&'static FormRule> {
        form_rule(form).ok_or_else(|| internal(format!("demo uses unknown form {form}")))
    }

    fn served_later(
        &mut self,
        issued: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        p: f64,
        method: ServiceMethod,
        agency: Option<i32>,
    ) -> Option<(DateTime<Utc>, ServiceMethod, Option<i32>)> {
        if !self.rng.random_bool(p) {
            return None;
        }
        let at = issued + Duration::hours(self.rng.random_range(6..240));
        let limit = until.unwrap_or(self.now).min(self.now);
        (at <= limit).then_some((at, method, agency))
    }

    /// Plans one chain: first order, then hearing, amendment, renewal as the story goes.
    pub(super) fn chain(&mut self) -> AppResult<Chain> {
        let family = self.family();
        let mut court = self.court(family);
        let (parties, counter_court) = self.parties(family, court);
        if let Some(c) = counter_court {
            court = c;
        }
        let intimate = intimate(&parties);
        let day = self.now - Duration::days(self.rng.random_range(1..HISTORY_DAYS));
        let issued = self.issue_time(day).min(self.now);
        let sheriff = self.courts[court].sheriff;
        let judge = Some(pick(&mut self.rng, &self.courts[court].judges).clone());
        let story = Story {
            family,
            intimate,
            judge,
        };
        let (first_form, first) = self.first_stage(&story, issued, sheriff)?;
        let mut stages = vec![first];
        let mut terminated_at = self.hearing(&story, first_form, &mut stages)?;
        self.amendment(&story, &mut stages);
        self.renewal(&story, &mut stages);
        if terminated_at.is_none() {
            terminated_at = self.early_end(&stages);
        }
        let cancelled_at =
            (stages.len() == 1 && terminated_at.is_none() && self.rng.random_bool(0.005))
                .then(|| (stages[0].issued_at + Duration::days(1)).min(self.now));
        let case_number = self.case_number(court, family, issued)?;
        Ok(Chain {
            court,
            court_id: self.courts[court].id,
            case_number,
            family,
            parties,
            stages,
            terminated_at,
            cancelled_at,
        })
    }

    /// The first order: its form, dates, service and terms.
    fn first_stage(
        &mut self,
        story: &Story,
        issued: DateTime<Utc>,
        sheriff: Option<i32>,
    ) -> AppResult<(&'static str, Stage)> {
        let Story {
            family,
            intimate,
            ref judge,
        } = *story;
        let first_form = self.first_form(family);
        let rule = Self::rule(first_form)?;
        let lea = matches!(first_form, "EPO-001" | "EPO-002");
        let (expires, hearing) = self.first_dates(first_form, issued);
        let served = match rule.kind {
            crate::domain::order_rules::OrderKind::Emergency => {
                Some((issued, ServiceMethod::Personal, sheriff))
            }
            crate::domain::order_rules::OrderKind::Criminal => {
                Some((issued, ServiceMethod::InCourt, None))
            }
            _ => self.served_later(issued, expires, 0.85, ServiceMethod::Personal, sheriff),
        };
        let conditions = self.conditions(family, issued, false, intimate);
        let stage = Stage {
            rule,
            issued_at: issued,
            expires_at: expires,
            hearing_date: hearing,
            conditions,
            source: if lea {
                EntrySource::Lea
            } else if self.rng.random_bool(0.05) {
                EntrySource::Feed
            } else {
                EntrySource::Court
            },
            agency: if lea { sheriff } else { None },
            judge: judge.clone(),
            served,
            link: EventKind::Issued,
            renewal: false,
        };
        Ok((first_form, stage))
    }

    /// The form a chain of `family` starts with.
    fn first_form(&mut self, family: OrderFamily) -> &'static str {
        match family {
            OrderFamily::Dv => "DV-110",
            OrderFamily::Ch => "CH-110",
            OrderFamily::Ea => "EA-110",
            OrderFamily::Wv => "WV-110",
            OrderFamily::Sv => "SV-110",
            OrderFamily::Gv => {
                if self.rng.random_bool(0.5) {
                    "EPO-002"
                } else {
                    "GV-110"
                }
            }
            OrderFamily::Jv => "JV-250",
            OrderFamily::Cr => {
                if self.rng.random_bool(0.8) {
                    "CR-160"
                } else {
                    "CR-161"
                }
            }
            OrderFamily::Epo => "EPO-001",
            OrderFamily::Rt => "RT-130",
            OrderFamily::OutOfState => "DV-600",
        }
    }

    /// Expiry and hearing date of a first order on `form`.
    fn first_dates(
        &mut self,
        form: &str,
        issued: DateTime<Utc>,
    ) -> (Option<DateTime<Utc>>, Option<NaiveDate>) {
        match form {
            "EPO-001" => (Some(issued + Duration::days(5)), None),
            "EPO-002" | "GV-110" => (Some(issued + Duration::days(21)), None),
            "CR-160" | "CR-161" => {
                if self.rng.random_bool(0.5) {
                    (None, None)
                } else {
                    (
                        issued.checked_add_months(Months::new(12 * self.rng.random_range(1..=10))),
                        None,
                    )
                }
            }
            "RT-130" => (issued.checked_add_months(Months::new(24)), None),
            "DV-600" => (
                issued.checked_add_months(Months::new(12 * self.rng.random_range(1..=5))),
                None,
            ),
            _ => {
                let hearing = issued + Duration::days(21);
                (
                    Some(hearing + Duration::hours(2)),
                    Some(hearing.date_naive()),
                )
            }
        }
    }

    /// Hearing: the temporary order is replaced by an order after hearing, or ends there
    /// (returned as the chain's termination).
    fn hearing(
        &mut self,
        story: &Story,
        first_form: &str,
        stages: &mut Vec<Stage>,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let Story {
            family,
            intimate,
            ref judge,
        } = *story;
        let expires = stages.first().and_then(|s| s.expires_at);
        let after_hearing_form = match first_form {
            "DV-110" => Some(("DV-130", &[36u32, 60, 60, 12][..])),
            "CH-110" => Some(("CH-130", &[36, 60, 24][..])),
            "EA-110" => Some(("EA-130", &[36, 60][..])),
            "WV-110" => Some(("WV-130", &[36][..])),
            "SV-110" => Some(("SV-130", &[36][..])),
            "GV-110" | "EPO-002" => Some(("GV-130", &[12][..])),
            "JV-250" => Some(("JV-255", &[36][..])),
            _ => None,
        };
        let mut terminated_at = None;
        if let (Some((form, months)), Some(h)) = (after_hearing_form, expires)
            && h <= self.now
        {
            if self.rng.random_bool(0.65) {
                let oah_issued = h - Duration::hours(1);
                let m = *pick(&mut self.rng, months);
                let oah_expires = oah_issued.checked_add_months(Months::new(m));
                let served = if self.rng.random_bool(0.6) {
                    Some((oah_issued, ServiceMethod::InCourt, None))
                } else {
                    self.served_later(oah_issued, oah_expires, 0.6, ServiceMethod::Mail, None)
                };
                let conditions = self.conditions(family, oah_issued, true, intimate);
                stages.push(Stage {
                    rule: Self::rule(form)?,
                    issued_at: oah_issued,
                    expires_at: oah_expires,
                    hearing_date: None,
                    conditions,
                    source: EntrySource::Court,
                    agency: None,
                    judge: judge.clone(),
                    served,
                    link: EventKind::Modified,
                    renewal: false,
                });
            } else if self.rng.random_bool(0.5) {
                terminated_at = Some(h - Duration::hours(1));
            }
        }
        Ok(terminated_at)
    }

    /// Amendment during the order's life.
    fn amendment(&mut self, story: &Story, stages: &mut Vec<Stage>) {
        let Story {
            family,
            intimate,
            ref judge,
        } = *story;
        if stages.len() == 2 && self.rng.random_bool(0.08) {
            let prev = &stages[1];
            if let Some(exp) = prev.expires_at {
                let span = (exp.min(self.now) - prev.issued_at).num_days();
                if span > 30 {
                    let at = prev.issued_at + Duration::days(self.rng.random_range(10..span));
                    let mut conditions = self.conditions(family, at, true, intimate);
                    conditions.contact_level = ContactLevel::PeacefulContact;
                    conditions.pco_codes.retain(|c| c.as_str() != "05");
                    let rule = prev.rule;
                    stages.push(Stage {
                        rule,
                        issued_at: at,
                        expires_at: Some(exp),
                        hearing_date: None,
                        conditions,
                        source: EntrySource::Court,
                        agency: None,
                        judge: judge.clone(),
                        served: Some((at, ServiceMethod::InCourt, None)),
                        link: EventKind::Modified,
                        renewal: false,
                    });
                }
            }
        }
    }

    /// Renewal shortly before expiry.
    fn renewal(&mut self, story: &Story, stages: &mut Vec<Stage>) {
        let Story {
            family,
            intimate,
            ref judge,
        } = *story;
        if stages.len() >= 2
            && let Some(last) = stages.last()
            && let Some(exp) = last.expires_at
            && exp - Duration::days(60) <= self.now
            && self.rng.random_bool(0.3)
        {
            let at = (exp - Duration::days(self.rng.random_range(1..60)))
                .max(last.issued_at + Duration::days(1));
            if at <= self.now {
                let limit = renewal_rule(family, at)
                    .map_or(crate::domain::order_rules::Limit::Unlimited, |r| r.max);
                let new_exp = match limit {
                    crate::domain::order_rules::Limit::Unlimited if self.rng.random_bool(0.15) => {
                        None
                    }
                    crate::domain::order_rules::Limit::Years(y) => {
                        at.checked_add_months(Months::new(12 * y))
                    }
                    _ => at.checked_add_months(Months::new(60)),
                };
                let rule = last.rule;
                let conditions = self.conditions(family, at, true, intimate);
                let served = self.served_later(at, new_exp, 0.7, ServiceMethod::Mail, None);
                stages.push(Stage {
                    rule,
                    issued_at: at,
                    expires_at: new_exp,
                    hearing_date: None,
                    conditions,
                    source: EntrySource::Court,
                    agency: None,
                    judge: judge.clone(),
                    served,
                    link: EventKind::Renewed,
                    renewal: true,
                });
            }
        }
    }

    /// An early end of the last order (terminated by the court), now and then.
    fn early_end(&mut self, stages: &[Stage]) -> Option<DateTime<Utc>> {
        if let Some(last) = stages.last()
            && self.rng.random_bool(0.04)
        {
            let end = last.expires_at.unwrap_or(self.now).min(self.now);
            let span = (end - last.issued_at).num_hours();
            if span > 2 {
                return Some(last.issued_at + Duration::hours(self.rng.random_range(1..span)));
            }
        }
        None
    }
}

/// Whether the first party's relationship is an intimate one.
fn intimate(parties: &[PlannedParty]) -> bool {
    parties
        .first()
        .and_then(|p| p.relationship.as_deref())
        .is_some_and(|r| {
            matches!(
                r,
                "spouse"
                    | "former spouse"
                    | "dating"
                    | "former dating"
                    | "cohabitant"
                    | "parent of child together"
            )
        })
}
