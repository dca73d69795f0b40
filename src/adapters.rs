//! Adapters: implementations of the `service` ports over real storage.
//!
//! Owns: one module per backend. [`memory`] keeps everything in process
//! (tests, development); [`embedded`] keeps it in one redb file in the data
//! directory (the default); [`redis`] keeps it in Redis, shared by
//! several replicas. All implement every port of `service::store` and pass
//! `service::store::conformance`.
//!
//! [`jwks`] fetches and caches the keys of OIDC providers (the
//! `IdpKeys` port of web identity).
//!
//! May import `service` and `domain`, and storage and runtime crates
//! (redb, redis, tokio, parking_lot, hyper, rustls, moka); never `api`.

pub mod audit;
pub mod embedded;
pub mod jwks;
pub mod memory;
pub mod oidc_rp;
pub mod redis;
