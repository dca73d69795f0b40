//! Client-side helpers for stsd's gRPC API.
//!
//! Owns: [`SigV4Layer`], a tower layer for a tonic client (over a
//! `tonic::transport::Channel` or any `GrpcService`) that signs every call
//! the way the daemon verifies it (README, "gRPC"): it buffers the request
//! body (the gRPC length-prefixed frames), hashes it into
//! `x-amz-content-sha256`, and signs method `POST`, the path, an empty
//! query, `host` (the `:authority`), `x-amz-content-sha256`, `x-amz-date`
//! and, for session credentials, `x-amz-security-token`, with
//! `domain::sigv4::client` for the scope `<date>/<region>/stsd/aws4_request`.
//! Imports `domain` (signing, secrets, clock), tower, http and tonic's body.
//!
//! ```ignore
//! let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:8433").connect().await?;
//! let signed = tower::ServiceBuilder::new()
//!     .layer(SigV4Layer::new(credentials, "us-east-1", "127.0.0.1:8433"))
//!     .service(channel);
//! let mut sts = SecurityTokenServiceClient::new(signed);
//! let me = sts.get_caller_identity(GetCallerIdentityRequest {}).await?;
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body_util::{BodyExt as _, Full};
use sha2::{Digest as _, Sha256};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::domain::clock::{Clock, SystemClock};
use crate::domain::secret::{SecretAccessKey, SessionToken};
use crate::domain::sigv4::{
    AmzDate, Payload, RequestView, SignatureLocation, SigningParams, sign_request,
};

pub use crate::api::SIGNING_NAME;

/// An error of the signing layer or of the service it wraps.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Credentials that sign: an access key and its secret, and the session
/// token of temporary credentials.
pub struct Credentials {
    /// `AKIA…` or `ASIA…`.
    pub access_key_id: String,
    /// The secret.
    pub secret: SecretAccessKey,
    /// The session token, for `ASIA…` keys.
    pub session_token: Option<SessionToken>,
}

/// Signs every request of the service it wraps (see the module docs).
#[derive(Clone)]
pub struct SigV4Layer {
    signer: Arc<Signer>,
}

/// The service [`SigV4Layer`] makes.
#[derive(Clone)]
pub struct SigV4<S> {
    inner: S,
    signer: Arc<Signer>,
}

struct Signer {
    credentials: Credentials,
    region: String,
    authority: String,
    clock: Arc<dyn Clock>,
}

/// Why a request could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The body could not be read.
    #[error("cannot read the request body: {0}")]
    Body(BoxError),
    /// SigV4 refused the request or time.
    #[error("cannot sign the request: {0}")]
    Sigv4(String),
    /// A signed value is not a valid header value.
    #[error("a signed header value is not valid in HTTP")]
    Header,
}

// === impl Credentials ===

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("session_token", &self.session_token.is_some())
            .finish_non_exhaustive()
    }
}

// === impl SigV4Layer ===

impl SigV4Layer {
    /// Signs with `credentials` for `region`; `authority` is the `:authority`
    /// (host and port) the channel sends — used when a request's URI has
    /// none, which is the case for tonic clients over a `Channel`.
    pub fn new(credentials: Credentials, region: &str, authority: &str) -> Self {
        Self::with_clock(credentials, region, authority, Arc::new(SystemClock))
    }

    /// As [`SigV4Layer::new`], reading the time from `clock`.
    pub fn with_clock(
        credentials: Credentials,
        region: &str,
        authority: &str,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            signer: Arc::new(Signer {
                credentials,
                region: region.to_owned(),
                authority: authority.to_owned(),
                clock,
            }),
        }
    }
}

impl fmt::Debug for SigV4Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Layer")
            .field("access_key_id", &self.signer.credentials.access_key_id)
            .field("region", &self.signer.region)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for SigV4Layer {
    type Service = SigV4<S>;

    fn layer(&self, inner: S) -> SigV4<S> {
        SigV4 {
            inner,
            signer: Arc::clone(&self.signer),
        }
    }
}

// === impl SigV4 ===

impl<S> fmt::Debug for SigV4<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4").finish_non_exhaustive()
    }
}

impl<S> Service<http::Request<Body>> for SigV4<S>
where
    S: Service<http::Request<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The ready service goes with the call; a clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let signer = Arc::clone(&self.signer);
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| SignError::Body(e.into()))?
                .to_bytes();
            signer.sign(&mut parts, &body)?;
            let request = http::Request::from_parts(parts, Body::new(Full::new(body)));
            inner.call(request).await.map_err(Into::into)
        })
    }
}

// === impl Signer ===

impl Signer {
    /// Adds `x-amz-content-sha256`, `x-amz-date`, `x-amz-security-token`
    /// and `authorization` to `parts`.
    fn sign(&self, parts: &mut http::request::Parts, body: &[u8]) -> Result<(), SignError> {
        let authority = parts
            .uri
            .authority()
            .map_or(self.authority.as_str(), |a| a.as_str())
            .to_owned();
        let digest = data_encoding::HEXLOWER.encode(&Sha256::digest(body));
        let headers = [
            ("host", authority.as_str()),
            ("x-amz-content-sha256", digest.as_str()),
        ];
        let view = RequestView {
            method: "POST",
            path: parts.uri.path(),
            query: "",
            headers: &headers,
            payload: Payload::Bytes(body),
        };
        let timestamp = AmzDate::from_unix_secs(self.clock.now_secs())
            .ok_or_else(|| SignError::Sigv4("the clock is out of range".into()))?;
        let params = SigningParams {
            access_key_id: &self.credentials.access_key_id,
            secret: &self.credentials.secret,
            security_token: self.credentials.session_token.as_ref(),
            region: &self.region,
            service: SIGNING_NAME,
            timestamp,
            location: SignatureLocation::Headers,
            normalize_path: true,
        };
        let signed = sign_request(&view, &params).map_err(|e| SignError::Sigv4(e.to_string()))?;
        let mut add = |name: &'static str, value: &str| {
            let value = http::HeaderValue::from_str(value).map_err(|_| SignError::Header)?;
            parts.headers.insert(name, value);
            Ok::<_, SignError>(())
        };
        add("x-amz-content-sha256", &digest)?;
        for (name, value) in &signed.headers {
            add(name, value)?;
        }
        Ok(())
    }
}
