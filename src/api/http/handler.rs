//! The Query API handler: `GET /` and `POST /`.
//!
//! Owns: reading the body within the limit (413 beyond it), decoding the
//! parameters (form body over URL query), routing by `Version` and `Action`,
//! authenticating signed actions against the raw request (method, path,
//! query, headers and body exactly as received), calling the handler,
//! sealing a denial's decision record into its message, and rendering.
//! Unsigned actions skip authentication entirely.

use std::sync::Arc;

use axum::extract::{Extension, Request, State};
use axum::response::Response;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::request::Parts;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};

use super::HttpState;
use super::limits;
use super::middleware::{LoggedAction, RequestId};
use super::render::{self, Format};
use super::server::Connection;
use crate::api::audit::{self, Draft};
use crate::api::dispatch::{Auth, Call, Service};
use crate::api::query::Params;
use crate::domain::sigv4::{Payload, RequestView};
use crate::service::authz::Transport;
use crate::service::error::{ErrorCode, ServiceError};

/// A failure and the service whose namespace the error envelope uses.
type Failure = (Option<Service>, ServiceError);

/// `GET /` and `POST /`.
pub(super) async fn query_api(
    State(state): State<Arc<HttpState>>,
    Extension(id): Extension<RequestId>,
    request: Request,
) -> Response {
    let format = Format::of(request.headers());
    let mut action = None;
    let mut draft = None;
    let result = handle(&state, &id, format, request, &mut action, &mut draft).await;
    let mut response = match result {
        Ok(response) => response,
        Err((service, err)) => {
            if let Some(d) = draft.as_mut().filter(|d| d.error.is_none()) {
                d.failed(&err);
            }
            render::error(service, &err, id.as_str(), format)
        }
    };
    // The record of a routed action; in sync mode a failed write replaces
    // the answer, so nothing is acknowledged without its record.
    if let Some(d) = draft {
        let service = Some(match d.source {
            crate::domain::audit::EventSource::Iam => Service::Iam,
            _ => Service::Sts,
        });
        if let Err(e) = state.audit.record(d.into_event(id.as_str())).await {
            response = render::error(service, &e, id.as_str(), format);
        }
    }
    if let Some(action) = action {
        response.extensions_mut().insert(LoggedAction(action));
    }
    response
}

/// Runs the request; sets `action` once the request is routed.
async fn handle(
    state: &HttpState,
    id: &RequestId,
    format: Format,
    request: Request,
    action: &mut Option<&'static str>,
    draft: &mut Option<Draft>,
) -> Result<Response, Failure> {
    let (parts, body) = request.into_parts();
    let body = read_body(&parts, body, state.settings.body_limit)
        .await
        .map_err(|e| (None, e))?;
    let query = parts.uri.query().unwrap_or_default();
    let form = if is_form(&parts) { &body[..] } else { &[][..] };
    let params = Params::decode(query.as_bytes(), form, &state.settings.query_limits)
        .map_err(|e| (None, e))?;
    let named = params.version().and_then(Service::from_version);
    let route = state
        .dispatcher
        .route(&params)
        .map_err(|e| (named, e))?
        .clone();
    *action = Some(route.action);
    let fail = |e| (Some(route.service), e);
    let connection = parts.extensions.get::<Connection>();
    if state.audit.enabled() {
        let mut d = Draft::new(route.service, route.action, params.pairs());
        d.source_ip = connection.map(|c| c.peer.ip());
        d.user_agent = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        *draft = Some(d);
    }

    let connection = parts.extensions.get::<Connection>();
    let source = connection.map(|c| c.peer.ip());
    let limits = state.limits.as_deref();
    let caller = match route.auth {
        Auth::Unsigned => None,
        Auth::Signed => {
            let headers = header_pairs(&parts);
            let view = RequestView {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query,
                headers: &headers,
                payload: Payload::Bytes(&body),
            };
            if let Some(limits) = limits {
                limits
                    .check_authentication(source, || limits::access_key_of(&view))
                    .map_err(fail)?;
            }
            let caller = state
                .authenticator
                .authenticate(&view, route.service.signing_name())
                .await
                .map_err(|e| {
                    if let Some(limits) = limits {
                        limits::authentication_failed(limits, &e, source, &view);
                    }
                    fail(e)
                })?;
            if let Some(d) = draft.as_mut() {
                d.caller(&caller, &state.partition);
            }
            Some(caller)
        }
    };
    if let Some(limits) = limits {
        limits::before_call(limits, route.action, caller.as_ref(), source).map_err(fail)?;
    }
    let mfa_key = limits
        .and(caller.as_ref())
        .and_then(|c| c.access_key_id.clone());
    let transport = Transport {
        source_ip: source,
        secure: connection.is_some_and(|c| c.secure),
        region: caller.as_ref().and_then(|c| c.region.clone()),
    };
    let call = Call {
        params,
        caller,
        request_id: id.shared(),
        transport,
    };
    let result = route.call(call).await.map_err(|e| {
        if let Some(d) = draft.as_mut() {
            d.failed(&e);
        }
        if let Some(limits) = limits {
            limits::after_call(limits, &e, source, mfa_key.as_ref());
        }
        let e = match &state.messages {
            Some(messages) => messages.encode(e),
            None => e,
        };
        fail(e)
    })?;
    if let Some(d) = draft.as_mut() {
        d.result = Some(audit::result_value(&result));
    }
    Ok(render::success(&route, &result, id.as_str(), format))
}

/// The body, at most `limit` bytes.
pub(crate) async fn read_body(
    parts: &Parts,
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, ServiceError> {
    let too_large = || {
        ServiceError::new(
            ErrorCode::RequestEntityTooLarge,
            format!("The request body is larger than the limit of {limit} bytes."),
        )
    };
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(_) => Err(ServiceError::new(
            ErrorCode::InvalidParameterValue,
            "The request body could not be read.",
        )),
    }
}

/// Whether the body is a form: no content type, or
/// `application/x-www-form-urlencoded` with any parameters.
fn is_form(parts: &Parts) -> bool {
    match parts.headers.get(CONTENT_TYPE).map(|v| v.to_str()) {
        None => true,
        Some(Ok(v)) => {
            let media = v.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        }
        Some(Err(_)) => false,
    }
}

/// Every header as text, in arrival order, for SigV4. Values that are not
/// UTF-8 are left out (a signed one then fails verification). HTTP/2 has
/// no `host` header; its `:authority` stands in, as SigV4 requires.
pub(crate) fn header_pairs(parts: &Parts) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| {
            std::str::from_utf8(v.as_bytes())
                .ok()
                .map(|v| (n.as_str(), v))
        })
        .collect();
    if let Some(authority) = parts
        .uri
        .authority()
        .filter(|_| !parts.headers.contains_key(HOST))
    {
        pairs.push(("host", authority.as_str()));
    }
    pairs
}
