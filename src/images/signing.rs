//! Short-lived signed links to `GET /images/{id}` and its preview. The signature (HMAC-SHA256
//! over purpose, image id, the user the link was issued to, the revocation ids of the token it
//! was issued to, and expiry) is what lets a browser or viewer fetch the bytes without
//! the GraphQL credentials; it is checked here, apart from the access hook, which still runs.
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Download,
    Preview,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::Download => "download",
            Purpose::Preview => "preview",
        }
    }
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    Expired,
    BadSignature,
}

/// Whom a checked link was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub user: String,
    /// Revocation ids of the token the link was issued to: revoking the token kills the link.
    pub tokens: Vec<String>,
}

/// Signs and checks links with one secret key, shared by every server of a deployment.
#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
    pub ttl: Duration,
}

/// Writes a new key file readable by its owner only from its creation (never world-readable,
/// not even between a write and a chmod).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// File the key is kept in when none is configured.
pub const KEY_FILE: &str = "image-url.key";

impl UrlSigner {
    pub fn new(key: Vec<u8>, ttl: Duration) -> Self {
        Self { key, ttl }
    }

    /// The configured key, else the one in `<data_dir>/image-url.key`, created on first use.
    pub fn load(explicit: Option<&str>, data_dir: &Path, ttl: Duration) -> anyhow::Result<Self> {
        if let Some(k) = explicit.map(str::trim).filter(|k| !k.is_empty()) {
            anyhow::ensure!(
                k.len() >= 32,
                "the image URL key must be at least 32 characters"
            );
            return Ok(Self::new(k.as_bytes().to_vec(), ttl));
        }
        let path = data_dir.join(KEY_FILE);
        if let Ok(existing) = std::fs::read_to_string(&path)
            && let Ok(key) = hex::decode(existing.trim())
            && key.len() >= 32
        {
            return Ok(Self::new(key, ttl));
        }
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating {}", data_dir.display()))?;
        let key: [u8; 32] = rand::random();
        write_private(&path, hex::encode(key).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Self::new(key.to_vec(), ttl))
    }

    fn mac(
        &self,
        purpose: Purpose,
        image_gid: &str,
        user_hex: &str,
        tokens: &str,
        expires: i64,
    ) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).ok()?;
        mac.update(
            format!(
                "ccpor-image-v3\n{}\n{image_gid}\n{user_hex}\n{tokens}\n{expires}",
                purpose.label()
            )
            .as_bytes(),
        );
        Some(mac)
    }

    /// A link for `user`, holder of a token with revocation ids `tokens`, valid until
    /// `now + ttl`. The user is in the link (hex) so that the download is audited under whoever
    /// the link was issued to; the token's revocation ids (hex, joined by `.`), so that the
    /// download is refused once the token is revoked.
    pub fn link(
        &self,
        purpose: Purpose,
        image_gid: &str,
        user: &str,
        tokens: &[String],
        now: DateTime<Utc>,
    ) -> String {
        let expires = (now + self.ttl).timestamp();
        let user_hex = hex::encode(user.as_bytes());
        let tokens = tokens.join(".");
        let sig = self
            .mac(purpose, image_gid, &user_hex, &tokens, expires)
            .map(|m| hex::encode(m.finalize().into_bytes()))
            .unwrap_or_default();
        let suffix = match purpose {
            Purpose::Download => "",
            Purpose::Preview => "/preview",
        };
        format!("/images/{image_gid}{suffix}?u={user_hex}&t={tokens}&expires={expires}&sig={sig}")
    }

    /// Checks a link's expiry and signature (in constant time); returns whom it was issued to.
    /// Whether that token is revoked is the caller's to check.
    #[expect(
        clippy::too_many_arguments,
        reason = "the signed fields of a link, each checked"
    )]
    pub fn check(
        &self,
        purpose: Purpose,
        image_gid: &str,
        user_hex: &str,
        tokens: &str,
        expires: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Result<Issued, LinkError> {
        let tag = hex::decode(sig).map_err(|_| LinkError::BadSignature)?;
        let mac = self
            .mac(purpose, image_gid, user_hex, tokens, expires)
            .ok_or(LinkError::BadSignature)?;
        mac.verify_slice(&tag)
            .map_err(|_| LinkError::BadSignature)?;
        if now.timestamp() > expires {
            return Err(LinkError::Expired);
        }
        let user = hex::decode(user_hex)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(LinkError::BadSignature)?;
        let tokens = tokens
            .split('.')
            .filter(|t| !t.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        Ok(Issued { user, tokens })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(link: &str) -> (String, String, i64, String) {
        let q = link.split_once('?').unwrap().1;
        let mut expires = 0;
        let mut sig = String::new();
        let mut user = String::new();
        let mut tokens = String::new();
        for kv in q.split('&') {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "u" => user = v.to_owned(),
                "t" => tokens = v.to_owned(),
                "expires" => expires = v.parse().unwrap(),
                "sig" => sig = v.to_owned(),
                _ => {}
            }
        }
        (user, tokens, expires, sig)
    }

    #[test]
    fn links_expire_and_cannot_be_altered() {
        let s = UrlSigner::new(vec![7; 32], Duration::minutes(5));
        let now = Utc::now();
        let ids = vec!["aa01".to_owned(), "bb02".to_owned()];
        let link = s.link(Purpose::Download, "abc", "clerk-1", &ids, now);
        assert!(link.starts_with("/images/abc?u="));
        let (u, t, exp, sig) = parts(&link);
        assert_eq!(t, "aa01.bb02");
        assert_eq!(
            s.check(Purpose::Download, "abc", &u, &t, exp, &sig, now),
            Ok(Issued {
                user: "clerk-1".to_owned(),
                tokens: ids
            })
        );
        // The link cannot be moved to another token (one not revoked, say).
        assert_eq!(
            s.check(Purpose::Download, "abc", &u, "aa01", exp, &sig, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check(
                Purpose::Download,
                "abc",
                &u,
                &t,
                exp,
                &sig,
                now + Duration::minutes(6)
            ),
            Err(LinkError::Expired)
        );
        assert_eq!(
            s.check(Purpose::Download, "abd", &u, &t, exp, &sig, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check(Purpose::Preview, "abc", &u, &t, exp, &sig, now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check(Purpose::Download, "abc", &u, &t, exp + 3600, &sig, now),
            Err(LinkError::BadSignature)
        );
        // The link cannot be re-attributed to another user.
        let mallory = hex::encode("mallory");
        assert_eq!(
            s.check(Purpose::Download, "abc", &mallory, &t, exp, &sig, now),
            Err(LinkError::BadSignature)
        );
        let other = UrlSigner::new(vec![8; 32], Duration::minutes(5));
        assert_eq!(
            other.check(Purpose::Download, "abc", &u, &t, exp, &sig, now),
            Err(LinkError::BadSignature)
        );
    }
}
