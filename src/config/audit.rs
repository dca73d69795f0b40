//! `[audit]`: the raw section and its validation.
//!
//! Owns: [`AuditSection`] (serde shape, defaults), [`AuditConfig`]
//! (validated: the file directory resolved against the data directory,
//! durations), and the override `STSD_AUDIT_DIR`, which turns the trail on
//! with a file sink in that directory. Imports std, serde and the sibling
//! modules only.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::error::ConfigError;
use super::file::Bounded;

/// `STSD_AUDIT_DIR`: turns the audit trail on, with its files in this
/// directory (overrides `audit.enabled` and `audit.dir`).
pub const AUDIT_DIR: &str = "STSD_AUDIT_DIR";

/// `[audit]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// Whether events are recorded (off by default).
    pub enabled: bool,
    /// Where lines go: `"file"`, `"stdout"`, or both.
    pub sinks: Vec<SinkName>,
    /// The directory of the files; `<data_dir>/audit` when absent.
    pub dir: Option<PathBuf>,
    /// A file is sealed and the next one opened past this size.
    pub rotate_bytes: Bounded<1024, 1_099_511_627_776>,
    /// … or this many seconds after it was opened (once it holds a record).
    pub rotate_secs: Bounded<1, 31_536_000>,
    /// Whether a response waits for its record's `fdatasync` (and fails
    /// when it cannot be written).
    pub sync: bool,
    /// Records queued for the writer at most.
    pub queue: Bounded<1, 10_000_000>,
    /// Which Authorize answers are recorded.
    pub authorize: AuthorizeModeName,
    /// With `authorize = "sample"`: the share of allows recorded (0–1).
    pub authorize_sample_rate: f64,
    /// A PKCS#8 Ed25519 private key (PEM or DER, 0600) that signs each
    /// file's digest; unsigned digests without it.
    pub signing_key_file: Option<PathBuf>,
}

/// A sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkName {
    /// JSON lines in rotated, chained files.
    File,
    /// JSON lines on stdout.
    Stdout,
}

/// `audit.authorize`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthorizeModeName {
    /// Every answer.
    #[default]
    All,
    /// Only refusals (the "decisions-only": every deny and error,
    /// no allow).
    Denials,
    /// Every refusal, and `authorize_sample_rate` of the allows.
    Sample,
}

/// The validated section.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// Whether events are recorded.
    pub enabled: bool,
    /// The files' directory; `None`: no file sink.
    pub dir: Option<PathBuf>,
    /// Whether lines also go to stdout.
    pub stdout: bool,
    /// Rotation by size.
    pub rotate_bytes: u64,
    /// Rotation by age.
    pub rotate_age: Duration,
    /// Sync mode.
    pub sync: bool,
    /// Queue length.
    pub queue: usize,
    /// Which Authorize answers are recorded.
    pub authorize: AuthorizeModeName,
    /// The sample rate of allows.
    pub sample_rate: f64,
    /// The digest signing key.
    pub signing_key_file: Option<PathBuf>,
}

impl Default for AuditSection {
    fn default() -> Self {
        Self {
            enabled: false,
            sinks: vec![SinkName::File],
            dir: None,
            rotate_bytes: Bounded(100 * 1024 * 1024),
            rotate_secs: Bounded(86_400),
            sync: false,
            queue: Bounded(65_536),
            authorize: AuthorizeModeName::All,
            authorize_sample_rate: 0.01,
            signing_key_file: None,
        }
    }
}

/// Validates `raw`; `env_dir` is `STSD_AUDIT_DIR`.
///
/// # Errors
///
/// An empty sink list, or a sample rate outside 0–1.
pub fn audit_config(
    raw: AuditSection,
    data_dir: &Path,
    env_dir: Option<String>,
    origin: &str,
) -> Result<AuditConfig, ConfigError> {
    let invalid = |key: &str, message: &str| ConfigError::File {
        origin: origin.to_owned(),
        line: None,
        column: None,
        key: Some(format!("audit.{key}")),
        message: message.to_owned(),
    };
    if !(0.0..=1.0).contains(&raw.authorize_sample_rate) {
        return Err(invalid("authorize_sample_rate", "must be between 0 and 1"));
    }
    let enabled = raw.enabled || env_dir.is_some();
    if enabled && raw.sinks.is_empty() {
        return Err(invalid("sinks", "must name \"file\", \"stdout\" or both"));
    }
    let file = raw.sinks.contains(&SinkName::File) || env_dir.is_some();
    let dir = env_dir
        .map(PathBuf::from)
        .or(raw.dir)
        .unwrap_or_else(|| data_dir.join("audit"));
    Ok(AuditConfig {
        enabled,
        dir: file.then_some(dir),
        stdout: raw.sinks.contains(&SinkName::Stdout),
        rotate_bytes: raw.rotate_bytes.0,
        rotate_age: Duration::from_secs(raw.rotate_secs.0),
        sync: raw.sync,
        queue: usize::try_from(raw.queue.0).unwrap_or(usize::MAX),
        authorize: raw.authorize,
        sample_rate: raw.authorize_sample_rate,
        signing_key_file: raw.signing_key_file,
    })
}
