//! Who calls a gRPC method.
//!
//! Owns: [`authenticate`], the middleware in front of every gRPC route. It
//! lets the unsigned methods (AssumeRoleWithWebIdentity,
//! AssumeRoleWithSAML) through untouched, as AWS does; for every other
//! method it buffers the body (at most the body limit), and
//! - with an `Authorization` header, verifies SigV4 over the HTTP/2
//!   request: method `POST`, the path `/stsd.v1.<Service>/<Method>`, an
//!   empty query, `host` = `:authority`, the signed headers (at least
//!   `host;x-amz-content-sha256;x-amz-date`, plus `x-amz-security-token`
//!   for session credentials), and the payload hash — the lowercase hex
//!   SHA-256 of the exact request body (the gRPC length-prefixed
//!   frames), which must also be the `x-amz-content-sha256` header. The
//!   credential scope names the service [`SIGNING_NAME`] (`stsd`) and a
//!   configured region;
//! - otherwise, on a TLS connection whose client certificate was mapped
//!   to a principal at the handshake, the caller is that principal
//!   (`api::http::mtls`); a signature always wins over the certificate;
//! - otherwise refuses with `MissingAuthenticationToken` (also for a
//!   certificate mapped to no principal).
//!
//! The caller found travels to the handlers in the request's extensions
//! ([`GrpcCaller`]); the rebuilt request carries the buffered body.
//! Refusals leave as gRPC statuses (`api::error::grpc_response`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::header::AUTHORIZATION;
use sha2::{Digest as _, Sha256};

use super::GrpcState;
use crate::api::error::grpc_response;
use crate::api::http::mtls::certificate_caller;
use crate::api::http::{RequestId, header_pairs, read_body};
use crate::domain::sigv4::{Payload, RequestView};
use crate::service::authn::Caller;
use crate::service::error::{ErrorCode, ServiceError};

pub use crate::api::SIGNING_NAME;

/// The header carrying the body's SHA-256, which must be signed.
pub const CONTENT_SHA256_HEADER: &str = "x-amz-content-sha256";

/// Methods called without a signature, as in AWS.
const UNSIGNED: [&str; 2] = [
    "/stsd.v1.SecurityTokenService/AssumeRoleWithWebIdentity",
    "/stsd.v1.SecurityTokenService/AssumeRoleWithSAML",
];

/// The authenticated caller of a gRPC request; absent for the unsigned
/// methods.
#[derive(Debug, Clone)]
pub(super) struct GrpcCaller(pub(super) Caller);

/// The middleware.
pub(super) async fn authenticate(
    State(state): State<Arc<GrpcState>>,
    request: Request,
    next: Next,
) -> Response {
    let id = request
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_default();
    if UNSIGNED.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let body = match read_body(&parts, body, state.body_limit).await {
        Ok(body) => body,
        Err(e) => return grpc_response(&e, id.as_str()),
    };
    match identify(&state, &parts, &body).await {
        Ok(caller) => {
            parts.extensions.insert(GrpcCaller(caller));
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        Err(e) => {
            tracing::debug!(code = e.code().as_str(), "grpc caller refused");
            grpc_response(&e, id.as_str())
        }
    }
}

/// The caller of a signed method.
async fn identify(
    state: &GrpcState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Caller, ServiceError> {
    if parts.headers.contains_key(AUTHORIZATION) {
        return signed(state, parts, body).await;
    }
    certificate_caller(&state.authenticator, parts).await
}

/// SigV4 over the HTTP/2 request.
async fn signed(
    state: &GrpcState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Caller, ServiceError> {
    check_content_sha256(parts, body)?;
    let headers = header_pairs(parts);
    let view = RequestView {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: "",
        headers: &headers,
        payload: Payload::Bytes(body),
    };
    state.authenticator.authenticate(&view, SIGNING_NAME).await
}

/// `x-amz-content-sha256` is present once, signed, and the body's hash.
fn check_content_sha256(parts: &http::request::Parts, body: &[u8]) -> Result<(), ServiceError> {
    let mut values = parts.headers.get_all(CONTENT_SHA256_HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ServiceError::new(
            ErrorCode::IncompleteSignature,
            "gRPC requests must carry one x-amz-content-sha256 header: the hex SHA-256 of the request body.",
        ));
    };
    let signed = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("SignedHeaders=").nth(1))
        .map(|rest| rest.split([',', ' ']).next().unwrap_or_default())
        .is_some_and(|list| list.split(';').any(|h| h == CONTENT_SHA256_HEADER));
    if !signed {
        return Err(ServiceError::new(
            ErrorCode::IncompleteSignature,
            "x-amz-content-sha256 must be among the signed headers of a gRPC request.",
        ));
    }
    let digest = Sha256::digest(body);
    let expected = data_encoding::HEXLOWER.encode(&digest);
    if value.as_bytes() != expected.as_bytes() {
        return Err(ServiceError::new(
            ErrorCode::SignatureDoesNotMatch,
            "The x-amz-content-sha256 header does not match the SHA-256 of the request body.",
        ));
    }
    Ok(())
}
