//! The audit chain's anchor outside the database (CJIS AU-9: protect audit information from
//! unauthorized modification). The hash chain alone shows an edited row only to someone who
//! cannot recompute it: whoever can write the database can rewrite a row and every hash after
//! it. So the audit writer keeps, in the data dir and not in the database, a checkpoint of the
//! chain's head (its sequence number and hash) with an HMAC-SHA256 under a key kept beside it
//! (`audit-anchor.key`, mode 0600). `ccpor audit verify` checks the checkpoint's MAC and that the
//! row it names still has the hash it names: a row at or before it cannot be rewritten, nor the
//! log cut short before it, without the key. The checkpoint follows the head at most
//! `ANCHOR_EVERY` behind, so only the rows of the last moment are covered by the chain alone.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use entities::audit_event;
use hmac::{Hmac, KeyInit, Mac};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use sha2::Sha256;

use crate::audit::chain::Head;
use crate::error::AppResult;

/// The key, in the data dir.
pub const KEY_FILE: &str = "audit-anchor.key";
/// The latest checkpoint, in the data dir (replaced whole each time).
pub const CHECKPOINT_FILE: &str = "audit-anchor.json";
/// How far behind the head the checkpoint may fall while rows are being appended.
pub const ANCHOR_EVERY: Duration = Duration::from_secs(1);

/// The key and where the checkpoint goes.
#[derive(Clone)]
pub struct Anchor {
    key: Vec<u8>,
    dir: PathBuf,
}

impl std::fmt::Debug for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anchor").field("dir", &self.dir).finish()
    }
}

/// A signed position of the chain's head.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// Hex HMAC-SHA256 of `seq` and `hash` under the anchor key.
    pub mac: String,
}

/// What `check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorCheck {
    /// The row the checkpoint names still has its hash.
    Holds { seq: i64 },
    /// No rows and no checkpoint yet.
    Empty,
    /// The chain does not match its anchor: why.
    Broken(String),
}

fn write_private(path: &Path, bytes: &[u8], create_new: bool) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Anchor {
    /// The anchor of `dir`, creating its key (mode 0600 from the start) on first use.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Anchor> {
        if let Some(a) = Anchor::open(dir)? {
            return Ok(a);
        }
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key: [u8; 32] = rand::random();
        let path = dir.join(KEY_FILE);
        match write_private(&path, hex::encode(key).as_bytes(), true) {
            Ok(()) => {}
            // Another process made it first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("writing {}", path.display())),
        }
        Anchor::open(dir)?.with_context(|| format!("reading {}", path.display()))
    }

    /// The anchor of `dir` if it has a key (`audit verify` never makes one).
    pub fn open(dir: &Path) -> anyhow::Result<Option<Anchor>> {
        let path = dir.join(KEY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let key = hex::decode(text.trim())
            .ok()
            .filter(|k| k.len() >= 32)
            .with_context(|| {
                format!("{} does not hold a key of 32 bytes or more", path.display())
            })?;
        Ok(Some(Anchor {
            key,
            dir: dir.to_owned(),
        }))
    }

    fn mac(&self, seq: i64, hash: &str) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).ok()?;
        mac.update(format!("ccpor-audit-anchor-v1\n{seq}\n{hash}").as_bytes());
        Some(mac)
    }

    /// The signed checkpoint of `head`.
    pub fn sign(&self, head: &Head) -> Checkpoint {
        let mac = self
            .mac(head.last_seq, &head.last_hash)
            .map(|m| hex::encode(m.finalize().into_bytes()))
            .unwrap_or_default();
        Checkpoint {
            seq: head.last_seq,
            hash: head.last_hash.clone(),
            mac,
        }
    }

    /// Whether `cp` was signed with this key (in constant time).
    pub fn signed(&self, cp: &Checkpoint) -> bool {
        let (Some(mac), Ok(tag)) = (self.mac(cp.seq, &cp.hash), hex::decode(&cp.mac)) else {
            return false;
        };
        mac.verify_slice(&tag).is_ok()
    }

    /// Replaces the checkpoint with `head`'s (a new file renamed over the old, so a crash leaves
    /// one or the other whole). Blocking: a few hundred bytes and an `fsync`.
    pub fn write(&self, head: &Head) -> std::io::Result<()> {
        let text = serde_json::to_vec(&self.sign(head)).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{CHECKPOINT_FILE}.tmp"));
        write_private(&tmp, &text, false)?;
        std::fs::rename(&tmp, self.dir.join(CHECKPOINT_FILE))
    }

    /// The checkpoint, if one was written.
    pub fn read(&self) -> anyhow::Result<Option<Checkpoint>> {
        let path = self.dir.join(CHECKPOINT_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is not a checkpoint", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Checks the chain in `db` against the checkpoint. `checkpoint` is `read()`'s answer.
    pub async fn check<C: ConnectionTrait>(
        &self,
        db: &C,
        checkpoint: Option<Checkpoint>,
    ) -> AppResult<AnchorCheck> {
        let Some(cp) = checkpoint else {
            let rows = audit_event::Entity::find().count(db).await?;
            return Ok(if rows == 0 {
                AnchorCheck::Empty
            } else {
                AnchorCheck::Broken(format!(
                    "the anchor key is here but its checkpoint ({CHECKPOINT_FILE}) is missing"
                ))
            });
        };
        if !self.signed(&cp) {
            return Ok(AnchorCheck::Broken(format!(
                "the checkpoint of row {} is not signed by this data dir's anchor key",
                cp.seq
            )));
        }
        let row = audit_event::Entity::find_by_id(cp.seq).one(db).await?;
        Ok(match row {
            None => AnchorCheck::Broken(format!(
                "row {} of the anchored checkpoint is gone (the log was cut short)",
                cp.seq
            )),
            Some(r) if r.hash != cp.hash => AnchorCheck::Broken(format!(
                "row {} does not have the hash anchored outside the database: rows up to it were \
                 rewritten and the chain recomputed",
                cp.seq
            )),
            Some(_) => AnchorCheck::Holds { seq: cp.seq },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_is_signed_by_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let a = Anchor::load_or_create(dir.path()).unwrap();
        let again = Anchor::load_or_create(dir.path()).unwrap();
        assert_eq!(a.key, again.key, "the key is made once");
        let head = Head {
            last_seq: 42,
            last_hash: "ab".repeat(32),
        };
        a.write(&head).unwrap();
        let cp = a.read().unwrap().unwrap();
        assert_eq!((cp.seq, cp.hash.as_str()), (42, head.last_hash.as_str()));
        assert!(a.signed(&cp));
        let moved = Checkpoint {
            seq: 43,
            ..cp.clone()
        };
        assert!(!a.signed(&moved), "the MAC covers the sequence number");
        let other = tempfile::tempdir().unwrap();
        assert!(!Anchor::load_or_create(other.path()).unwrap().signed(&cp));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [KEY_FILE, CHECKPOINT_FILE] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
    }
}
