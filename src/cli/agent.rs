//! `stsd agent`.
//!
//! Owns: the command's flags, loading and checking the agent's
//! configuration (`--check` prints "ok" or the error naming file, line and
//! key), logging, the runtime and SIGINT/SIGTERM. The agent itself is
//! [`crate::agent::run`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::serve::{check_report, level, runtime, shutdown_signal};
use crate::agent::config::{AgentConfig, Mode};
use crate::agent::{self, client_auth};
use crate::domain::clock::SystemClock;
use crate::telemetry;

#[derive(Debug, Args)]
pub(super) struct AgentArgs {
    /// The agent's configuration file (TOML; README "The agent").
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Check the configuration (and the agent's own credentials) and exit.
    #[arg(long)]
    check: bool,
}

/// Runs or checks the agent.
pub(super) fn run(args: &AgentArgs) -> ExitCode {
    let config = match AgentConfig::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stsd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.check {
        return check(&config);
    }
    if let Err(e) = telemetry::init(level(config.logging.level), config.logging.json) {
        eprintln!("stsd: {e}");
        return ExitCode::FAILURE;
    }
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(agent::run(config, Arc::new(SystemClock), shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "stsd agent stopped");
            eprintln!("stsd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The agent's own credentials and TLS files must be readable too.
fn check(config: &AgentConfig) -> ExitCode {
    let checked = match &config.mode {
        Mode::Role(r) => client_auth(&r.auth).map(|_| ()),
        Mode::Node(_) => Ok(()),
    }
    .and_then(|()| {
        crate::adapters::jwks::tls::root_store(config.broker.ca_file.as_deref())
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    check_report(checked)
}
