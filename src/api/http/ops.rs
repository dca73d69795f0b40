//! Operations endpoints: `GET /metrics`, `POST /admin/reload` and
//! `PUT /admin/log-level`.
//!
//! Owns: who may call them and their answers. `/metrics` is the
//! Prometheus text of `telemetry::metrics`; it is served to loopback peers
//! only unless `[metrics] allow_remote` is set (`[metrics] enabled =
//! false` answers 404). The admin calls are served to loopback peers
//! only, always: they change the daemon, and a caller on the host (an
//! operator's shell, a sidecar, `kubectl exec`) is what they are for.
//! `/admin/reload` does what SIGHUP does (the composition root's
//! [`Control`]) and answers whether the new configuration was applied or
//! refused, with the reason. `/admin/log-level` sets stsd's log level
//! until the next reload; the body is `trace`, `debug`, `info`, `warn` or
//! `error`.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use super::HttpState;
use super::server::Connection;

/// Reloads the configuration: implemented by the composition root.
#[async_trait]
pub trait Control: Send + Sync + fmt::Debug {
    /// Loads, checks and applies the configuration file again; the
    /// changes applied, or why the new configuration was refused (the old
    /// one then stays).
    async fn reload(&self) -> Result<Vec<String>, String>;
}

/// Who may read `/metrics` and what reloads.
#[derive(Debug, Clone, Default)]
pub struct OpsSettings {
    /// `GET /metrics` is served.
    pub metrics_enabled: bool,
    /// Non-loopback peers may read `/metrics`.
    pub metrics_allow_remote: bool,
    /// What `/admin/reload` calls; `None`: not served.
    pub control: Option<Arc<dyn Control>>,
}

/// Whether the request came from a loopback peer.
fn from_loopback(request: &Request) -> bool {
    request
        .extensions()
        .get::<Connection>()
        .is_some_and(|c| c.peer.ip().is_loopback())
}

fn text(status: StatusCode, body: String) -> Response {
    (status, body).into_response()
}

/// `GET /metrics`.
pub(super) async fn metrics(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    let ops = &state.ops;
    if !ops.metrics_enabled {
        return text(StatusCode::NOT_FOUND, "not found\n".into());
    }
    if !ops.metrics_allow_remote && !from_loopback(&request) {
        return text(
            StatusCode::FORBIDDEN,
            "/metrics is served to loopback peers only ([metrics] allow_remote)\n".into(),
        );
    }
    let mut response = crate::telemetry::metrics::render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// `POST /admin/reload`.
pub(super) async fn reload(State(state): State<Arc<HttpState>>, request: Request) -> Response {
    if !from_loopback(&request) {
        return text(
            StatusCode::FORBIDDEN,
            "admin calls are served to loopback peers only\n".into(),
        );
    }
    let Some(control) = &state.ops.control else {
        return text(StatusCode::NOT_FOUND, "reload is not available\n".into());
    };
    match control.reload().await {
        Ok(changes) => {
            let body = serde_json::json!({ "status": "reloaded", "changes": changes });
            (StatusCode::OK, axum_json(&body)).into_response()
        }
        Err(reason) => {
            let body = serde_json::json!({ "status": "refused", "reason": reason });
            (StatusCode::BAD_REQUEST, axum_json(&body)).into_response()
        }
    }
}

/// `PUT /admin/log-level` (or `POST`).
pub(super) async fn log_level(request: Request) -> Response {
    if !from_loopback(&request) {
        return text(
            StatusCode::FORBIDDEN,
            "admin calls are served to loopback peers only\n".into(),
        );
    }
    let body = match axum::body::to_bytes(request.into_body(), 64).await {
        Ok(b) => b,
        Err(_) => return text(StatusCode::PAYLOAD_TOO_LARGE, "level: too long\n".into()),
    };
    let wanted = String::from_utf8_lossy(&body).trim().to_ascii_lowercase();
    let Ok(level) = wanted.parse::<tracing::Level>() else {
        return text(
            StatusCode::BAD_REQUEST,
            "level: must be trace, debug, info, warn or error\n".into(),
        );
    };
    match crate::telemetry::set_level(level) {
        Ok(()) => {
            tracing::info!(level = %level, "log level changed");
            text(StatusCode::OK, format!("{level}\n"))
        }
        Err(e) => text(StatusCode::CONFLICT, format!("{e}\n")),
    }
}

/// A JSON body with its content type.
fn axum_json(value: &serde_json::Value) -> ([(header::HeaderName, &'static str); 1], String) {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
}
