//! Root key management. A key file holds every root key with its id; the newest signs new tokens,
//! older ones keep verifying until their `accept_until` date, so keys rotate without a flag day.
use std::path::Path;
use std::str::FromStr;

use biscuit_auth::{KeyPair, PrivateKey, PublicKey};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::auth::AuthError;

/// File name of the key file inside the data dir.
pub const KEY_FILE_NAME: &str = "keys.json";

/// One root key as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub id: u32,
    /// `ed25519-private/<hex>`.
    pub private_key: String,
    pub created_at: DateTime<Utc>,
    /// Tokens signed with this key are refused after this instant (set when a newer key is
    /// generated); `None` while it is the current key.
    pub accept_until: Option<DateTime<Utc>>,
}

/// The key file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyFile {
    pub keys: Vec<StoredKey>,
}

impl KeyFile {
    /// Reads a key file.
    pub fn load(path: &Path) -> Result<KeyFile, AuthError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AuthError::KeyFile(format!("{}: {e}", path.display())))?;
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| AuthError::KeyFile(format!("{}: {e}", path.display())))?;
        if file.keys.is_empty() {
            return Err(AuthError::KeyFile(format!("{}: no keys", path.display())));
        }
        Ok(file)
    }

    /// Adds a new current key; the previous current key stays accepted until `previous_until`.
    pub fn rotate(&mut self, now: DateTime<Utc>, previous_until: DateTime<Utc>) -> u32 {
        let id = self.keys.iter().map(|k| k.id).max().unwrap_or(0) + 1;
        for k in &mut self.keys {
            if k.accept_until.is_none() {
                k.accept_until = Some(previous_until);
            }
        }
        self.keys.push(StoredKey {
            id,
            private_key: KeyPair::new().private().to_prefixed_string(),
            created_at: now,
            accept_until: None,
        });
        id
    }

    /// Writes the file readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), AuthError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| AuthError::KeyFile(format!("{}: {e}", dir.display())))?;
        }
        let text =
            serde_json::to_string_pretty(self).map_err(|e| AuthError::KeyFile(e.to_string()))?;
        let tmp = path.with_extension("tmp");
        write_private(&tmp, text.as_bytes())
            .map_err(|e| AuthError::KeyFile(format!("{}: {e}", tmp.display())))?;
        std::fs::rename(&tmp, path)
            .map_err(|e| AuthError::KeyFile(format!("{}: {e}", path.display())))
    }

    /// The key new tokens are signed with: the newest.
    pub fn signing_key(&self) -> Result<SigningKey, AuthError> {
        let k = self
            .keys
            .iter()
            .max_by_key(|k| k.id)
            .ok_or_else(|| AuthError::KeyFile("no keys".into()))?;
        let private = PrivateKey::from_str(&k.private_key)
            .map_err(|e| AuthError::KeyFile(format!("key {}: {e}", k.id)))?;
        Ok(SigningKey {
            id: k.id,
            pair: KeyPair::from(&private),
        })
    }

    /// Public keys for verification.
    pub fn key_ring(&self) -> Result<KeyRing, AuthError> {
        let mut keys = Vec::new();
        for k in &self.keys {
            let private = PrivateKey::from_str(&k.private_key)
                .map_err(|e| AuthError::KeyFile(format!("key {}: {e}", k.id)))?;
            keys.push(RingKey {
                id: k.id,
                public: private.public(),
                accept_until: k.accept_until,
            });
        }
        Ok(KeyRing { keys })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The key that signs new tokens.
pub struct SigningKey {
    pub id: u32,
    pub pair: KeyPair,
}

impl std::fmt::Debug for SigningKey {
    // Never print the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("id", &self.id).finish()
    }
}

#[derive(Debug, Clone)]
struct RingKey {
    id: u32,
    public: PublicKey,
    accept_until: Option<DateTime<Utc>>,
}

/// Public keys the server verifies tokens with, by key id.
#[derive(Debug, Clone)]
pub struct KeyRing {
    keys: Vec<RingKey>,
}

impl KeyRing {
    /// The public key for a token's `root_key_id`, if that key is still accepted at `now`.
    pub fn public_for(&self, id: Option<u32>, now: DateTime<Utc>) -> Option<PublicKey> {
        let id = id?;
        self.keys
            .iter()
            .find(|k| k.id == id && k.accept_until.is_none_or(|until| now <= until))
            .map(|k| k.public)
    }

    /// A ring of the public keys alone (for verifiers given a `public_key` string).
    pub fn from_public(id: u32, public: &str) -> Result<KeyRing, AuthError> {
        let public = PublicKey::from_str(public).map_err(|e| AuthError::KeyFile(e.to_string()))?;
        Ok(KeyRing {
            keys: vec![RingKey {
                id,
                public,
                accept_until: None,
            }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_old_key_until_its_date() {
        let now = Utc::now();
        let mut f = KeyFile::default();
        assert_eq!(f.rotate(now, now), 1);
        let until = now + chrono::Duration::hours(1);
        assert_eq!(f.rotate(now, until), 2);
        assert_eq!(f.signing_key().unwrap().id, 2);
        let ring = f.key_ring().unwrap();
        assert!(ring.public_for(Some(1), now).is_some());
        assert!(
            ring.public_for(Some(1), until + chrono::Duration::seconds(1))
                .is_none()
        );
        assert!(
            ring.public_for(Some(2), now + chrono::Duration::days(999))
                .is_some()
        );
        assert!(ring.public_for(None, now).is_none());
        assert!(ring.public_for(Some(3), now).is_none());
    }

    #[test]
    fn saved_file_loads_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE_NAME);
        let mut f = KeyFile::default();
        f.rotate(Utc::now(), Utc::now());
        f.save(&path).unwrap();
        let back = KeyFile::load(&path).unwrap();
        assert_eq!(back.keys.len(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        assert!(!format!("{:?}", back.signing_key().unwrap()).contains("private"));
    }
}
