//! Private files: reading secrets, creating them 0600.
//!
//! Owns: the file rules of secrets — a secret file readable or writable by
//! group or others is refused (checked on the open file, not the path), a
//! new one is created 0600 and never replaces an existing file, and the
//! data directory is created 0700. Imports std and zeroize.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use zeroize::Zeroizing;

use crate::config::ConfigError;

/// Largest secret file read; both formats are well under it.
const MAX_SECRET_FILE: u64 = 16 * 1024;

/// Reads a secret file, refusing one that group or others may access.
pub(super) fn read_private(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    let file =
        File::open(path).map_err(|e| ConfigError::secret(path, format!("cannot read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| ConfigError::secret(path, format!("cannot stat: {e}")))?;
    if !meta.is_file() {
        return Err(ConfigError::secret(path, "is not a regular file"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::secret(
            path,
            format!("is accessible by group or others (mode {mode:04o}); run chmod 600 on it"),
        ));
    }
    let mut text = Zeroizing::new(String::new());
    file.take(MAX_SECRET_FILE)
        .read_to_string(&mut text)
        .map_err(|e| ConfigError::secret(path, format!("cannot read: {e}")))?;
    Ok(text)
}

/// Creates `path` with mode 0600; never replaces an existing file.
pub(super) fn write_private(path: &Path, contents: &str) -> Result<(), ConfigError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ConfigError::secret(path, format!("cannot create: {e}")))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ConfigError::secret(path, format!("cannot write: {e}")))
}

pub(super) fn ensure_dir(dir: &Path) -> Result<(), ConfigError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| ConfigError::secret(dir, format!("cannot create the data directory: {e}")))
}
