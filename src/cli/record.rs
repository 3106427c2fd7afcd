//! Audit rows of the commands that change data or access (issue 24): `import`, `demo`, `link`,
//! `expire`, `reindex`, `keys generate`, `token mint` and `token revoke` each leave one row in
//! the same hash chain the server writes (`audit verify` checks it), naming who ran the command
//! (the OS user and the host, in `user_id` and `client_addr`), what it changed (counts, an input
//! file's SHA-256) and when. A command whose row cannot be written fails (CJIS AU-5: fail closed).
use std::io::Read;

use anyhow::Context;
use sha2::{Digest, Sha256};

use crate::audit::{AuditRecord, Outcome};

/// The role audit rows of command-line runs carry.
pub const ROLE: &str = "cli";

/// The OS account running the command: `USER`, else `LOGNAME`, else the numeric uid.
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("Uid:"))
                        .and_then(|l| l.split_whitespace().nth(1).map(|u| format!("uid {u}")))
                })
                .unwrap_or_else(|| "unknown".to_owned())
        })
}

/// The host the command ran on.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Appends the command's row: `event` (`cli.import`), the command line as its operation, and
/// `detail` (what it changed).
pub async fn record(
    db: &sea_orm::DatabaseConnection,
    event: &str,
    operation: &str,
    detail: String,
) -> anyhow::Result<()> {
    let mut rec = AuditRecord::new(event, Outcome::Allowed);
    rec.user_id = Some(crate::audit::clean::bounded(&os_user(), 128).into_owned());
    rec.role = Some(ROLE.to_owned());
    rec.client_addr = Some(crate::audit::clean::bounded(&host(), 255).into_owned());
    rec.operation = Some(operation.to_owned());
    rec.detail = Some(detail);
    crate::audit::append(db, rec)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("writing the command's audit row (the change is made; nothing recorded it)")?;
    Ok(())
}

/// The SHA-256 (hex) and length of what a `Hashing` reader read, left for the caller when the
/// reader is dropped (the reader itself moves into the import).
pub type Digested = std::sync::Arc<std::sync::Mutex<Option<(String, u64)>>>;

/// A reader that hashes what passes through it: an imported file is read once.
pub struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
    out: Digested,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R, out: Digested) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
            bytes: 0,
            out,
        }
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R> Drop for Hashing<R> {
    fn drop(&mut self) {
        let hash = std::mem::take(&mut self.hash);
        let hex = hex_of(&hash.finalize());
        if let Ok(mut slot) = self.out.lock() {
            *slot = Some((hex, self.bytes));
        }
    }
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reader_reports_the_sha256_of_what_it_read() {
        let out = Digested::default();
        {
            let mut r = Hashing::new(&b"abc"[..], out.clone());
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
        }
        let got = out.lock().unwrap().clone();
        assert_eq!(
            got,
            Some((
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad".to_owned(),
                3
            ))
        );
    }
}
