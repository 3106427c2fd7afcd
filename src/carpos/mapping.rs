//! The data tables of transmission, shipped with the code and checked at start-up: which
//! message(s) each lifecycle event makes (`data/event_messages.csv`) and how the registry's codes
//! become NCIC's (`data/codes.csv`). Each row carries its source, and rows whose NCIC side is
//! unconfirmed (docs/law/ncic.md#message-keys; DOJ's CARPOS formats are not public) say so.
use std::collections::HashMap;
use std::sync::LazyLock;

use super::message::{FieldCode, MessageKey};
use super::rules;
use crate::domain::codes::{BradyIndicator, EyeColor, HairColor, Race, Sex};

const EVENT_MESSAGES: &str = include_str!("data/event_messages.csv");
const CODES: &str = include_str!("data/codes.csv");

/// A lifecycle event DOJ must learn of (Fam. Code 6380(a): issuance, modification, extension,
/// termination; and service at a later time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    Issue,
    IssueTemporary,
    AddedProtectedPerson,
    OrderAfterHearing,
    Modification,
    Renewal,
    Service,
    Termination,
    Cancellation,
}

impl Trigger {
    pub const ALL: [Trigger; 9] = [
        Trigger::Issue,
        Trigger::IssueTemporary,
        Trigger::AddedProtectedPerson,
        Trigger::OrderAfterHearing,
        Trigger::Modification,
        Trigger::Renewal,
        Trigger::Service,
        Trigger::Termination,
        Trigger::Cancellation,
    ];

    /// The spelling in the table and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Issue => "issue",
            Trigger::IssueTemporary => "issue_temporary",
            Trigger::AddedProtectedPerson => "added_protected_person",
            Trigger::OrderAfterHearing => "order_after_hearing",
            Trigger::Modification => "modification",
            Trigger::Renewal => "renewal",
            Trigger::Service => "service",
            Trigger::Termination => "termination",
            Trigger::Cancellation => "cancellation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One row of the event table.
#[derive(Debug, Clone)]
pub struct EventMessage {
    pub trigger: Trigger,
    pub key: MessageKey,
    pub unconfirmed: bool,
    pub what: String,
    pub source: String,
}

/// One row of the code table: a registry value and the NCIC code it goes out as.
#[derive(Debug, Clone)]
pub struct CodeRow {
    pub list: String,
    pub registry: String,
    pub ncic: String,
    pub unconfirmed: bool,
    pub source: String,
}

/// A table that does not parse or does not cover what the code needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {message}")]
pub struct TableError {
    pub file: &'static str,
    pub line: usize,
    pub message: String,
}

/// Both tables, parsed and checked.
#[derive(Debug)]
pub struct Tables {
    events: HashMap<Trigger, Vec<EventMessage>>,
    codes: HashMap<(String, String), CodeRow>,
    pub event_rows: Vec<EventMessage>,
    pub code_rows: Vec<CodeRow>,
}

static TABLES: LazyLock<Result<Tables, TableError>> =
    LazyLock::new(|| Tables::parse(EVENT_MESSAGES, CODES));

/// The shipped tables; an error names the bad line. `App::build` calls it so a broken table
/// stops the server at start-up, never a transmission later.
pub fn tables() -> Result<&'static Tables, TableError> {
    TABLES.as_ref().map_err(Clone::clone)
}

impl Tables {
    pub fn parse(events: &str, codes: &str) -> Result<Tables, TableError> {
        let event_file = "src/carpos/data/event_messages.csv";
        let code_file = "src/carpos/data/codes.csv";
        let mut event_rows = Vec::new();
        for (line, cells) in rows(
            event_file,
            events,
            "trigger,message_key,unconfirmed,what,source",
        )? {
            let bad = |message: String| TableError {
                file: event_file,
                line,
                message,
            };
            let [trigger, key, unconfirmed, what, source] = cells.map_err(bad)?;
            event_rows.push(EventMessage {
                trigger: Trigger::parse(&trigger)
                    .ok_or_else(|| bad(format!("unknown trigger `{trigger}`")))?,
                key: MessageKey::from_code(&key)
                    .ok_or_else(|| bad(format!("unknown message key `{key}`")))?,
                unconfirmed: yes_no(&unconfirmed).map_err(bad)?,
                what,
                source: nonempty(source).map_err(bad)?,
            });
        }
        let mut events: HashMap<Trigger, Vec<EventMessage>> = HashMap::new();
        for row in &event_rows {
            events.entry(row.trigger).or_default().push(row.clone());
        }
        if let Some(t) = Trigger::ALL.iter().find(|t| !events.contains_key(t)) {
            return Err(TableError {
                file: event_file,
                line: 0,
                message: format!("no row for trigger `{}`", t.as_str()),
            });
        }
        let mut code_rows = Vec::new();
        let mut by_value = HashMap::new();
        for (line, cells) in rows(code_file, codes, "list,registry,ncic,unconfirmed,source")? {
            let bad = |message: String| TableError {
                file: code_file,
                line,
                message,
            };
            let [list, registry, ncic, unconfirmed, source] = cells.map_err(bad)?;
            let field = list_field(&list).ok_or_else(|| bad(format!("unknown list `{list}`")))?;
            rules::value_ok(field, &ncic).map_err(|rule| bad(format!("`{ncic}` {rule}")))?;
            let row = CodeRow {
                list: list.clone(),
                registry: registry.clone(),
                ncic,
                unconfirmed: yes_no(&unconfirmed).map_err(bad)?,
                source: nonempty(source).map_err(bad)?,
            };
            if by_value.insert((list, registry), row.clone()).is_some() {
                return Err(bad("given twice".to_owned()));
            }
            code_rows.push(row);
        }
        let tables = Tables {
            events,
            codes: by_value,
            event_rows,
            code_rows,
        };
        tables.covers_the_registry_codes()?;
        Ok(tables)
    }

