//! Errors of configuration loading.
//!
//! Owns: [`ConfigError`]. Every message names where the problem is — the
//! file, line and key, the environment variable, or the secret file — and
//! never a secret value. Messages are lowercase and on one line (house
//! style 7). Imports std and thiserror only.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key or value of the configuration file is wrong.
    #[error("{}", FileLocation(self))]
    File {
        /// The file name, or `<built-in defaults>`.
        origin: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// The dotted key (`server.listen`), when known.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// An environment variable or command-line override is wrong.
    #[error("{name}: {message}")]
    Override {
        /// The variable (`STSD_LISTEN`) or flag (`--listen`).
        name: String,
        /// What is wrong; never the value of a secret.
        message: String,
    },
    /// A secret file is unusable (permissions, format) or cannot be written.
    #[error("{}: {message}", path.display())]
    Secret {
        /// The file.
        path: PathBuf,
        /// What is wrong; never the secret.
        message: String,
    },
}

// === impl ConfigError ===

impl ConfigError {
    /// A file error at byte `offset` of `text`, naming the section the line
    /// belongs to when the message does not say it.
    pub(crate) fn at_offset(
        origin: &str,
        text: &str,
        offset: Option<usize>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = match offset {
            Some(o) => {
                let (l, c) = line_col(text, o);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        let key = key.or_else(|| {
            line.and_then(|l| section_of(text, l))
                .map(|s| format!("[{s}]"))
        });
        Self::File {
            origin: origin.to_owned(),
            line,
            column,
            key,
            message: one_line(&message.into()),
        }
    }

    /// A secret-file error.
    pub(crate) fn secret(path: &Path, message: impl Into<String>) -> Self {
        Self::Secret {
            path: path.to_owned(),
            message: message.into(),
        }
    }

    /// An override error.
    pub(crate) fn override_(name: &str, message: impl Into<String>) -> Self {
        Self::Override {
            name: name.to_owned(),
            message: message.into(),
        }
    }
}

/// `Display` of [`ConfigError::File`]: `file:line:col: key: message`.
struct FileLocation<'a>(&'a ConfigError);

impl fmt::Display for FileLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConfigError::File {
            origin,
            line,
            column,
            key,
            message,
        } = self.0
        else {
            return Ok(());
        };
        f.write_str(origin)?;
        if let Some(l) = line {
            write!(f, ":{l}")?;
            if let Some(c) = column {
                write!(f, ":{c}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(k) = key {
            write!(f, "{k}: ")?;
        }
        f.write_str(message)
    }
}

/// 1-based line and column (in bytes) of byte `offset` of `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, column)
}

/// The `[table]` header governing 1-based `line`, if any.
fn section_of(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let t = l.trim();
            let inner = t.strip_prefix('[')?;
            let inner = inner.trim_start_matches('[');
            let end = inner.find(']')?;
            inner.get(..end).map(|s| s.trim().to_owned())
        })
        .last()
}

/// Joins a multi-line message (toml's) onto one line.
fn one_line(message: &str) -> String {
    message
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_columns_and_sections() {
        let text = "partition = \"aws\"\n[server]\nlisten = 1\n";
        let off = text.find("listen").unwrap();
        assert_eq!(line_col(text, off), (3, 1));
        let e = ConfigError::at_offset("a.toml", text, Some(off), None, "bad\nthing");
        assert_eq!(e.to_string(), "a.toml:3:1: [server]: bad thing");
        let e = ConfigError::at_offset("a.toml", text, Some(0), None, "x");
        assert_eq!(e.to_string(), "a.toml:1:1: x");
    }
}
