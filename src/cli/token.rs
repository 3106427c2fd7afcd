//! `ccpor token`: mint, narrow and revoke access tokens.
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::Subcommand;

use super::Cli;
use crate::auth::Role;
use crate::auth::keys::KeyFile;
use crate::auth::token::{self, Claims, Narrowing};
use crate::domain::court_code::CourtCode;
use crate::domain::ori::Ori;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Sign a token; prints it as the last line.
    Mint {
        /// clerk, bench_officer, lea, analyst, admin or feed.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Court code (SC19) for clerk, bench_officer and feed.
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

/// Runs one `ccpor token` subcommand.
pub async fn run(cli: &Cli, command: &TokenCommand) -> anyhow::Result<ExitCode> {
    match command {
        TokenCommand::Mint {
            role,
            court,
            agency,
            user,
            ttl,
        } => {
            let done = mint(
                &super::keys::key_file_path(&cli.data_dir, cli.key_file.as_deref()),
                *role,
                court.as_deref(),
                agency.as_deref(),
                user.as_deref(),
                *ttl,
            )?;
            // Recorded before the token is shown: an unrecorded token is never handed out.
            let (db, _) = super::open_db(cli).await?;
            super::record::record(
                &db,
                "cli.token.mint",
                "ccpor token mint",
                done.detail.clone(),
            )
            .await?;
            done.print();
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Attenuate {
            token,
            read_only,
            county,
            ttl,
            trusted_documents,
        } => attenuate(
            token,
            *read_only,
            county.as_deref(),
            *ttl,
            *trusted_documents,
        ),
        TokenCommand::Revoke { token, id, reason } => {
            let (db, _) = super::open_db(cli).await?;
            let ids = revoke(&db, token.as_deref(), id.as_deref(), reason.as_deref()).await?;
            let detail = format!(
                "revoked {} ({})",
                ids.join(", "),
                reason.as_deref().unwrap_or("no reason given")
            );
            super::record::record(&db, "cli.token.revoke", "ccpor token revoke", detail).await?;
            for i in &ids {
                println!("revoked {i}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "unknown role '{s}'; one of {}",
            Role::ALL.map(Role::as_str).join(", ")
        )
    })
}

/// The claims of a token for `role`; the user defaults to `role@court` (or agency, or statewide).
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

fn mint(
    path: &Path,
    role: Role,
    court: Option<&str>,
    agency: Option<&str>,
    user: Option<&str>,
    ttl: Duration,
) -> anyhow::Result<super::keys::Done> {
    let file = KeyFile::load(path).with_context(|| "run `ccpor keys generate` first")?;
    let key = file.signing_key()?;
    let claims = claims(role, court, agency, user)?;
    let m = token::mint(&key, &claims, ttl)?;
    let detail = format!(
        "minted a {role} token for {} (court {}, agency {}), key {}, revocation id {}, expires {}",
        claims.user,
        claims.court.as_deref().unwrap_or("-"),
        claims.agency.as_deref().unwrap_or("-"),
        key.id,
        m.revocation_id,
        m.expires_at
    );
    Ok(super::keys::Done {
        detail,
        lines: vec![
            format!("role:          {role}"),
            format!("expires:       {}", m.expires_at),
            format!("key id:        {}", key.id),
            format!("revocation id: {}", m.revocation_id),
            m.token,
        ],
    })
}

fn attenuate(
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

async fn revoke(
    db: &sea_orm::DatabaseConnection,
    token: Option<&str>,
    id: Option<&str>,
    reason: Option<&str>,
) -> anyhow::Result<Vec<String>> {
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
    Ok(ids)
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
