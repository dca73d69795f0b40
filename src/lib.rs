//! stsd — a self-hosted, AWS-compatible security token service and IAM
//! policy decision point.
//!
//! # Layout
//!
//! - [`domain`] — the pure core: identifiers, secrets, clock, the shared IAM
//!   policy evaluator, SigV4, credential minting. No I/O.
//! - [`service`] — use cases (one per file) and the ports (small traits) they
//!   need from storage and the outside world, including the identity store.
//! - [`adapters`] — implementations of the ports: the embedded redb store,
//!   the Redis store shared by replicas, and the in-memory store.
//! - [`api`] — transports: the AWS Query API over HTTP(S) (STS and IAM on
//!   one endpoint), its decoding, XML/JSON rendering and the error table;
//!   the gRPC services on the same listener.
//! - [`client`] — client-side helpers: the SigV4 signing layer for tonic
//!   clients of the gRPC API. Imports `domain` only.
//! - [`config`] — the configuration file, environment overrides and
//!   secrets (master key, root credentials).
//! - [`app`] — the composition root: builds everything, owns start-up and
//!   graceful shutdown.
//! - [`agent`] — `stsd agent`: credential vending for workloads
//!   (container-credentials endpoint, IMDSv2), a client of the broker.
//! - [`telemetry`] — logging setup (level changeable at run time) and the
//!   Prometheus metrics registry.
//! - [`cli`] — the `stsd` command line (`serve`, `check-config`, `policy`).
//!
//! # Dependency rule
//!
//! `domain` ← `service` ← {`adapters`, `api`} ← `app` ← `main`/`cli`.
//! `domain` imports nothing async and no transport or storage crate;
//! `adapters` and `api` never import each other; `client` imports only
//! `domain`.
//!
//! # Feature flags
//!
//! - `test-util` — test helpers (fixed clocks, in-memory adapters). No
//!   security check is ever behind a feature.

pub mod adapters;
pub mod agent;
pub mod api;
pub mod app;
pub mod cli;
pub mod client;
pub mod config;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod service;
pub mod telemetry;
