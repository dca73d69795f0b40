//! Logging setup.
//!
//! Owns: installing the process's `tracing` subscriber — JSON lines (one
//! object per event, with the request span's fields such as `request_id`)
//! or human-readable lines, written to stderr, at a chosen level for stsd
//! and at most `warn` for its dependencies. What is logged is decided where
//! it is logged; nothing logs bodies, credentials or signatures. Imports
//! nothing internal.

use tracing::Level;
use tracing_subscriber::EnvFilter;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A subscriber is already installed, or the filter is invalid.
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
}

/// Installs the subscriber: stsd's events from `level` up, dependencies'
/// from the less verbose of `level` and `warn`.
///
/// # Errors
///
/// When a subscriber is already installed.
pub fn init(level: Level, json: bool) -> Result<(), TelemetryError> {
    let deps = if level > Level::WARN {
        Level::WARN
    } else {
        level
    };
    let filter = EnvFilter::try_new(format!("{deps},stsd={level}"))
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.with_ansi(false).try_init()
    };
    result.map_err(|e| TelemetryError::Install(e.to_string()))
}
