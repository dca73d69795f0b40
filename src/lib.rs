//! stsd — a self-hosted, AWS-compatible security token service and IAM
//! policy decision point.
//!
//! # Layout
//!
//! - [`domain`] — the pure core: identifiers, secrets, clock, the shared IAM
//!   policy evaluator, SigV4, credential minting. No I/O.
//! - [`service`] — use cases (one per file) and the ports (small traits) they
//!   need from storage and the outside world, including the identity store.
//! - [`adapters`] — implementations of the ports: the embedded redb store and
//!   the in-memory store.
//! - [`cli`] — the `stsd` command line.
//!
//! Transports (`api/`) and the composition root (`app`) join as the daemon
//! lands; see `DESIGN.md`.
//!
//! # Dependency rule
//!
//! `domain` ← `service` ← {`adapters`, `api`} ← `app` ← `main`/`cli`.
//! `domain` imports nothing async and no transport or storage crate;
//! `adapters` and `api` never import each other.
//!
//! # Feature flags
//!
//! - `test-util` — test helpers (fixed clocks, in-memory adapters). No
//!   security check is ever behind a feature.

pub mod adapters;
pub mod cli;
pub mod domain;
#[doc(hidden)]
pub mod fuzzing;
pub mod service;
