//! `ccpor keys`, `ccpor token` and `ccpor audit`: root keys, tokens and the audit chain.
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;

use crate::auth::Role;
use crate::auth::keys::{KEY_FILE_NAME, KeyFile};
use crate::auth::token::{self, Claims, Narrowing};
use crate::domain::court_code::CourtCode;
use crate::domain::ori::Ori;

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

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Sign a token; prints it as the last line.
    Mint {
        /// clerk, bench_officer, lea, analyst or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Court code (SC19) for clerk and bench_officer.
        #[arg(long)]
        court: Option<String>,
        /// Agency ORI (CA0190000) for lea.
        #[arg(long)]
        agency: Option<String>,
        /// Who the holder is (user id from the agency's identity provider).
        #[arg(long)]
        user: Option<String>,
        /// Lifetime, e.g. 15m, 8h.
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Narrow a token offline (no key needed); prints the narrowed token as the last line.
    Attenuate {
        /// The token to narrow.
        #[arg(long)]
        token: String,
        /// Allow queries only.
        #[arg(long)]
        read_only: bool,
        /// Allow one county's data only (e.g. "Los Angeles").
        #[arg(long)]
        county: Option<String>,
        /// Expire sooner, e.g. 5m.
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
        /// Run only the trusted documents of `ccpor schema operations`, sent by hash (for LEA
        /// client software).
        #[arg(long)]
        trusted_documents: bool,
    },
    /// Revoke a token (and every token narrowed from it) by the token or a revocation id.
    Revoke {
        /// The token itself.
        #[arg(long, conflicts_with = "id")]
        token: Option<String>,
        /// A revocation id printed by `mint`.
        #[arg(long)]
        id: Option<String>,
        /// Why (kept with the revocation).
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Re-hash the whole audit chain; exit code 4 and the first bad row when it was altered.
    Verify,
}

/// Exit code of `ccpor audit verify` for a broken chain.
pub const EXIT_AUDIT_BROKEN: u8 = 4;

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "unknown role '{s}'; one of {}",
            Role::ALL.map(Role::as_str).join(", ")
        )
    })
}

/// The key file in effect: `--key-file`/`CCPOR_KEY_FILE`, else `<data dir>/keys.json`.
pub fn key_file_path(data_dir: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(|| data_dir.join(KEY_FILE_NAME), Path::to_path_buf)
}

