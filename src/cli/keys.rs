//! `ccpor keys`: the root keys that sign tokens.
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;

use crate::auth::keys::{KEY_FILE_NAME, KeyFile};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a root key (the first, or a new current one: the previous key keeps verifying
    /// tokens for `--previous-valid-for`).
    Generate {
        /// How long tokens signed with the previous key stay valid.
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        previous_valid_for: Duration,
    },
}

/// The key file in effect: `--key-file`/`CCPOR_KEY_FILE`, else `<data dir>/keys.json`.
pub fn key_file_path(data_dir: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(|| data_dir.join(KEY_FILE_NAME), Path::to_path_buf)
}

/// What a key command did: its audit detail and what it prints once that is recorded.
pub struct Done {
    pub detail: String,
    pub lines: Vec<String>,
}

impl Done {
    pub fn print(&self) {
        for l in &self.lines {
            println!("{l}");
        }
    }
}

/// `ccpor keys generate`: a first root key, or a new current one.
pub fn run(cmd: &KeysCommand, path: &Path) -> anyhow::Result<Done> {
    match cmd {
        KeysCommand::Generate { previous_valid_for } => {
            let mut file = if path.exists() {
                KeyFile::load(path)?
            } else {
                KeyFile::default()
            };
            let now = Utc::now();
            let until = now + chrono::Duration::from_std(*previous_valid_for)?;
            let id = file.rotate(now, until);
            file.save(path)?;
            let mut lines = vec![format!("key {id} written to {}", path.display())];
            if id > 1 {
                lines.push(format!("tokens of earlier keys are accepted until {until}"));
            }
            Ok(Done {
                detail: format!(
                    "root key {id} made current in {}; earlier keys valid until {until}",
                    path.display()
                ),
                lines,
            })
        }
    }
}
