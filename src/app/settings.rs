//! What a server is started with: one struct, built from the command line and environment by
//! `serve`, and written out field by field by the tests.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::auth::AuthConfig;
use crate::cache::CacheConfig;
use crate::images::ImageSettings;

/// Where the root keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A key file that must exist (`ccpor keys generate` writes it).
    File(PathBuf),
    /// A key file made on first use (`serve --demo`).
    FileOrNew(PathBuf),
}

impl KeySource {
    /// The key file's path.
    pub fn path(&self) -> &Path {
        match self {
            KeySource::File(p) | KeySource::FileOrNew(p) => p,
        }
    }
}

/// Everything `App::build` needs; nothing is read from the environment after this is built.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Local state: the search index, the audit anchor, the image-link key, filesystem images.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…` (see `database_url`).
    pub database_url: String,
    pub keys: KeySource,
    pub auth: AuthConfig,
    pub images: ImageSettings,
    pub cache: CacheConfig,
    /// Orders of synthetic demo data to load when the database holds none (`serve --demo`).
    pub demo_orders: Option<usize>,
    /// Transmission to CARPOS (`serve --carpos-addr`); `None`: messages queue and wait.
    pub carpos: Option<crate::carpos::transmitter::Config>,
}

impl Settings {
    /// The embedded defaults for `data_dir`: SQLite file, local images, in-process cache, keys
    /// in `<data_dir>/keys.json`, a free loopback port.
    pub fn embedded(data_dir: &Path) -> Settings {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            database_url: database_url(data_dir, None),
            keys: KeySource::File(data_dir.join("keys.json")),
            auth: AuthConfig::default(),
            images: ImageSettings {
                store_url: None,
                max_bytes: crate::images::DEFAULT_MAX_BYTES,
                url_ttl_secs: crate::images::DEFAULT_URL_TTL_SECS,
                url_key: None,
            },
            cache: CacheConfig::default(),
            demo_orders: None,
            carpos: None,
        }
    }
}

/// The database URL in effect: `explicit` when given, else a SQLite file in the data dir.
pub fn database_url(data_dir: &Path, explicit: Option<&str>) -> String {
    match explicit {
        Some(u) if !u.trim().is_empty() => u.to_owned(),
        _ => format!("sqlite://{}?mode=rwc", data_dir.join("ccpor.db").display()),
    }
}

/// Hides a password in a URL for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        assert_eq!(
            database_url(Path::new("/tmp/x"), None),
            "sqlite:///tmp/x/ccpor.db?mode=rwc"
        );
        assert_eq!(
            database_url(Path::new("d"), Some("postgres://h/db")),
            "postgres://h/db"
        );
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://***@h/db");
    }
}
