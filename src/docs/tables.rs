//! Markdown renderings of the tables the code holds: forms and their caps, renewal limits, NCIC
//! code lists, precedence rules, what each role may do, the 58 counties, the court holidays. The document sections
//! generated from them live in `docs/law/` between markers (see `super::SECTIONS`).
use std::fmt::Write as _;

use crate::auth::{Permission, Role};
use crate::domain::codes::{EyeColor, HairColor, PcoCode, Race, Sex};
use crate::domain::conflict_rules::ConflictKind;
use crate::domain::court_days;
use crate::domain::order_rules::{Limit, OrderFamily};
use crate::domain::precedence::PrecedenceRule;
use crate::domain::rules;

/// A markdown table; `|` in a cell is escaped so it cannot open a column.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = String>| {
        let cells: Vec<String> = cells.map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    out.push_str(&line(&mut headers.iter().map(|h| (*h).to_owned())));
    out.push_str(&line(&mut headers.iter().map(|_| "---".to_owned())));
    for row in rows {
        out.push_str(&line(&mut row.iter().cloned()));
    }
    out
}

/// The name a value has in the GraphQL schema and JSON (its serde spelling).
fn api_name<T: serde::Serialize>(v: T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn limit(l: Limit) -> String {
    match l {
        Limit::Unlimited => "no cap".to_owned(),
        l => l.describe(),
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// Each order family with the forms the registry accepts for it (the rules table's `[[form]]`
/// rows, `src/domain/data/rules.toml`).
pub fn families() -> String {
    let table_ = rules::active();
    let rows: Vec<Vec<String>> = OrderFamily::ALL
        .iter()
        .map(|f| {
            let mut forms: Vec<String> = table_
                .forms
                .iter()
                .filter(|r| r.family == *f)
                .map(|r| format!("{} ({})", r.form, api_name(r.kind)))
                .collect();
            forms.dedup();
            vec![
                format!("`{}`", api_name(*f)),
                format!("`{}`", f.as_db()),
                forms.join(", "),
            ]
        })
        .collect();
    table(&["Family (API)", "Stored as", "Forms (kind)"], &rows)
}

/// Every form row with the longest run the law allows, the days it is in force and the
/// authority cited in errors.
pub fn caps() -> String {
    let rows: Vec<Vec<String>> = rules::active()
        .forms
        .iter()
        .map(|r| {
            vec![
                r.form.clone(),
                format!("`{}`", api_name(r.family)),
                format!("`{}`", api_name(r.kind)),
                limit(r.limit),
                yes_no(r.expiry_required),
                r.validity.describe(),
                r.source.clone(),
            ]
        })
        .collect();
    table(
        &[
            "Form",
            "Family",
            "Kind",
            "Longest run from issuance",
            "Expiry required",
            "In force",
            "Authority (as the API reports it)",
        ],
        &rows,
    )
}

/// How long a renewal may run, by family (the rules table's `[[renewal]]` rows), and which
/// kinds of order can be renewed at all.
pub fn renewals() -> String {
    let t = rules::active();
    let rows: Vec<Vec<String>> = OrderFamily::ALL
        .iter()
        .flat_map(|f| {
            let mine: Vec<_> = t.renewals.iter().filter(|r| r.family == *f).collect();
            if mine.is_empty() {
                return vec![vec![
                    format!("`{}`", api_name(*f)),
                    "—".to_owned(),
                    "—".to_owned(),
                    "—".to_owned(),
                    "not renewed here: a new order is issued".to_owned(),
                ]];
            }
            mine.into_iter()
                .map(|r| {
                    let kinds: Vec<String> = r
                        .kinds
                        .iter()
                        .map(|k| format!("`{}`", api_name(*k)))
                        .collect();
                    let mut may = limit(r.max);
                    if let Some(m) = r.min {
                        may = format!("at least {}; at most {may}", m.describe());
                    }
                    if let Some(w) = r.request_window {
                        may.push_str(&format!(
                            "; request filed in the {} before expiry",
                            w.describe()
                        ));
                    }
                    vec![
                        format!("`{}`", api_name(*f)),
                        kinds.join(", "),
                        may,
                        r.validity.describe(),
                        r.source.clone(),
                    ]
                })
                .collect()
        })
        .collect();
    table(
        &[
            "Family",
            "Renewable kinds",
            "Renewal may run",
            "In force",
            "Authority",
        ],
        &rows,
    )
}

/// The whole rules table, every row with its source (`ccpor rules --markdown`).
pub fn rules() -> String {
    rules::render::markdown(rules::active())
}

/// NCIC protection order conditions, as the registry shortens them.
pub fn pco() -> String {
    let rows: Vec<Vec<String>> = PcoCode::all()
        .into_iter()
        .map(|c| vec![format!("`{}`", c.as_str()), c.meaning().to_owned()])
        .collect();
    table(&["PCO", "Meaning (shortened)"], &rows)
}

fn codes<T: Copy + serde::Serialize>(all: &[T], db: fn(T) -> &'static str) -> Vec<Vec<String>> {
    all.iter()
        .map(|v| vec![format!("`{}`", api_name(*v)), format!("`{}`", db(*v))])
        .collect()
}

/// The descriptor code lists: sex, race, hair and eye colour.
pub fn descriptors() -> String {
    let mut out = String::new();
    let lists: [(&str, Vec<Vec<String>>); 4] = [
        ("Sex (`SEX`, `PSX`)", codes(Sex::ALL, Sex::as_db)),
        ("Race (`RAC`, `PPR`)", codes(Race::ALL, Race::as_db)),
        ("Hair (`HAI`)", codes(HairColor::ALL, HairColor::as_db)),
        ("Eyes (`EYE`)", codes(EyeColor::ALL, EyeColor::as_db)),
    ];
    for (i, (title, rows)) in lists.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{title}:\n");
        out.push_str(&table(&["API value", "Stored code"], rows));
    }
    out
}

/// The four precedence rules in the order they are tried, with the authority the API reports.
pub fn precedence() -> String {
    let rows: Vec<Vec<String>> = PrecedenceRule::ALL
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                (i + 1).to_string(),
                format!("`{}`", api_name(*r)),
                r.citation().to_owned(),
            ]
        })
        .collect();
    table(
        &["Tried", "Rule (API)", "Authority (as the API reports it)"],
        &rows,
    )
}

