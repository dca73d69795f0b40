//! `POST /v1/authorize`: Authorize over HTTP JSON.
//!
//! Owns: the JSON face of [`Authorizer::authorize`] for services without a
//! gRPC client — the request body (PascalCase members, unknown members
//! refused, at most the configured body size), the asker's own SigV4
//! signature (credential scope service `stsd`, body hashed as sent) or,
//! unsigned, its mTLS client certificate's principal, the
//! answer as JSON, and errors in the AWS JSON protocol's shape
//! (`{"__type": code, "message": …}` with `x-amzn-ErrorType`), their
//! statuses from the one table in `api::error`. The wire shapes are
//! documented in README "Authorize".

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Extension, Request, State};
use axum::response::{IntoResponse as _, Response};
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};

use super::HttpState;
use super::handler::{header_pairs, read_body};
use super::middleware::{LoggedAction, LoggedCode, RequestId};
use super::mtls::certificate_caller;
use super::server::Connection;
use crate::api::audit;
use crate::api::error::wire;
use crate::domain::sigv4::{Payload, RequestView};
use crate::service::authn::Caller;
use crate::service::authorize::{Answer, AuthorizeInput, ContextEntry, Decision, SignedRequest};
use crate::service::authz::Transport;
use crate::service::error::{ErrorCode, ServiceError};

use crate::api::SIGNING_NAME;

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct Body {
    request: RequestBody,
    source_ip: Option<String>,
    action: String,
    resource: String,
    resource_policy: Option<String>,
    #[serde(default)]
    service_control_policies: Vec<String>,
    #[serde(default)]
    context: Vec<ContextBody>,
    signing_service: Option<String>,
    signing_region: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct RequestBody {
    method: String,
    #[serde(default = "https")]
    scheme: String,
    #[serde(default)]
    host: String,
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: Vec<HeaderBody>,
    payload_sha256: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct HeaderBody {
    name: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct ContextBody {
    key: String,
    values: Vec<String>,
}

fn https() -> String {
    "https".to_owned()
}

/// The answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerBody<'a> {
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    principal: Option<PrincipalBody<'a>>,
    statements: Vec<StatementBody<'a>>,
    reason: &'a str,
    cache_ttl_seconds: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PrincipalBody<'a> {
    arn: &'a str,
    account: &'a str,
    user_id: &'a str,
    r#type: &'a str,
    tags: Vec<TagBody<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagBody<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementBody<'a> {
    policy: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    index: usize,
    effect: &'a str,
}

/// `POST /v1/authorize`.
pub(super) async fn authorize(
    State(state): State<Arc<HttpState>>,
    Extension(id): Extension<RequestId>,
    request: Request,
) -> Response {
    let connection = request
        .extensions()
        .get::<Connection>()
        .map(|c| c.peer.ip());
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut seen = Seen::default();
    let outcome = handle(&state, request, &mut seen).await;
    let allowed = matches!(&outcome, Ok(a) if a.decision == Decision::Allow);
    let mut audit_failed = None;
    if state.audit.wants_authorize(allowed) {
        let origin = audit::Origin {
            request_id: id.as_str(),
            source_ip: connection,
            user_agent: user_agent.as_deref(),
            partition: &state.partition,
        };
        let event = audit::authorize_event(
            origin,
            seen.asker.as_ref(),
            seen.input.as_ref(),
            outcome.as_ref(),
        );
        audit_failed = state.audit.record(event).await.err();
    }
    let mut response = match (outcome, audit_failed) {
        (_, Some(e)) | (Err(e), None) => error(&e, &id),
        (Ok(answer), None) => json(&answer),
    };
    response.extensions_mut().insert(LoggedAction("Authorize"));
    response
}

/// What the audit record needs of a request, kept as it is learnt.
#[derive(Default)]
struct Seen {
    asker: Option<Caller>,
    input: Option<AuthorizeInput>,
}

async fn handle(
    state: &HttpState,
    request: Request,
    seen: &mut Seen,
) -> Result<Answer, ServiceError> {
    let Some(authorizer) = &state.authorizer else {
        return Err(ServiceError::new(
            ErrorCode::InvalidAction,
            "Authorize is not served here",
        ));
    };
    let (parts, body) = request.into_parts();
    let body = read_body(&parts, body, state.settings.body_limit).await?;
    let headers = header_pairs(&parts);
    let view = RequestView {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &headers,
        payload: Payload::Bytes(&body),
    };
    // A SigV4 signature (header or presigned) wins; without one, the
    // connection's client certificate.
    let asker = if is_signed(&parts) {
        state
            .authenticator
            .authenticate(&view, SIGNING_NAME)
            .await?
    } else {
        certificate_caller(&state.authenticator, &parts).await?
    };
    let connection = parts.extensions.get::<Connection>();
    let transport = Transport {
        source_ip: connection.map(|c| c.peer.ip()),
        secure: connection.is_some_and(|c| c.secure),
        region: asker.region.clone(),
    };
    let input = seen.input.insert(decode(&body)?);
    let asker = seen.asker.insert(asker);
    authorizer.authorize(asker, &transport, input).await
}

/// Whether the request carries SigV4 authentication: an `Authorization`
/// header or a presigned query.
fn is_signed(parts: &http::request::Parts) -> bool {
    parts.headers.contains_key(http::header::AUTHORIZATION)
        || parts.uri.query().is_some_and(|q| {
            q.split('&').any(|p| {
                p.split('=').next().is_some_and(|k| {
                    k.eq_ignore_ascii_case("X-Amz-Algorithm")
                        || k.eq_ignore_ascii_case("X-Amz-Signature")
                })
            })
        })
}

/// The JSON body as the service's input.
fn decode(body: &[u8]) -> Result<AuthorizeInput, ServiceError> {
    let b: Body = serde_json::from_slice(body).map_err(|e| {
        ServiceError::new(
            ErrorCode::InvalidParameterValue,
            format!("The request body is not a valid Authorize request: {e}"),
        )
    })?;
    let source_ip = match b.source_ip {
        Some(text) => Some(text.parse::<IpAddr>().map_err(|_| {
            ServiceError::new(
                ErrorCode::InvalidParameterValue,
                "SourceIp is not an IPv4 or IPv6 address",
            )
        })?),
        None => None,
    };
    let r = b.request;
    Ok(AuthorizeInput {
        request: SignedRequest {
            method: r.method,
            scheme: r.scheme,
            host: r.host,
            path: r.path,
            query: r.query,
            headers: r.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            payload_sha256: r.payload_sha256,
        },
        source_ip,
        action: b.action,
        resource: b.resource,
        resource_policy: b.resource_policy,
        service_control_policies: b.service_control_policies,
        context: b
            .context
            .into_iter()
            .map(|c| ContextEntry {
                key: c.key,
                values: c.values,
            })
            .collect(),
        signing_service: b.signing_service,
        signing_region: b.signing_region,
    })
}

/// The decision's name on the wire.
pub fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "Allow",
        Decision::ExplicitDeny => "ExplicitDeny",
        Decision::ImplicitDeny => "ImplicitDeny",
        Decision::Unauthenticated => "Unauthenticated",
    }
}

