//! Transports.
//!
//! Owns: the AWS Query API over HTTP(S) ([`http`]), the gRPC services on
//! the same listener ([`grpc`]), its request decoding
//! ([`query`]) and response encoding ([`xml`]), the action table
//! ([`dispatch`]), the STS actions ([`sts`]), the IAM actions ([`iam`]), and
//! THE error-to-wire table ([`error`]), and the sign-in pages ([`web`]). May import `service` and `domain`;
//! never `adapters` or `config` (the composition root converts
//! configuration into the settings types defined here).

/// The SigV4 signing name (credential-scope service) of stsd's own APIs:
/// gRPC and `POST /v1/authorize`.
pub const SIGNING_NAME: &str = "stsd";

pub mod audit;
pub mod dispatch;
pub mod error;
pub mod grpc;
pub mod http;
pub mod iam;
pub mod query;
pub mod sts;
pub mod web;
pub mod xml;