/// The kinds of conflict the registry flags.
pub fn conflict_kinds() -> String {
    let names: Vec<String> = ConflictKind::ALL
        .iter()
        .map(|k| format!("`{}`", api_name(*k)))
        .collect();
    format!("Conflict kinds (API): {}.\n", names.join(", "))
}

/// Every permission, named; the match is exhaustive so a new permission must be named here.
fn permission(p: Permission) -> &'static str {
    match p {
        Permission::ReadReference => "Read courts, agencies, form rules",
        Permission::ReadIdentified => "Read names, DOBs, case numbers",
        Permission::ReadDeidentified => "Read orders with identifying fields masked",
        Permission::WriteOrders => "Enter and change orders (own court)",
        Permission::EnterEpo => "Enter EPOs (own agency)",
        Permission::RecordService => "Record proof of service",
        Permission::ReadConfidential => {
            "Read CLETS-001 contact fields and confidential minors' identities"
        }
        Permission::Administer => "Administer courts and agencies",
        Permission::ReadAudit => "Read the audit log",
        Permission::LinkPersons => "Confirm or reject person links",
        Permission::SendFeed => "Send its court's feed messages (no GraphQL)",
    }
}

const PERMISSIONS: [Permission; 11] = [
    Permission::ReadReference,
    Permission::ReadIdentified,
    Permission::ReadDeidentified,
    Permission::ReadConfidential,
    Permission::WriteOrders,
    Permission::EnterEpo,
    Permission::RecordService,
    Permission::LinkPersons,
    Permission::Administer,
    Permission::ReadAudit,
    Permission::SendFeed,
];

/// What each role may do (`auth::roles::Role::allows`).
pub fn roles() -> String {
    let names: Vec<String> = Role::ALL.iter().map(|r| format!("`{r}`")).collect();
    let mut headers = vec!["Permission"];
    headers.extend(names.iter().map(String::as_str));
    let rows: Vec<Vec<String>> = PERMISSIONS
        .iter()
        .map(|p| {
            let mut row = vec![permission(*p).to_owned()];
            row.extend(
                Role::ALL
                    .iter()
                    .map(|r| if r.allows(*p) { "yes" } else { "—" }.to_owned()),
            );
            row
        })
        .collect();
    table(&headers, &rows)
}

/// The 58 counties with their alphabetical number, FIPS code and seeded court code.
pub fn counties() -> String {
    let rows: Vec<Vec<String>> = migrations::COUNTIES
        .iter()
        .map(|c| {
            vec![
                format!("{:02}", c.number),
                c.name.to_owned(),
                c.fips.to_owned(),
                format!("`SC{:02}`", c.number),
            ]
        })
        .collect();
    table(&["No.", "County", "FIPS", "Court code"], &rows)
}

/// The judicial holidays the court-day count skips (`domain::court_days`, the rules table's
/// `[[holiday]]` rows), with the years covered and each date's source.
pub fn court_holidays() -> String {
    let cal = match court_days::calendar() {
        Ok(cal) => cal,
        Err(e) => return format!("The holiday data does not load: {e}\n"),
    };
    let (first, last) = cal.years();
    let rows: Vec<Vec<String>> = cal
        .holidays()
        .iter()
        .map(|h| {
            vec![
                h.date.to_string(),
                h.date.format("%A").to_string(),
                h.name.clone(),
                h.basis.as_str().to_owned(),
                h.source.clone(),
            ]
        })
        .collect();
    format!(
        "Years covered: {first} to {last}. A date outside them is an error, never taken to be free of \
         holidays.\n\n{}",
        table(
            &["Date observed", "Day", "Holiday", "Basis", "Source"],
            &rows
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_open_columns() {
        let t = table(&["a", "b"], &[vec!["x|y".to_owned(), "z".to_owned()]]);
        assert_eq!(t, "| a | b |\n| --- | --- |\n| x\\|y | z |\n");
    }

    #[test]
    fn every_permission_has_a_row() {
        for p in PERMISSIONS {
            assert!(roles().contains(permission(p)), "{p:?}");
        }
        assert_eq!(roles().lines().count(), PERMISSIONS.len() + 2);
    }

    #[test]
    fn court_holidays_show_years_and_sources() {
        let t = court_holidays();
        assert!(t.starts_with("Years covered: 2024 to 2028."), "{t}");
        assert!(
            t.contains("| 2026-11-27 | Friday | Day after Thanksgiving | published | https://")
        );
        assert!(
            t.contains("| 2027-12-31 | Friday | New Year's Day 2028"),
            "{t}"
        );
        assert!(t.contains("| statute | CCP 135"), "{t}");
    }

    #[test]
    fn epo_cap_is_in_the_table() {
        let caps = caps();
        let epo = caps.lines().find(|l| l.starts_with("| EPO-001 |"));
        assert!(
            epo.is_some_and(|l| l.contains("| 7 days |") && l.contains("6256")),
            "{caps}"
        );
    }
}