fn json(answer: &Answer) -> Response {
    let body = AnswerBody {
        decision: decision_name(answer.decision),
        error_code: answer.error_code.map(ErrorCode::as_str),
        principal: answer.principal.as_ref().map(|p| PrincipalBody {
            arn: &p.arn,
            account: &p.account,
            user_id: &p.user_id,
            r#type: &p.principal_type,
            tags: p
                .tags
                .iter()
                .map(|(k, v)| TagBody { key: k, value: v })
                .collect(),
            source_identity: p.source_identity.as_deref(),
        }),
        statements: answer
            .statements
            .iter()
            .map(|s| StatementBody {
                policy: &s.policy,
                kind: s.kind,
                sid: s.sid.as_deref(),
                index: s.index,
                effect: s.effect,
            })
            .collect(),
        reason: &answer.reason,
        cache_ttl_seconds: answer.cache_ttl.as_secs(),
    };
    json_response(http::StatusCode::OK, &body)
}

/// `body` as an `application/json` response with `status`.
fn json_response(status: http::StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(_) => http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An error in the AWS JSON protocol's shape.
fn error(e: &ServiceError, id: &RequestId) -> Response {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        #[serde(rename = "__type")]
        code: &'a str,
        message: &'a str,
    }
    let code = e.code().as_str();
    let body = ErrorBody {
        code,
        message: e.message(),
    };
    let mut response = json_response(wire(e.code()).status, &body);
    response.extensions_mut().insert(LoggedCode(code));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(code) {
        headers.insert("x-amzn-errortype", v);
    }
    if let Ok(v) = HeaderValue::from_str(id.as_str()) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}
