//! The pure core of stsd.
//!
//! Owns: identifiers, secrets, the clock abstraction, the policy evaluator,
//! SigV4 and credential rules, the client-certificate-to-principal mapping
//! (`client_cert`), the rules of credential vending (`vending`), console
//! passwords and the password policy (`password`), audit records and their
//! hash chain (`audit`) — everything that decides, nothing that does
//! I/O. Modules here may import only std, serde/serde_json, thiserror, time,
//! encoding and crypto crates (hmac, sha2, subtle, zeroize, ring, argon2); never
//! tokio, axum, hyper, tonic, redis or moka. `make lint` greps for them.

pub mod audit;
pub mod client_cert;
pub mod clock;
pub mod credential;
pub mod credential_report;
pub mod ids;
pub mod limits;
pub mod oidc;
pub mod password;
pub mod policy;
pub mod saml;
pub mod seal;
pub mod secret;
pub mod sessions;
pub mod sigv4;
pub mod sts;
pub mod totp;
pub mod vending;
