//! The single integration-test binary (house style 20).
//!
//! Every test starts the real `stsd` binary (`stsd serve` on
//! `127.0.0.1:0`, a fresh data directory, no inherited `STSD_*`
//! variables) through [`daemon::Daemon`], talks to it over real sockets,
//! and stops it by PID. The AWS CLI test runs when `aws` is installed.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test helpers fail the test loudly; clippy.toml's allow-*-in-tests covers #[test] functions only"
)]

mod agent;
mod agent_mtls;
mod authorize;
mod client;
mod daemon;
mod grpc;
mod grpc_authorize;
mod grpc_mtls;
mod grpc_tls;
mod iam_details;
mod iam_mfa;
mod iam_roles;
mod iam_users;
mod lifecycle;
mod redis_server;
mod redis_store;
mod saml;
mod sdk_agent;
mod sdk_iam;
mod sdk_sts;
mod sdk_web_identity;
mod serve;
mod sessions;
mod store;
mod sts_actions;
