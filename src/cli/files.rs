//! File modes of the data dir (issue 22, item 13). The database, its write-ahead log, the name
//! index, stored images and key files hold criminal-justice information or secrets: the process
//! creates every file owner-only (umask 077: files 0600, directories 0700), and a data dir that
//! exists already is closed to group and others.
use std::path::Path;

/// Sets the process umask to 077 and closes an existing `data_dir` to group and others (a
/// sticky directory such as `/tmp` is shared by design and left alone).
pub fn private(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        use std::os::unix::fs::PermissionsExt;
        rustix::process::umask(Mode::RWXG | Mode::RWXO);
        if let Ok(meta) = std::fs::metadata(data_dir) {
            let mode = meta.permissions().mode();
            if meta.is_dir() && mode & 0o077 != 0 && mode & 0o1000 == 0 {
                std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = data_dir;
    Ok(())
}
