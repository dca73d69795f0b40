//! Per-request plumbing around every route.
//!
//! Owns: [`RequestId`] (a UUID v4 per request, in the `x-amzn-RequestId`
//! header, the log span and the response body), the request timeout (an
//! AWS `ServiceUnavailable` error when it elapses), and the one log line
//! per request: request id, method, path (never the query, which may
//! carry a presigned signature or session token), action, error code,
//! status and latency. The action and the code reach it as response
//! extensions ([`LoggedAction`], [`LoggedCode`]) rather than by recording
//! them into the span, and the line is its own event outside the span:
//! recording into a span makes the JSON formatter re-serialize the span's
//! fields, and an event inside it re-parses them — work every request
//! would pay for one line.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Instrument as _;

use super::HttpState;
use super::render::{self, Format};
use crate::api::error::{GRPC_ERROR_TYPE, grpc_response};
use crate::service::error::{ErrorCode, ServiceError};

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

/// The action a request was routed to, for the request's log line.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoggedAction(pub(super) &'static str);

/// The AWS error code a request was answered with, for its log line.
#[derive(Debug, Clone, Copy)]
pub(super) struct LoggedCode(pub(super) &'static str);

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

// === impl RequestId ===

impl RequestId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string().into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A shared copy of the text.
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a request or response is gRPC (`application/grpc`, with or
/// without a `+proto` suffix).
pub(crate) fn is_grpc(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// Wraps every request: id, span, timeout, log line, id header.
pub(super) async fn around(
    State(state): State<Arc<HttpState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = RequestId::new();
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let format = Format::of(request.headers());
    let grpc = is_grpc(request.headers());
    let started = tokio::time::Instant::now();
    let timeout = state.settings.request_timeout;
    let mut response = async {
        match tokio::time::timeout(timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                let err =
                    ServiceError::new(ErrorCode::ServiceUnavailable, "The request timed out.");
                if grpc {
                    grpc_response(&err, id.as_str())
                } else {
                    render::error(None, &err, id.as_str(), format)
                }
            }
        }
    }
    .instrument(span.clone())
    .await;
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let status = response.status().as_u16();
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let action = response.extensions().get::<LoggedAction>().map(|a| a.0);
    let code = response.extensions().get::<LoggedCode>().map(|c| c.0);
    // A gRPC failure answers in headers only (trailers-only): its AWS code
    // is the `x-amzn-errortype` header.
    let grpc_code = grpc
        .then(|| response.headers().get(GRPC_ERROR_TYPE))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let code = code.or(grpc_code.as_deref());
    let (method, path, id) = (method.as_str(), path.as_str(), id.as_str());
    if status >= 500 {
        tracing::warn!(
            request_id = id,
            method,
            path,
            action,
            code,
            status,
            elapsed_ms,
            "request failed"
        );
    } else {
        tracing::info!(
            request_id = id,
            method,
            path,
            action,
            code,
            status,
            elapsed_ms,
            "request"
        );
    }
    response
}
