//! The rules table for people: `ccpor rules` prints it as text, JSON or markdown; the markdown
//! is the generated document `docs/law/rules.md` (`crate::docs`).
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{RuleTable, Validity};
use crate::docs::tables::table;
use crate::domain::order_rules::{Limit, describe_duration};

fn opt(l: Option<Limit>) -> String {
    l.map_or_else(|| "—".to_owned(), Limit::as_data)
}

fn validity_json(v: &Validity) -> Value {
    json!({ "effective": v.effective.to_string(), "until": v.until.map(|u| u.to_string()) })
}

/// Every row as JSON: `{ file, version, forms: [...], renewals: [...], ... }`.
pub fn json(t: &RuleTable) -> Value {
    let forms: Vec<Value> = t
        .forms
        .iter()
        .map(|r| {
            let mut v = json!({
                "form": r.form, "family": r.family.as_db(), "kind": r.kind.as_db(),
                "max": if r.until_hearing { "hearing".to_owned() } else { r.limit.as_data() },
                "maxResolved": r.limit.as_data(),
                "min": r.min.map(Limit::as_data), "maxCourtDays": r.max_court_days,
                "default": r.default.map(Limit::as_data), "expiryRequired": r.expiry_required,
                "duration": describe_duration(r), "source": r.source, "line": r.line,
            });
            merge(&mut v, validity_json(&r.validity));
            v
        })
        .collect();
    let renewals: Vec<Value> = t
        .renewals
        .iter()
        .map(|r| {
            let mut v = json!({
                "family": r.family.as_db(),
                "kinds": r.kinds.iter().map(|k| k.as_db()).collect::<Vec<_>>(),
                "max": r.max.as_data(), "min": r.min.map(Limit::as_data),
                "requestWindow": r.request_window.map(Limit::as_data),
                "source": r.source, "line": r.line,
            });
            merge(&mut v, validity_json(&r.validity));
            v
        })
        .collect();
    let hearing: Vec<Value> = t
        .hearing
        .iter()
        .map(|h| {
            let mut v = json!({ "days": h.days, "goodCauseDays": h.good_cause_days,
                "source": h.source, "line": h.line });
            merge(&mut v, validity_json(&h.validity));
            v
        })
        .collect();
    let organisations: Vec<Value> = t
        .organisations
        .iter()
        .map(|o| {
            let mut v = json!({ "family": o.family.as_db(), "source": o.source, "line": o.line });
            merge(&mut v, validity_json(&o.validity));
            v
        })
        .collect();
    let pco: Vec<Value> = t
        .pco
        .iter()
        .map(|p| {
            let mut v = json!({ "code": format!("{:02}", p.code), "meaning": p.meaning,
                "source": p.source, "line": p.line });
            merge(&mut v, validity_json(&p.validity));
            v
        })
        .collect();
    let holidays: Vec<Value> = t
        .holidays
        .holidays()
        .iter()
        .map(|h| {
            json!({ "date": h.date.to_string(), "name": h.name, "basis": h.basis.as_str(),
                "source": h.source })
        })
        .collect();
    json!({
        "file": t.file, "version": t.version, "forms": forms, "renewals": renewals,
        "hearingWindows": hearing, "organisations": organisations, "pco": pco,
        "holidays": holidays,
    })
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// The table as markdown tables, one per kind of row, every row with its source and the days it
/// is in force. Independent of the file's path, so the committed document does not depend on
/// where it was generated.
pub fn markdown(t: &RuleTable) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Rules table version `{}`.\n", t.version);
    out.push_str("### Forms\n\n");
    let rows: Vec<Vec<String>> = t
        .forms
        .iter()
        .map(|r| {
            vec![
                r.form.clone(),
                format!("`{}`", r.family.as_db()),
                format!("`{}`", r.kind.as_db()),
                describe_duration(r),
                r.validity.describe(),
                r.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["Form", "Family", "Kind", "Duration", "In force", "Source"],
        &rows,
    ));
    out.push_str("\n### Renewals\n\n");
    let rows: Vec<Vec<String>> = t
        .renewals
        .iter()
        .map(|r| {
            let kinds: Vec<String> = r.kinds.iter().map(|k| format!("`{}`", k.as_db())).collect();
            vec![
                format!("`{}`", r.family.as_db()),
                kinds.join(", "),
                r.max.as_data(),
                opt(r.min),
                opt(r.request_window),
                r.validity.describe(),
                r.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "Family",
            "Kinds",
            "Longest",
            "Shortest",
            "Request filed within",
            "In force",
            "Source",
        ],
        &rows,
    ));
    out.push_str("\n### Hearing window of temporary orders\n\n");
    let rows: Vec<Vec<String>> = t
        .hearing
        .iter()
        .map(|h| {
            vec![
                format!("{} days", h.days),
                format!("{} days", h.good_cause_days),
                h.validity.describe(),
                h.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &["Hearing within", "With good cause", "In force", "Source"],
        &rows,
    ));
    out.push_str("\n### Families that may protect an organisation\n\n");
    let rows: Vec<Vec<String>> = t
        .organisations
        .iter()
        .map(|o| {
            vec![
                format!("`{}`", o.family.as_db()),
                o.validity.describe(),
                o.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["Family", "In force", "Source"], &rows));
    out.push_str("\n### NCIC protection order conditions (PCO)\n\n");
    let rows: Vec<Vec<String>> = t
        .pco
        .iter()
        .map(|p| {
            vec![
                format!("`{:02}`", p.code),
                p.meaning.clone(),
                p.validity.describe(),
                p.source.clone(),
            ]
        })
        .collect();
    out.push_str(&table(&["PCO", "Meaning", "In force", "Source"], &rows));
    let (first, last) = t.holidays.years();
    let _ = write!(
        out,
        "\n### Court holidays\n\n{} judicial holidays, {first} to {last}, each with its basis and \
         source: the table in [durations.md#court-holidays](durations.md#court-holidays). A day in \
         a year outside them is an error, never taken to be free of holidays.\n",
        t.holidays.holidays().len()
    );
    out
}

/// The table as plain text for a terminal: one line per row.
pub fn text(t: &RuleTable) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "rules table {} (version {})", t.file, t.version);
    let _ = writeln!(out, "\nforms:");
    for r in &t.forms {
        let _ = writeln!(
            out,
            "  {:<8} {:<13} {:<14} {:<24} {}\n           {}",
            r.form,
            r.family.as_db(),
            r.kind.as_db(),
            r.validity.describe(),
            describe_duration(r),
            r.source
        );
    }
    let _ = writeln!(out, "\nrenewals:");
    for r in &t.renewals {
        let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_db()).collect();
        let _ = writeln!(
            out,
            "  {:<13} {:<14} max {:<9} min {:<9} request within {:<9} {}\n           {}",
            r.family.as_db(),
            kinds.join(","),
            r.max.as_data(),
            opt(r.min),
            opt(r.request_window),
            r.validity.describe(),
            r.source
        );
    }
    let _ = writeln!(out, "\nhearing window of temporary orders:");
    for h in &t.hearing {
        let _ = writeln!(
            out,
            "  {} days, {} with good cause  {}\n           {}",
            h.days,
            h.good_cause_days,
            h.validity.describe(),
            h.source
        );
    }
    let _ = writeln!(out, "\nfamilies that may protect an organisation:");
    for o in &t.organisations {
        let _ = writeln!(
            out,
            "  {:<13} {}\n           {}",
            o.family.as_db(),
            o.validity.describe(),
            o.source
        );
    }
    let _ = writeln!(out, "\nPCO conditions:");
    for p in &t.pco {
        let _ = writeln!(
            out,
            "  {:02} {}  ({}; {})",
            p.code,
            p.meaning,
            p.validity.describe(),
            p.source
        );
    }
    let (first, last) = t.holidays.years();
    let _ = writeln!(out, "\ncourt holidays ({first} to {last}):");
    for h in t.holidays.holidays() {
        let _ = writeln!(
            out,
            "  {} {:<9} {:<48} ({}; {})",
            h.date,
            h.date.format("%A"),
            h.name,
            h.basis.as_str(),
            h.source
        );
    }
    out
}
