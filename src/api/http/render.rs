//! Turning results and errors into HTTP responses.
//!
//! Owns: content negotiation ([`Format`]: XML unless the request accepts
//! `application/json`, reference 2.4), the success and error responses, and
//! logging an error's internal cause with the request id. The status comes
//! from `api::error::wire`, never from here.

use axum::response::{IntoResponse, Response};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};

use crate::api::dispatch::{Route, Service};
use crate::api::error::wire;
use crate::api::xml::{self, XmlResponse};
use crate::service::error::ServiceError;

use super::middleware::LoggedCode;

/// The response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// `text/xml`, what every SDK parses.
    Xml,
    /// `application/json`, the legacy JSON rendering.
    Json,
}

// === impl Format ===

impl Format {
    /// JSON when an `Accept` header lists `application/json`.
    pub(super) fn of(headers: &HeaderMap) -> Self {
        let json = headers
            .get_all(ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',').any(|m| {
                    let media = m.split(';').next().unwrap_or_default().trim();
                    media.eq_ignore_ascii_case("application/json")
                })
            });
        if json { Self::Json } else { Self::Xml }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Self::Xml => HeaderValue::from_static("text/xml"),
            Self::Json => HeaderValue::from_static("application/json"),
        }
    }
}

/// The success response of `route`.
pub(super) fn success(
    route: &Route,
    result: &XmlResponse,
    request_id: &str,
    format: Format,
) -> Response {
    let body = match format {
        Format::Xml => {
            xml::render_success(route.action, route.service.namespace(), result, request_id)
        }
        Format::Json => xml::render_success_json(route.action, result, request_id),
    };
    ([(CONTENT_TYPE, format.content_type())], body).into_response()
}

/// The error response for `err`, in the namespace of `service` (STS when
/// the request named none).
pub(super) fn error(
    service: Option<Service>,
    err: &ServiceError,
    request_id: &str,
    format: Format,
) -> Response {
    let code = err.code();
    let w = wire(code);
    if let Some(cause) = err.cause() {
        tracing::error!(request_id, code = code.as_str(), cause = %cause, "internal error");
    }
    let ns = service.unwrap_or(Service::Sts).namespace();
    let body = match format {
        Format::Xml => xml::render_error(
            ns,
            w.fault.as_str(),
            code.as_str(),
            err.message(),
            request_id,
        ),
        Format::Json => {
            xml::render_error_json(w.fault.as_str(), code.as_str(), err.message(), request_id)
        }
    };
    let mut response = (w.status, [(CONTENT_TYPE, format.content_type())], body).into_response();
    response.extensions_mut().insert(LoggedCode(code.as_str()));
    response
}