pub fn keys(cmd: &KeysCommand, path: &Path) -> anyhow::Result<ExitCode> {
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
            println!("key {id} written to {}", path.display());
            if id > 1 {
                println!("tokens of earlier keys are accepted until {until}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates a key file when there is none (for `serve --demo`).
pub fn ensure_key_file(path: &Path) -> anyhow::Result<KeyFile> {
    if path.exists() {
        return Ok(KeyFile::load(path)?);
    }
    let mut file = KeyFile::default();
    let now = Utc::now();
    file.rotate(now, now);
    file.save(path)?;
    Ok(file)
}

pub fn claims(
    role: Role,
    court: Option<&str>,
    agency: Option<&str>,
    user: Option<&str>,
) -> anyhow::Result<Claims> {
    let court = court
        .map(|c| CourtCode::parse("--court", c).map(|c| c.as_str().to_owned()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let agency = agency
        .map(|a| Ori::parse("--agency", a).map(|a| a.as_str().to_owned()))
        .transpose()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let user = user.map(str::to_owned).unwrap_or_else(|| {
        format!(
            "{}@{}",
            role.as_str(),
            court
                .as_deref()
                .or(agency.as_deref())
                .unwrap_or("statewide")
        )
    });
    Ok(Claims {
        role,
        user,
        court,
        agency,
    })
}

pub fn mint(
    path: &Path,
    role: Role,
    court: Option<&str>,
    agency: Option<&str>,
    user: Option<&str>,
    ttl: Duration,
) -> anyhow::Result<ExitCode> {
    let file = KeyFile::load(path).with_context(|| "run `ccpor keys generate` first")?;
    let key = file.signing_key()?;
    let m = token::mint(&key, &claims(role, court, agency, user)?, ttl)?;
    println!("role:          {role}");
    println!("expires:       {}", m.expires_at);
    println!("key id:        {}", key.id);
    println!("revocation id: {}", m.revocation_id);
    println!("{}", m.token);
    Ok(ExitCode::SUCCESS)
}

pub fn attenuate(
    token: &str,
    read_only: bool,
    county: Option<&str>,
    ttl: Option<Duration>,
    trusted_documents: bool,
) -> anyhow::Result<ExitCode> {
    let county = county
        .map(|c| {
            crate::domain::county::county("--county", c)
                .map(str::to_owned)
                .map_err(|_| anyhow::anyhow!("--county: '{c}' is not a California county"))
        })
        .transpose()?;
    if !read_only && county.is_none() && ttl.is_none() && !trusted_documents {
        anyhow::bail!("give at least one of --read-only, --county, --ttl, --trusted-documents");
    }
    let narrowed = token::attenuate(
        token,
        &Narrowing {
            read_only,
            county,
            expires: ttl.map(|d| SystemTime::now() + d),
            trusted_documents,
        },
    )?;
    println!("{narrowed}");
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(
    db: &sea_orm::DatabaseConnection,
    token: Option<&str>,
    id: Option<&str>,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let ids = match (token, id) {
        // The presented token's own (last) block: it and anything narrowed from it.
        (Some(t), _) => token::revocation_ids(t)?
            .into_iter()
            .last()
            .into_iter()
            .collect::<Vec<_>>(),
        (None, Some(i)) => {
            let i = i.trim().to_ascii_lowercase();
            if i.is_empty() || !i.chars().all(|c| c.is_ascii_hexdigit()) {
                anyhow::bail!("--id: a revocation id is hexadecimal");
            }
            vec![i]
        }
        (None, None) => anyhow::bail!("give --token or --id"),
    };
    crate::auth::revocation::revoke(db, &ids, reason).await?;
    for i in &ids {
        println!("revoked {i}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `ccpor audit verify`: the hash chain, then its anchor in `data_dir` (`audit::anchor`).
pub async fn audit_verify(
    db: &sea_orm::DatabaseConnection,
    data_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let report = crate::audit::verify(db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some((seq, why)) = report.first_bad {
        println!(
            "audit chain BROKEN at row {seq}: {why} ({} rows verified before it)",
            report.rows
        );
        return Ok(ExitCode::from(EXIT_AUDIT_BROKEN));
    }
    let Some(anchor) = crate::audit::Anchor::open(data_dir)? else {
        println!(
            "audit chain intact: {} rows (not anchored: no {} in {})",
            report.rows,
            crate::audit::anchor::KEY_FILE,
            data_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let checkpoint = anchor.read()?;
    let check = anchor
        .check(db, checkpoint)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match check {
        crate::audit::anchor::AnchorCheck::Holds { seq } => {
            println!(
                "audit chain intact: {} rows, anchored up to row {seq}",
                report.rows
            );
            Ok(ExitCode::SUCCESS)
        }
        crate::audit::anchor::AnchorCheck::Empty => {
            println!(
                "audit chain intact: {} rows (nothing anchored yet)",
                report.rows
            );
            Ok(ExitCode::SUCCESS)
        }
        crate::audit::anchor::AnchorCheck::Broken(why) => {
            println!("audit chain BROKEN: its anchor does not hold: {why}");
            Ok(ExitCode::from(EXIT_AUDIT_BROKEN))
        }
    }
}

/// Short-lived tokens for `serve --demo`, one per role, so the playground is usable.
pub fn demo_tokens(file: &KeyFile) -> anyhow::Result<Vec<(String, String)>> {
    let key = file.signing_key()?;
    let ttl = Duration::from_secs(8 * 3600);
    let mut out = Vec::new();
    for (role, court, agency) in [
        (Role::Clerk, Some("SC19"), None),
        (Role::BenchOfficer, Some("SC19"), None),
        (Role::Lea, None, Some("CA0190000")),
        (Role::Analyst, None, None),
        (Role::Admin, None, None),
    ] {
        let m = token::mint(&key, &claims(role, court, agency, None)?, ttl)?;
        out.push((role.as_str().to_owned(), m.token));
    }
    Ok(out)
}
