//! Per-request plumbing around every route.
//!
//! Owns: [`RequestId`] (a UUID v4 per request, in the `x-amzn-RequestId`
//! header, the log span and the response body), the request timeout (an
//! AWS `ServiceUnavailable` error when it elapses), and the one log line
//! per request: method, path (never the query, which may carry a presigned
//! signature or session token), action, error code, status and latency.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Instrument as _;
use tracing::field::Empty;

use super::HttpState;
use super::render::{self, Format};
use crate::service::error::{ErrorCode, ServiceError};

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

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

/// Wraps every request: id, span, timeout, log line, id header.
pub(super) async fn around(
    State(state): State<Arc<HttpState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let id = RequestId::new();
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        action = Empty,
        code = Empty,
    );
    let format = Format::of(request.headers());
    let started = tokio::time::Instant::now();
    let timeout = state.settings.request_timeout;
    let mut response = async {
        match tokio::time::timeout(timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                let err =
                    ServiceError::new(ErrorCode::ServiceUnavailable, "The request timed out.");
                render::error(None, &err, id.as_str(), format)
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
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, elapsed_ms, "request failed");
        } else {
            tracing::info!(status, elapsed_ms, "request");
        }
    });
    response
}
