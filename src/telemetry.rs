//! Logging setup and metrics.
//!
//! Owns: installing the process's `tracing` subscriber — JSON lines (one
//! object per event, with the request span's fields such as `request_id`)
//! or human-readable lines, written to stderr, at a chosen level for stsd
//! and at most `warn` for its dependencies — and changing that level while
//! running ([`set_level`], through a reload layer: the admin call and
//! SIGHUP use it). What is logged is decided where it is logged; nothing
//! logs bodies, credentials or signatures. [`metrics`] is the Prometheus
//! registry. Imports nothing internal.

pub mod metrics;

use std::sync::OnceLock;

use tracing::Level;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Registry, fmt, reload};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// A subscriber is already installed, or the filter is invalid.
    #[error("cannot install the log subscriber: {0}")]
    Install(String),
    /// The level cannot be changed (no subscriber of ours is installed).
    #[error("cannot change the log level: {0}")]
    Reload(String),
}

/// The handle of the installed filter, for [`set_level`].
static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// stsd's events from `level` up, dependencies' from the less verbose of
/// `level` and `warn`.
fn filter(level: Level) -> Result<EnvFilter, String> {
    let deps = if level > Level::WARN {
        Level::WARN
    } else {
        level
    };
    EnvFilter::try_new(format!("{deps},stsd={level}")).map_err(|e| e.to_string())
}

/// Installs the subscriber at `level`.
///
/// # Errors
///
/// When a subscriber is already installed.
pub fn init(level: Level, json: bool) -> Result<(), TelemetryError> {
    let (filter, handle) = reload::Layer::new(filter(level).map_err(TelemetryError::Install)?);
    let json_layer = json.then(|| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr)
    });
    let plain_layer = (!json).then(|| fmt::layer().with_ansi(false).with_writer(std::io::stderr));
    tracing_subscriber::registry()
        .with(filter)
        .with(json_layer)
        .with(plain_layer)
        .try_init()
        .map_err(|e| TelemetryError::Install(e.to_string()))?;
    let _ = FILTER.set(handle);
    Ok(())
}

/// Changes the level of the installed subscriber; takes effect for the
/// next event.
///
/// # Errors
///
/// When [`init`] did not install the subscriber (tests, embedders).
pub fn set_level(level: Level) -> Result<(), TelemetryError> {
    let handle = FILTER
        .get()
        .ok_or_else(|| TelemetryError::Reload("logging was not set up by stsd".into()))?;
    let filter = filter(level).map_err(TelemetryError::Reload)?;
    handle
        .reload(filter)
        .map_err(|e| TelemetryError::Reload(e.to_string()))
}
