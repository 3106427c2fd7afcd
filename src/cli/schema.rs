//! `ccpor schema`: the published SDL, or the trusted-documents manifest.
use std::process::ExitCode;

use super::SchemaCommand;

/// Prints the SDL (`--federation`: the subgraph form) or, with `operations`, the manifest.
pub fn run(what: Option<&SchemaCommand>, federation: bool) -> anyhow::Result<ExitCode> {
    match what {
        None if federation => print!("{}", crate::graphql::federation_sdl()),
        None => print!("{}", crate::graphql::sdl()),
        Some(SchemaCommand::Operations) => println!(
            "{}",
            serde_json::to_string_pretty(&crate::contract::persisted::manifest_json())?
        ),
    }
    Ok(ExitCode::SUCCESS)
}
