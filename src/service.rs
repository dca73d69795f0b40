//! Use cases of stsd, one per file.
//!
//! Owns: the operations transports call — they take and return domain types
//! and carry AWS error codes in their error enums. May import `domain`; never
//! a transport (axum, tonic) or storage crate (redb, redis). Async is allowed
//! here; the domain stays synchronous.

pub mod audit;
pub mod authn;
pub mod authorize;
pub mod authz;
pub mod entropy;
pub mod error;
pub mod get_caller_identity;
pub mod iam;
pub mod limits;
pub mod policy_cache;
pub mod session_keys;
pub mod sessions;
pub mod simulate_policy;
pub mod sso;
pub mod store;
pub mod sts;
pub mod vending;
