//! The AWS Query API over HTTP(S).
//!
//! Owns: the axum router (`GET /` and `POST /` for STS and IAM, `/healthz`,
//! `/readyz`), its shared [`HttpState`], per-request plumbing (request id in
//! `x-amzn-RequestId` and the log span, timeout, one log line per request;
//! `middleware`), the Query handler (`handler`), response rendering and
//! content negotiation (`render`), the listener with TLS, connection cap
//! and graceful drain ([`server`], [`tls`]), and readiness ([`health`]).
//! Every error a handler returns passes one place (`handler`) that seals
//! a policy denial's record into its message.
//! Logs never carry bodies, query strings, credentials or signatures.
//!
//! May import `service`, `domain` and the api's own modules; never
//! `adapters` or `config`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};

use super::dispatch::Dispatcher;
use super::query;
use crate::domain::ids::Partition;
use crate::service::audit::Audit;
use crate::service::authn::Authenticator;
use crate::service::authorize::Authorizer;
use crate::service::sts::auth_message::MessageSealer;

pub mod authorize;
mod handler;
pub mod health;
mod limits;
mod middleware;
pub mod mtls;
pub mod ops;
mod render;
pub mod server;
pub mod tls;

pub(crate) use handler::{header_pairs, read_body};
pub use health::{Readiness, State as ReadinessState};
pub use middleware::{REQUEST_ID_HEADER, RequestId};
pub use server::{ServerSettings, serve};

/// What every request handler shares.
#[derive(Debug)]
pub struct HttpState {
    /// The action table.
    pub dispatcher: Dispatcher,
    /// Verifies signed requests (shared with Authorize).
    pub authenticator: Arc<Authenticator>,
    /// The Authorize service (`POST /v1/authorize`); `None`: not served.
    pub authorizer: Option<Arc<Authorizer>>,
    /// Whether to report ready.
    pub readiness: Readiness,
    /// Limits.
    pub settings: HttpSettings,
    /// Seals the decision record of every policy denial into its
    /// `AccessDenied` message; without it denials carry no encoded message.
    pub messages: Option<MessageSealer>,
    /// The audit trail of every routed call and Authorize answer.
    pub audit: Arc<Audit>,
    /// The partition of the ARNs in audit records.
    pub partition: Partition,
    /// The rate limits; `None`: none.
    pub limits: Option<Arc<crate::service::limits::Limiter>>,
    /// `/metrics` and the admin calls.
    pub ops: ops::OpsSettings,
}

/// Per-request limits.
#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Largest request body, in bytes; beyond it, 413.
    pub body_limit: usize,
    /// Longest a request may take; beyond it, 503.
    pub request_timeout: Duration,
    /// Bounds on decoded parameters.
    pub query_limits: query::Limits,
}

/// The router of the Query API and the health endpoints, with `extra`
/// (the gRPC services) on the same port; every route, `extra`'s too, gets
/// the request id, timeout and log line of [`middleware`].
pub fn router(state: Arc<HttpState>, extra: Router) -> Router {
    Router::new()
        .route("/", get(handler::query_api).post(handler::query_api))
        .route("/v1/authorize", post(authorize::authorize))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/admin/reload", post(ops::reload))
        .route("/admin/log-level", post(ops::log_level).put(ops::log_level))
        .fallback(health::not_found)
        .with_state(Arc::clone(&state))
        .merge(extra)
        .layer(axum::middleware::from_fn_with_state(
            state,
            middleware::around,
        ))
}

#[cfg(test)]
mod tests;
