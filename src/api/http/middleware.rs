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

/// Request ids: a random per-process half and a counter mixed by a
/// bijection of 62 bits, so no two requests of a process share an id.
struct IdSource {
    high: u64,
    low_seed: u64,
    next: std::sync::atomic::AtomicU64,
}

static IDS: std::sync::LazyLock<IdSource> = std::sync::LazyLock::new(|| {
    let (high, low_seed) = uuid::Uuid::new_v4().as_u64_pair();
    IdSource {
        high,
        low_seed,
        next: std::sync::atomic::AtomicU64::new(0),
    }
});

impl IdSource {
    fn next(&self) -> uuid::Uuid {
        const MASK: u64 = (1 << 62) - 1;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Odd multipliers and right xor-shifts are bijections modulo 2^62.
        let mut x = (n ^ self.low_seed) & MASK;
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) & MASK;
        x ^= x >> 29;
        x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & MASK;
        x ^= x >> 32;
        uuid::Builder::from_random_bytes(u128_bytes(self.high, x)).into_uuid()
    }
}

/// The 16 bytes of `high` then `low`, big-endian.
fn u128_bytes(high: u64, low: u64) -> [u8; 16] {
    ((u128::from(high) << 64) | u128::from(low)).to_be_bytes()
}

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-amzn-requestid";

// === impl RequestId ===

impl RequestId {
    /// A fresh id: a UUID (version 4 layout) unique within the process
    /// and, through a random per-process half, across processes. Request
    /// ids are not secrets; only the per-process seed comes from the
    /// system CSPRNG, so a request costs no system call.
    pub fn new() -> Self {
        Self(IDS.next().to_string().into())
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
    record_metrics(&response, action, &path, grpc, code, started.elapsed());
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

/// Paths other than the Query API's and gRPC's that get their own
/// `action` label; every other path is `other`, so a scan of random paths
/// cannot grow the metrics without bound.
const LABELLED_PATHS: [&str; 6] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/authorize",
    "/admin/reload",
    "/admin/log-level",
];

/// Counts the request in `stsd_requests_total` and its latency, and a
/// credential-issuing action's success in `stsd_credentials_issued_total`.
fn record_metrics(
    response: &Response,
    action: Option<&'static str>,
    path: &str,
    grpc: bool,
    code: Option<&str>,
    elapsed: std::time::Duration,
) {
    use crate::telemetry::metrics::{CredentialKind as K, Outcome, metrics};
    let status = response.status().as_u16();
    // gRPC answers UNIMPLEMENTED (12) for a method it does not serve.
    let served_grpc = grpc
        && response
            .headers()
            .get("grpc-status")
            .is_none_or(|v| v.as_bytes() != b"12");
    let label = match action {
        Some(a) => a,
        None if served_grpc => crate::api::grpc::METHODS
            .iter()
            .find(|m| **m == path)
            .map_or("other", |m| m.trim_start_matches('/')),
        None => LABELLED_PATHS
            .iter()
            .find(|p| **p == path)
            .copied()
            .unwrap_or("other"),
    };
    let outcome = Outcome::of(status, code);
    metrics().request(label, outcome, elapsed);
    if outcome == Outcome::Success {
        let method = label.rsplit('/').next().unwrap_or(label);
        let kind = match method {
            "AssumeRole" => Some(K::AssumeRole),
            "AssumeRoleWithSAML" | "AssumeRoleWithSaml" => Some(K::AssumeRoleWithSaml),
            "AssumeRoleWithWebIdentity" => Some(K::AssumeRoleWithWebIdentity),
            "GetSessionToken" => Some(K::GetSessionToken),
            "GetFederationToken" => Some(K::GetFederationToken),
            "CreateAccessKey" => Some(K::AccessKey),
            _ => None,
        };
        if let Some(kind) = kind {
            metrics().credential_issued(kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{RequestId, record_metrics};

    /// A gRPC request to a path no service declares (refused before any
    /// service, so not `UNIMPLEMENTED`) counts under `other`, not under
    /// its own series: made-up paths cannot grow the series.
    #[test]
    fn grpc_paths_outside_the_services_are_labelled_other() {
        let refused = || {
            axum::response::Response::builder()
                .status(200)
                .header("grpc-status", "16")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let made_up = "/stsd.v1.Sessions/MadeUpMethodForTheMetricsTest";
        record_metrics(&refused(), None, made_up, true, None, Default::default());
        let known = "/stsd.v1.Sessions/List";
        record_metrics(&refused(), None, known, true, None, Default::default());
        let text = crate::telemetry::metrics::render();
        assert!(!text.contains("MadeUpMethodForTheMetricsTest"), "{text}");
        assert!(text.contains("stsd.v1.Sessions/List"), "{text}");
    }

    #[test]
    fn request_ids_are_distinct_version_4_uuids() {
        let ids: HashSet<String> = (0..50_000)
            .map(|_| RequestId::new().as_str().to_owned())
            .collect();
        assert_eq!(ids.len(), 50_000);
        for id in ids.iter().take(100) {
            let u = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(u.get_version_num(), 4, "{id}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }
}
