//! The caller of an unsigned request on an mTLS connection.
//!
//! Owns: [`certificate_caller`], the one place the HTTP (`POST
//! /v1/authorize`) and gRPC transports turn the connection's client
//! certificate — mapped to its principal once, at the handshake
//! ([`Connection::client`]) — into a caller. Each transport asks it only
//! when the request carries no SigV4 signature: a signature always wins.

use crate::service::authn::{Authenticator, Caller};
use crate::service::error::ServiceError;

use super::server::Connection;

/// The caller `parts`' connection authenticates by its client
/// certificate.
///
/// # Errors
///
/// As [`Authenticator::authenticate_certificate`]:
/// `MissingAuthenticationToken` without a certificate or with an unmapped
/// one, `InvalidClientTokenId` when the mapped user is gone.
pub async fn certificate_caller(
    authenticator: &Authenticator,
    parts: &http::request::Parts,
) -> Result<Caller, ServiceError> {
    let client = parts
        .extensions
        .get::<Connection>()
        .and_then(|c| c.client.as_deref());
    authenticator.authenticate_certificate(client).await
}
