//! `stsd serve` and `stsd check-config`.
//!
//! Owns: loading the configuration (file, environment, flags), printing
//! configuration errors and the paths of generated secret files (never
//! their contents), installing logging, binding the listener, and turning
//! SIGINT/SIGTERM into the daemon's shutdown signal. The daemon itself is
//! `app::run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::api::http::tls;
use crate::app;
use crate::config::secrets;
use crate::config::source::Environment;
use crate::config::{Config, LogLevel, Overrides};
use crate::telemetry;

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Configuration file (TOML); built-in defaults when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address, overriding the file and STSD_LISTEN.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub(super) struct CheckConfigArgs {
    /// Configuration file (TOML); built-in defaults when absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// `stsd check-config`: "ok", or the error naming key and line (exit 1).
/// Also loads the TLS certificate and key and the client CA bundle, checks
/// existing secret files,
/// and reads and validates the bootstrap documents, without writing
/// anything.
pub(super) fn check_config(args: &CheckConfigArgs) -> ExitCode {
    let checked = Config::load(args.config.as_deref(), &Environment, &Overrides::default())
        .map_err(|e| e.to_string())
        .and_then(|config| {
            secrets::check(&config).map_err(|e| e.to_string())?;
            app::check_bootstrap(&config).map_err(|e| e.to_string())?;
            app::check_audit(&config).map_err(|e| e.to_string())?;
            if let Some(files) = &config.server.tls {
                tls::CertReloader::load(&files.cert_file, &files.key_file)
                    .map_err(|e| e.to_string())?;
                if let Some(ca) = &files.client_ca_file {
                    tls::verifier(ca).map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        });
    check_report(checked)
}

/// A configuration check's outcome: "ok" (exit 0), or the error on stderr
/// (exit 1).
pub(super) fn check_report(checked: Result<(), String>) -> ExitCode {
    match checked {
        Ok(()) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("stsd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `stsd serve`.
pub(super) fn serve(args: &ServeArgs) -> ExitCode {
    let flags = Overrides {
        listen: args.listen,
    };
    let config = match Config::load(args.config.as_deref(), &Environment, &flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stsd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = telemetry::init(level(config.logging.level), config.logging.json) {
        eprintln!("stsd: {e}");
        return ExitCode::FAILURE;
    }
    let provisioned = match app::provision_secrets(&config) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("stsd: {e}");
            return ExitCode::FAILURE;
        }
    };
    for path in &provisioned.generated {
        println!("stsd: generated {} (mode 0600)", path.display());
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.server.listen)
            .await
            .map_err(|e| {
                app::AppError::Listener(format!("cannot listen on {}: {e}", config.server.listen))
            })?;
        app::run(config, provisioned.secrets, listener, shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stsd stopped");
            eprintln!("stsd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The multi-threaded runtime of a long-running command, or `None` after
/// saying why it cannot start.
pub(super) fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => Some(r),
        Err(e) => {
            eprintln!("stsd: cannot start the runtime: {e}");
            None
        }
    }
}

pub(super) fn level(level: LogLevel) -> tracing::Level {
    match level {
        LogLevel::Trace => tracing::Level::TRACE,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    }
}

/// Completes on SIGINT or SIGTERM.
pub(super) async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => tracing::info!(signal = "SIGINT", "signal received"),
                _ = term.recv() => tracing::info!(signal = "SIGTERM", "signal received"),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; only SIGINT stops stsd");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
