//! Adapters: implementations of the `service` ports over real storage.
//!
//! Owns: one module per backend. [`memory`] keeps everything in process
//! (tests, development); [`embedded`] keeps it in one redb file in the data
//! directory (the default). Both implement every port of
//! `service::store` and pass `service::store::conformance`.
//!
//! May import `service` and `domain`, and storage and runtime crates
//! (redb, tokio, parking_lot); never `api`.

pub mod embedded;
pub mod memory;