    /// Every value the registry stores has a row.
    fn covers_the_registry_codes(&self) -> Result<(), TableError> {
        let needed = Sex::ALL
            .iter()
            .map(|v| ("sex", v.as_db()))
            .chain(Race::ALL.iter().map(|v| ("race", v.as_db())))
            .chain(HairColor::ALL.iter().map(|v| ("hair", v.as_db())))
            .chain(EyeColor::ALL.iter().map(|v| ("eye", v.as_db())))
            .chain(BradyIndicator::ALL.iter().map(|v| ("brady", v.as_db())))
            .chain(std::iter::once(("expiry", "none")));
        for (list, value) in needed {
            if self.code(list, value).is_none() {
                return Err(TableError {
                    file: "src/carpos/data/codes.csv",
                    line: 0,
                    message: format!("no row for {list} `{value}`"),
                });
            }
        }
        Ok(())
    }

    /// The messages `trigger` makes, in order.
    pub fn messages(&self, trigger: Trigger) -> &[EventMessage] {
        self.events.get(&trigger).map_or(&[], Vec::as_slice)
    }

    /// The NCIC code of the registry's `value` in `list`.
    pub fn code(&self, list: &str, value: &str) -> Option<&str> {
        self.codes
            .get(&(list.to_owned(), value.to_owned()))
            .map(|r| r.ncic.as_str())
    }
}

/// The field whose code list a table list feeds.
fn list_field(list: &str) -> Option<FieldCode> {
    Some(match list {
        "sex" => FieldCode::Sex,
        "race" => FieldCode::Rac,
        "hair" => FieldCode::Hai,
        "eye" => FieldCode::Eye,
        "brady" => FieldCode::Brd,
        "expiry" => FieldCode::Exp,
        _ => return None,
    })
}

fn yes_no(s: &str) -> Result<bool, String> {
    match s {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!("unconfirmed is `{other}`, not yes or no")),
    }
}

fn nonempty(s: String) -> Result<String, String> {
    if s.trim().is_empty() {
        Err("no source".to_owned())
    } else {
        Ok(s)
    }
}

/// A data line's five cells, or why it has not five.
type Row = Result<[String; 5], String>;

/// The data lines after the header, each split into its five cells (or why it cannot be).
fn rows(file: &'static str, text: &str, header: &str) -> Result<Vec<(usize, Row)>, TableError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end()))
        .filter(|(_, l)| !l.is_empty());
    match lines.next() {
        Some((_, h)) if h == header => {}
        other => {
            return Err(TableError {
                file,
                line: other.map_or(0, |(n, _)| n),
                message: format!("the header must be `{header}`"),
            });
        }
    }
    Ok(lines
        .map(|(n, l)| {
            let cells = split(l).and_then(|c| {
                <[String; 5]>::try_from(c).map_err(|c| format!("{} cells, not 5", c.len()))
            });
            (n, cells)
        })
        .collect())
}

/// Splits one CSV line: cells separated by commas, a cell in double quotes may hold commas and
/// doubled quotes.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, '"') if cell.is_empty() => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => {
                quoted = false;
                if chars.peek().is_some_and(|&n| n != ',') {
                    return Err("text after a closing quote".to_owned());
                }
            }
            (_, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("unclosed quote".to_owned());
    }
    cells.push(cell);
    Ok(cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tables_parse_and_cover_every_trigger_and_code() {
        let t = tables().unwrap();
        assert_eq!(t.messages(Trigger::Issue)[0].key, MessageKey::Enter);
        assert_eq!(t.messages(Trigger::Termination)[0].key, MessageKey::Clear);
        assert_eq!(t.code("sex", "x"), Some("X"));
        assert_eq!(t.code("expiry", "none"), Some(rules::NON_EXPIRING));
        // Every message key in use is unconfirmed (docs/law/ncic.md#message-keys).
        assert!(t.event_rows.iter().all(|r| r.unconfirmed));
    }

    #[test]
    fn broken_tables_name_the_line() {
        let header = "trigger,message_key,unconfirmed,what,source\n";
        let err = Tables::parse(&format!("{header}issue,EPX,yes,w,s\n"), CODES).unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (2, "unknown message key `EPX`")
        );
        let err = Tables::parse(&format!("{header}issue,EPO,yes,w,s\n"), CODES).unwrap_err();
        assert!(err.message.contains("no row for trigger"), "{err}");
        let codes = CODES.replace("sex,x,X,", "sex,x,Q,");
        let err = Tables::parse(EVENT_MESSAGES, &codes).unwrap_err();
        assert!(err.message.contains("`Q`"), "{err}");
        let codes = CODES.replace("hair,PLE,PLE,no,NCIC HAI\n", "");
        let err = Tables::parse(EVENT_MESSAGES, &codes).unwrap_err();
        assert!(err.message.contains("hair `PLE`"), "{err}");
        assert_eq!(split(r#"a,"b, ""c""",d"#).unwrap(), ["a", "b, \"c\"", "d"]);
        assert!(split(r#"a,"b"#).is_err());
    }
}
