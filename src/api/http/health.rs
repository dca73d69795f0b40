//! Liveness and readiness.
//!
//! Owns: [`Readiness`], the process's serving state shared between the
//! composition root (which flips it) and `/readyz` (which reports it), and
//! the `/healthz`, `/readyz` and not-found handlers. `/healthz` answers 200
//! whenever the process serves HTTP; `/readyz` answers 200 only between
//! "the store is open" and "shutdown began", 503 otherwise.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::extract::State as AxumState;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::HttpState;

/// The serving states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Starting: dependencies are not open yet.
    Starting,
    /// Serving.
    Ready,
    /// Shutting down: in-flight requests finish, nothing new should come.
    Draining,
}

/// The shared serving state; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicU8>);

// === impl Readiness ===

impl Readiness {
    /// A new state, [`State::Starting`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The current state.
    pub fn get(&self) -> State {
        match self.0.load(Ordering::Acquire) {
            0 => State::Starting,
            1 => State::Ready,
            _ => State::Draining,
        }
    }

    /// Marks the daemon ready, unless it is already draining.
    pub fn set_ready(&self) {
        let _ = self
            .0
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Marks the daemon draining; final.
    pub fn set_draining(&self) {
        self.0.store(2, Ordering::Release);
    }
}

/// `GET /healthz`.
pub(super) async fn healthz() -> Response {
    (StatusCode::OK, "ok\n").into_response()
}

/// `GET /readyz`.
pub(super) async fn readyz(AxumState(state): AxumState<Arc<HttpState>>) -> Response {
    match state.readiness.get() {
        State::Ready => (StatusCode::OK, "ready\n").into_response(),
        State::Starting => (StatusCode::SERVICE_UNAVAILABLE, "starting\n").into_response(),
        State::Draining => (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response(),
    }
}

/// Any other path; a gRPC request (`content-type: application/grpc…`)
/// for an unknown service or method gets gRPC's `UNIMPLEMENTED`, never an
/// HTML or XML body.
pub(super) async fn not_found(headers: http::HeaderMap) -> Response {
    if super::middleware::is_grpc(&headers) {
        return tonic::Status::unimplemented("no such gRPC service or method").into_http();
    }
    (
        StatusCode::NOT_FOUND,
        "not found; the AWS Query API is served at /\n",
    )
        .into_response()
}
