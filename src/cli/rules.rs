//! `ccpor rules`: the rules table in use, as text, JSON or markdown (`docs/law/rules.md`).
use std::process::ExitCode;

use crate::domain::rules::{RuleTable, render};

/// Prints the table; `--rules FILE` was checked before this runs.
pub fn run(table: &RuleTable, json: bool, markdown: bool) -> anyhow::Result<ExitCode> {
    if json {
        println!("{}", serde_json::to_string_pretty(&render::json(table))?);
    } else if markdown {
        print!("{}", render::markdown(table));
    } else {
        print!("{}", render::text(table));
    }
    Ok(ExitCode::SUCCESS)
}
