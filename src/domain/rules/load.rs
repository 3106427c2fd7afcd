//! Reading and checking a rules file (`data/rules.toml` or the file `--rules` names): every
//! mistake is reported with the file, the line of its row, the field and what is wrong.
use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

use super::{
    HearingWindow, OrganisationRule, PcoRule, RenewalRule, RuleTable, RulesError, Validity,
};
use crate::domain::court_days::{Basis, Calendar, Holiday};
use crate::domain::order_rules::{FormRule, Limit, OrderFamily, OrderKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    version: String,
    #[serde(default)]
    form: Vec<Spanned<RawForm>>,
    #[serde(default)]
    renewal: Vec<Spanned<RawRenewal>>,
    #[serde(default)]
    hearing_window: Vec<Spanned<RawHearing>>,
    #[serde(default)]
    organisation: Vec<Spanned<RawOrganisation>>,
    #[serde(default)]
    pco: Vec<Spanned<RawPco>>,
    #[serde(default)]
    holiday: Vec<Spanned<RawHoliday>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: String,
    name: String,
    basis: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    form: String,
    family: String,
    kind: String,
    max: String,
    min: Option<String>,
    max_court_days: Option<u32>,
    default: Option<String>,
    expiry_required: bool,
    source: String,
    effective: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRenewal {
    family: String,
    kinds: Vec<String>,
    max: String,
    min: Option<String>,
    request_window: Option<String>,
    source: String,
    effective: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHearing {
    days: i64,
    good_cause_days: i64,
    source: String,
    effective: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrganisation {
    family: String,
    source: String,
    effective: String,
    until: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPco {
    code: String,
    meaning: String,
    source: String,
    effective: String,
    until: Option<String>,
}

/// Where in the file a row is, for its errors.
struct At<'a> {
    file: &'a str,
    line: usize,
    what: String,
}

impl At<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> RulesError {
        RulesError {
            file: self.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            message: format!("{}: {}", self.what, message.into()),
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(0, |s| s.matches('\n').count()) + 1
}

/// Parses and checks a rules file; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<RuleTable, RulesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| RulesError {
        file: file.to_owned(),
        line: e.span().map_or(0, |s| line_of(text, s.start)),
        field: String::new(),
        message: e.message().trim().to_owned(),
    })?;
    if raw.version.trim().is_empty() {
        return Err(RulesError {
            file: file.to_owned(),
            line: 1,
            field: "version".to_owned(),
            message: "the table needs a version".to_owned(),
        });
    }
    let at = |span: std::ops::Range<usize>, what: String| At {
        file,
        line: line_of(text, span.start),
        what,
    };
    let mut hearing = Vec::new();
    for r in raw.hearing_window {
        let a = at(r.span(), "[[hearing_window]]".to_owned());
        let r = r.into_inner();
        let validity = validity(&a, &r.effective, r.until.as_deref(), &r.source)?;
        if r.days < 1 || r.good_cause_days < r.days {
            return Err(a.err(
                "good_cause_days",
                format!(
                    "days ({}) must be at least 1 and good_cause_days ({}) at least days",
                    r.days, r.good_cause_days
                ),
            ));
        }
        no_overlap(&a, &hearing, |h: &HearingWindow| &h.validity, &validity)?;
        hearing.push(HearingWindow {
            days: r.days,
            good_cause_days: r.good_cause_days,
            source: r.source,
            validity,
            line: a.line,
        });
    }
    let mut forms: Vec<FormRule> = Vec::new();
    for r in raw.form {
        let a = at(r.span(), String::new());
        let r = r.into_inner();
        let form = r.form.trim().to_ascii_uppercase();
        let a = At {
            what: format!("[[form]] {form}"),
            ..a
        };
        if form.is_empty() {
            return Err(a.err("form", "the form number is empty"));
        }
        let validity = validity(&a, &r.effective, r.until.as_deref(), &r.source)?;
        let family = family(&a, "family", &r.family)?;
        let kind = kind(&a, "kind", &r.kind)?;
        let (limit, until_hearing) = if r.max.trim() == "hearing" {
            let Some(w) = hearing
                .iter()
                .find(|h| h.validity.covers(validity.effective))
            else {
                return Err(a.err(
                    "max",
                    format!(
                        "\"hearing\" needs a [[hearing_window]] in force on {}",
                        validity.effective
                    ),
                ));
            };
            (Limit::Days(w.good_cause_days), true)
        } else {
            (length(&a, "max", &r.max)?, false)
        };
        let min = r.min.as_deref().map(|m| length(&a, "min", m)).transpose()?;
        let default = r
            .default
            .as_deref()
            .map(|m| length(&a, "default", m))
            .transpose()?;
        for (field, l) in [("min", min), ("default", default)] {
            if let Some(l) = l {
                if l == Limit::Unlimited {
                    return Err(a.err(field, "must be a length, not \"none\""));
                }
                if !limit.at_least(l) {
                    return Err(a.err(
                        field,
                        format!("{} is longer than max ({})", l.describe(), limit.describe()),
                    ));
                }
            }
        }
        if r.max_court_days == Some(0) {
            return Err(a.err("max_court_days", "must be at least 1"));
        }
        if let Some(other) = forms.iter().find(|f| f.form == form && f.family != family) {
            return Err(a.err(
                "family",
                format!(
                    "line {} gives {form} the family {}; a form belongs to one family",
                    other.line,
                    other.family.as_db()
                ),
            ));
        }
        let same: Vec<&FormRule> = forms.iter().filter(|f| f.form == form).collect();
        no_overlap(&a, &same, |f: &&FormRule| &f.validity, &validity)?;
        forms.push(FormRule {
            form,
            family,
            kind,
            limit,
            until_hearing,
            min,
            max_court_days: r.max_court_days,
            default,
            expiry_required: r.expiry_required,
            source: r.source,
            validity,
            line: a.line,
        });
    }
    let mut renewals: Vec<RenewalRule> = Vec::new();
    for r in raw.renewal {
        let a = at(r.span(), String::new());
        let r = r.into_inner();
        let a = At {
            what: format!("[[renewal]] {}", r.family.trim()),
            ..a
        };
        let validity = validity(&a, &r.effective, r.until.as_deref(), &r.source)?;
        let family = family(&a, "family", &r.family)?;
        if r.kinds.is_empty() {
            return Err(a.err("kinds", "name at least one kind of order"));
        }
        let kinds = r
            .kinds
            .iter()
            .map(|k| kind(&a, "kinds", k))
            .collect::<Result<Vec<_>, _>>()?;
        let max = length(&a, "max", &r.max)?;
        let min = r.min.as_deref().map(|m| length(&a, "min", m)).transpose()?;
        if let Some(m) = min
            && (m == Limit::Unlimited || !max.at_least(m))
        {
            return Err(a.err(
                "min",
                format!("{} does not fit max ({})", m.describe(), max.describe()),
            ));
        }
        let request_window = r
            .request_window
            .as_deref()
            .map(|w| length(&a, "request_window", w))
            .transpose()?;
        if request_window == Some(Limit::Unlimited) {
            return Err(a.err("request_window", "must be a length, not \"none\""));
        }
        let same: Vec<&RenewalRule> = renewals.iter().filter(|x| x.family == family).collect();
        no_overlap(&a, &same, |x: &&RenewalRule| &x.validity, &validity)?;
        renewals.push(RenewalRule {
            family,
            kinds,
            max,
            min,
            request_window,
            source: r.source,
            validity,
            line: a.line,
        });
    }
    let mut organisations: Vec<OrganisationRule> = Vec::new();
    for r in raw.organisation {
        let a = at(r.span(), String::new());
        let r = r.into_inner();
        let a = At {
            what: format!("[[organisation]] {}", r.family.trim()),
            ..a
        };
        let validity = validity(&a, &r.effective, r.until.as_deref(), &r.source)?;
        let family = family(&a, "family", &r.family)?;
        let same: Vec<&OrganisationRule> = organisations
            .iter()
            .filter(|x| x.family == family)
            .collect();
        no_overlap(&a, &same, |x: &&OrganisationRule| &x.validity, &validity)?;
        organisations.push(OrganisationRule {
            family,
            source: r.source,
            validity,
            line: a.line,
        });
    }
    let mut pco: Vec<PcoRule> = Vec::new();
    for r in raw.pco {
        let a = at(r.span(), String::new());
        let r = r.into_inner();
        let a = At {
            what: format!("[[pco]] {}", r.code.trim()),
            ..a
        };
        let validity = validity(&a, &r.effective, r.until.as_deref(), &r.source)?;
        let code = match r.code.trim().parse::<u8>() {
            Ok(n @ 1..=99) if r.code.trim().len() == 2 => n,
            _ => {
                return Err(a.err(
                    "code",
                    format!("'{}' is not a two-digit code, 01 to 99", r.code),
                ));
            }
        };
        if r.meaning.trim().is_empty() {
            return Err(a.err("meaning", "say what the condition means"));
        }
        let same: Vec<&PcoRule> = pco.iter().filter(|x| x.code == code).collect();
        no_overlap(&a, &same, |x: &&PcoRule| &x.validity, &validity)?;
        pco.push(PcoRule {
            code,
            meaning: r.meaning.trim().to_owned(),
            source: r.source,
            validity,
            line: a.line,
        });
    }
    let holidays = holidays(file, text, raw.holiday)?;
    Ok(RuleTable {
        file: file.to_owned(),
        version: raw.version.trim().to_owned(),
        forms,
        renewals,
        hearing,
        organisations,
        pco,
        holidays,
    })
}

/// The `[[holiday]]` rows as a checked calendar (`court_days::Calendar::new`).
fn holidays(file: &str, text: &str, raw: Vec<Spanned<RawHoliday>>) -> Result<Calendar, RulesError> {
    let mut lines = Vec::with_capacity(raw.len());
    let mut days = Vec::with_capacity(raw.len());
    for r in raw {
        let line = line_of(text, r.span().start);
        let r = r.into_inner();
        let a = At {
            file,
            line,
            what: format!("[[holiday]] {}", r.date.trim()),
        };
        let date = date(&a, "date", &r.date)?;
        let basis = Basis::parse(&r.basis).ok_or_else(|| {
            a.err(
                "basis",
                format!("'{}' is neither 'published' nor 'statute'", r.basis),
            )
        })?;
        if r.name.trim().is_empty() {
            return Err(a.err("name", "a holiday needs a name"));
        }
        if r.source.trim().is_empty() {
            return Err(a.err("source", "a holiday needs a source"));
        }
        lines.push(line);
        days.push(Holiday {
            date,
            name: r.name.trim().to_owned(),
            basis,
            source: r.source.trim().to_owned(),
        });
    }
    Calendar::new(days).map_err(|(i, message)| RulesError {
        file: file.to_owned(),
        line: lines.get(i).copied().unwrap_or(0),
        field: if lines.is_empty() {
            "holiday".to_owned()
        } else {
            "date".to_owned()
        },
        message: format!("[[holiday]]: {message}"),
    })
}

fn date(a: &At<'_>, field: &str, s: &str) -> Result<NaiveDate, RulesError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| a.err(field, format!("'{s}' is not a date (YYYY-MM-DD): {e}")))
}

fn validity(
    a: &At<'_>,
    effective: &str,
    until: Option<&str>,
    source: &str,
) -> Result<Validity, RulesError> {
    if source.trim().is_empty() {
        return Err(a.err("source", "every rule needs its source (statute or form)"));
    }
    let effective = date(a, "effective", effective)?;
    let until = until.map(|u| date(a, "until", u)).transpose()?;
    if let Some(u) = until
        && u < effective
    {
        return Err(a.err("until", format!("{u} is before effective ({effective})")));
    }
    Ok(Validity { effective, until })
}

/// Two rows for the same thing may not be in force on the same day.
fn no_overlap<T>(
    a: &At<'_>,
    earlier: &[T],
    of: impl Fn(&T) -> &Validity,
    v: &Validity,
) -> Result<(), RulesError> {
    if let Some(o) = earlier.iter().map(of).find(|o| o.overlaps(v)) {
        return Err(a.err(
            "effective",
            format!(
                "in force {} overlaps another row in force {}: end one with `until`",
                v.describe(),
                o.describe()
            ),
        ));
    }
    Ok(())
}

fn family(a: &At<'_>, field: &str, s: &str) -> Result<OrderFamily, RulesError> {
    let t = s.trim().to_ascii_lowercase();
    OrderFamily::ALL
        .iter()
        .copied()
        .find(|f| f.as_db() == t)
        .ok_or_else(|| {
            let all: Vec<&str> = OrderFamily::ALL.iter().map(|f| f.as_db()).collect();
            a.err(
                field,
                format!("unknown family '{s}'; one of {}", all.join(", ")),
            )
        })
}

fn kind(a: &At<'_>, field: &str, s: &str) -> Result<OrderKind, RulesError> {
    let t = s.trim().to_ascii_lowercase();
    OrderKind::ALL
        .iter()
        .copied()
        .find(|k| k.as_db() == t)
        .ok_or_else(|| {
            let all: Vec<&str> = OrderKind::ALL.iter().map(|k| k.as_db()).collect();
            a.err(
                field,
                format!("unknown kind '{s}'; one of {}", all.join(", ")),
            )
        })
}

/// "N days", "N months", "N years" (or the singular), or "none".
fn length(a: &At<'_>, field: &str, s: &str) -> Result<Limit, RulesError> {
    let t = s.trim();
    if t == "none" {
        return Ok(Limit::Unlimited);
    }
    let bad = || {
        a.err(
            field,
            format!(
                "'{s}' is not a length: write \"N days\", \"N months\", \"N years\" or \"none\""
            ),
        )
    };
    let (n, unit) = t.split_once(' ').ok_or_else(bad)?;
    let n: u32 = n.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(a.err(field, format!("'{s}': a length must be at least 1")));
    }
    match unit.trim() {
        "day" | "days" => Ok(Limit::Days(i64::from(n))),
        "month" | "months" => Ok(Limit::Months(n)),
        "year" | "years" => Ok(Limit::Years(n)),
        _ => Err(bad()),
    }
}
