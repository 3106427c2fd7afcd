//! Loading and checking rules files: the shipped one is valid; each kind of mistake is reported
//! with its line, field and reason.
use super::*;

fn shipped() -> RuleTable {
    RuleTable::shipped().unwrap()
}

/// The shipped text with `from` replaced by `to` (which must occur once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(SHIPPED.matches(from).count(), 1, "{from}");
    SHIPPED.replacen(from, to, 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn err(text: &str) -> RulesError {
    parse("test.toml", text).unwrap_err()
}

#[test]
fn the_shipped_table_is_valid_and_complete() {
    let t = shipped();
    assert!(!t.version.is_empty());
    let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    for f in OrderFamily::ALL {
        assert!(
            t.forms_on(today).any(|r| r.family == *f),
            "{f:?} has no form"
        );
    }
    assert_eq!(
        t.form_rows("GV-130").count(),
        2,
        "the pre-AB-12 row is kept"
    );
    assert!(t.hearing_on(today).is_some());
    assert_eq!(t.pco.len(), 9);
    for r in &t.forms {
        assert!(!r.source.is_empty() && r.line > 0, "{}", r.form);
    }
}

#[test]
fn a_syntax_error_names_its_line() {
    let text = edited("max = \"7 days\"", "max = \"7 days");
    let e = err(&text);
    assert_eq!(e.file, "test.toml");
    assert_eq!(e.line, line_of(&text, "max = \"7 days"), "{e}");
}

#[test]
fn an_unknown_field_is_refused() {
    let text = edited("max_court_days = 5", "max_court_days = 5\nmax_hours = 3");
    let e = err(&text);
    assert!(e.message.contains("max_hours"), "{e}");
    assert!(e.line > 0, "{e}");
}

#[test]
fn a_bad_length_names_the_row_and_field() {
    let text = edited(
        "kind = \"after_hearing\"\nmax = \"2 years\"",
        "kind = \"after_hearing\"\nmax = \"2 fortnights\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "max");
    assert!(e.message.contains("[[form]] RT-130"), "{e}");
    assert!(e.message.contains("not a length"), "{e}");
    // The line of the row's first key (the span starts at the table's body).
    let row = line_of(&text, "form = \"RT-130\"");
    assert!(
        (row.saturating_sub(1)..=row).contains(&e.line),
        "{e} vs {row}"
    );
    assert!(e.to_string().starts_with("test.toml, line "), "{e}");
    assert!(e.to_string().contains("field `max`"), "{e}");
}

#[test]
fn unknown_family_and_kind() {
    let e = err(&edited(
        "family = \"rt\"\nkind =",
        "family = \"retail\"\nkind =",
    ));
    assert_eq!(e.field, "family");
    assert!(e.message.contains("unknown family 'retail'"), "{e}");
    let e = err(&edited(
        "form = \"RT-130\"\nfamily = \"rt\"\nkind = \"after_hearing\"",
        "form = \"RT-130\"\nfamily = \"rt\"\nkind = \"final\"",
    ));
    assert_eq!(e.field, "kind");
}

#[test]
fn dates_and_sources_are_required_and_checked() {
    let e = err(&edited("until = \"2020-08-31\"", "until = \"2020-31-08\""));
    assert_eq!(e.field, "until");
    let e = err(&edited("until = \"2020-08-31\"", "until = \"2015-01-01\""));
    assert_eq!(e.field, "until");
    assert!(e.message.contains("before effective"), "{e}");
    let e = err(&edited(
        "source = \"PC 490.8: up to 2 years (docs/law/durations.md#orders-after-hearing)\"",
        "source = \" \"",
    ));
    assert_eq!(e.field, "source");
    let e = err(&edited(
        "max = \"2 years\"\nexpiry_required = true\nsource = \"PC 490.8: up to 2 years (docs/law/durations.md#orders-after-hearing)\"\neffective = \"1900-01-01\"",
        "max = \"2 years\"\nexpiry_required = true\nsource = \"PC 490.8: up to 2 years (docs/law/durations.md#orders-after-hearing)\"",
    ));
    assert!(e.message.contains("effective"), "{e}");
}

#[test]
fn rows_of_one_form_may_not_overlap() {
    // Remove the end of the pre-AB-12 GV-130 row: two rows in force from 2020-09-01.
    let e = err(&edited("until = \"2020-08-31\"\n", ""));
    assert_eq!(e.field, "effective");
    assert!(e.message.contains("[[form]] GV-130"), "{e}");
    assert!(e.message.contains("overlaps"), "{e}");
}

#[test]
fn minimum_longer_than_maximum_is_refused() {
    let e = err(&edited("min = \"1 year\"", "min = \"6 years\""));
    assert_eq!(e.field, "min");
    assert!(e.message.contains("longer than max"), "{e}");
}

#[test]
fn hearing_needs_a_window() {
    let start = SHIPPED.find("[[hearing_window]]").unwrap();
    let end = start + SHIPPED[start..].find("\n\n").unwrap();
    let text = format!("{}{}", &SHIPPED[..start], &SHIPPED[end..]);
    let e = err(&text);
    assert_eq!(e.field, "max");
    assert!(e.message.contains("hearing_window"), "{e}");
    let e = err(&edited("good_cause_days = 25", "good_cause_days = 20"));
    assert_eq!(e.field, "good_cause_days");
}

#[test]
fn pco_codes_are_two_digits() {
    let e = err(&edited("code = \"09\"", "code = \"9\""));
    assert_eq!(e.field, "code");
}

#[test]
fn a_missing_file_is_an_error_with_its_path() {
    let e = RuleTable::from_file(Path::new("/nonexistent/rules.toml")).unwrap_err();
    assert_eq!(e.file, "/nonexistent/rules.toml");
    assert!(e.message.contains("cannot read"), "{e}");
}

#[test]
fn a_rule_is_found_by_the_day_it_is_in_force() {
    let t = shipped();
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert_eq!(
        t.form_on("gv-130", d(2020, 8, 31)).unwrap().limit,
        Limit::Years(1)
    );
    assert_eq!(
        t.form_on("GV-130", d(2020, 9, 1)).unwrap().limit,
        Limit::Years(5)
    );
    assert!(t.form_on("GV-130", d(2015, 12, 31)).is_none());
    assert!(t.protects_organisations(OrderFamily::Rt, d(2026, 1, 1)));
    assert!(!t.protects_organisations(OrderFamily::Dv, d(2026, 1, 1)));
    assert!(t.renewal_on(OrderFamily::Epo, d(2026, 1, 1)).is_none());
    assert_eq!(
        t.pco_on(5, d(2026, 1, 1)).unwrap().meaning,
        "No communication with the protected person"
    );
}

#[test]
fn holidays_are_rows_of_the_table() {
    let t = shipped();
    let (first, last) = t.holidays.years();
    assert!(first <= 2024 && last >= 2028, "{first}..{last}");
    let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    assert_eq!(t.holidays.is_court_day(christmas), Ok(false));
    assert!(t.holidays.holidays().iter().all(|h| !h.source.is_empty()));
}

#[test]
fn a_bad_holiday_is_refused_with_its_line_and_field() {
    // Christmas 2027 observed on Friday 24th: written as the Saturday, refused.
    let text = edited("date = \"2027-12-24\"", "date = \"2027-12-25\"");
    let e = err(&text);
    let at = line_of(&text, "date = \"2027-12-25\"");
    assert!(e.line == at || e.line == at - 1, "{e}");
    assert_eq!(e.field, "date");
    assert!(e.message.contains("Saturday"), "{e}");

    let text = edited(
        "date = \"2026-12-25\"\nname = \"Christmas Day\"\nbasis = \"published\"",
        "date = \"2026-12-25\"\nname = \"Christmas Day\"\nbasis = \"guessed\"",
    );
    let e = err(&text);
    assert_eq!(e.field, "basis", "{e}");
    assert!(e.message.contains("guessed"), "{e}");

    // Without any holiday row court days cannot be counted: refused, not taken as no holidays.
    let start = SHIPPED.find("\n[[holiday]]").unwrap();
    let e = err(&SHIPPED[..start]);
    assert_eq!(e.field, "holiday", "{e}");
}
