//! The `stsd` command line.
//!
//! Owns: argument parsing (clap) and dispatch to the commands. Each command
//! lives in its own file under `cli/` and calls `service`/`domain` code; none
//! holds logic of its own beyond reading files and printing.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agent;
mod audit;
mod credential_process;
mod login;
mod policy;
mod report;
mod serve;

/// stsd — a self-hosted, AWS-compatible security token service.
#[derive(Debug, Parser)]
#[command(name = "stsd", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate and simulate IAM policies with stsd's evaluator.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Run the daemon: the AWS Query API (STS and IAM), /healthz, /readyz.
    Serve(serve::ServeArgs),
    /// Validate the configuration without starting; prints "ok" or the
    /// error naming key and line, and exits 1 on error.
    CheckConfig(serve::CheckConfigArgs),
    /// Vend a role's credentials to the SDKs of a workload: the
    /// container-credentials endpoint and IMDSv2 (sidecar or node agent).
    Agent(agent::AgentArgs),
    /// Print a role's credentials as `credential_process` Version 1 JSON.
    CredentialProcess(credential_process::CredentialProcessArgs),
    /// Sign in through the broker's web pages in a browser and keep the
    /// credentials (for `credential-process --profile`, or in
    /// ~/.aws/credentials).
    Login(login::LoginArgs),
    /// Verify an audit trail's chain and signatures; make a signing key.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Reports from a running broker: `stsd report keys` lists access keys
    /// unused or old, from the account's credential report.
    #[command(subcommand)]
    Report(report::ReportCommand),
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Policy(cmd) => policy::run(cmd),
        Command::Serve(args) => serve::serve(&args),
        Command::CheckConfig(args) => serve::check_config(&args),
        Command::Agent(args) => agent::run(&args),
        Command::CredentialProcess(args) => credential_process::run(&args),
        Command::Login(args) => login::run(&args),
        Command::Audit(cmd) => audit::run(cmd),
        Command::Report(cmd) => report::run(cmd),
    }
}
