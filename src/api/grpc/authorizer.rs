//! `stsd.v1.Authorizer`: Authorize and Simulate over gRPC.
//!
//! Owns: [`AuthorizerService`] — converting `AuthorizeRequest` into
//! [`AuthorizeInput`] (`SourceIp` parsed, the field named when it is not
//! an address), calling [`Authorizer::authorize`] for the authenticated
//! caller, and the answer back into `AuthorizeResponse`; the same for
//! `Simulate` ([`Authorizer::simulate`]). A failure of the call itself
//! leaves through `api::error::grpc_status`; a request that does not
//! authenticate is an answer (`DECISION_UNAUTHENTICATED`), as over HTTP
//! JSON.

use std::net::IpAddr;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::proto::v1 as pb;
use super::proto::v1::authorizer_server::Authorizer as AuthorizerRpc;
use super::sts::Context;
use crate::api::audit;
use crate::api::error::grpc_status;
use crate::domain::credential::SessionPrincipal;
use crate::domain::ids::Partition;
use crate::service::audit::Audit;
use crate::service::authn::{Caller, Identity};
use crate::service::authorize::{
    Answer, AuthorizeInput, Authorizer, ContextEntry, Decision, SignedRequest, SimulateInput,
};
use crate::service::error::{ErrorCode, ServiceError};

/// The service.
#[derive(Debug, Clone)]
pub(super) struct AuthorizerService {
    authorizer: Arc<Authorizer>,
    partition: Partition,
    audit: Arc<Audit>,
}

impl AuthorizerService {
    pub(super) fn new(
        authorizer: Arc<Authorizer>,
        partition: Partition,
        audit: Arc<Audit>,
    ) -> Self {
        Self {
            authorizer,
            partition,
            audit,
        }
    }
}

#[tonic::async_trait]
impl AuthorizerRpc for AuthorizerService {
    async fn authorize(
        &self,
        request: Request<pb::AuthorizeRequest>,
    ) -> Result<Response<pb::AuthorizeResponse>, Status> {
        let cx = Context::of(&request);
        let (input, result) = match authorize_input(request.into_inner()) {
            Ok(input) => {
                let result = match cx.caller() {
                    Ok(caller) => {
                        self.authorizer
                            .authorize(caller, &cx.transport, &input)
                            .await
                    }
                    Err(e) => Err(e),
                };
                (Some(input), result)
            }
            Err(e) => (None, Err(e)),
        };
        let allowed = matches!(&result, Ok(a) if a.decision == Decision::Allow);
        if self.audit.wants_authorize(allowed) {
            let origin = audit::Origin {
                request_id: cx.id.as_str(),
                source_ip: cx.transport.source_ip,
                user_agent: cx.user_agent.as_deref(),
                partition: &self.partition,
            };
            let event =
                audit::authorize_event(origin, cx.caller.as_ref(), input.as_ref(), result.as_ref());
            if let Err(e) = self.audit.record(event).await {
                return Err(grpc_status(&e, cx.id.as_str()));
            }
        }
        result
            .map(|answer| Response::new(answer_message(&answer)))
            .map_err(|e: ServiceError| grpc_status(&e, cx.id.as_str()))
    }

    async fn simulate(
        &self,
        request: Request<pb::SimulateRequest>,
    ) -> Result<Response<pb::SimulateResponse>, Status> {
        let cx = Context::of(&request);
        let result = async {
            let caller = cx.caller()?;
            let m = request.into_inner();
            let principal_arn = match m.principal {
                Some(pb::simulate_request::Principal::PrincipalArn(arn)) => Some(arn),
                Some(pb::simulate_request::Principal::Caller(true)) => {
                    Some(caller_policy_source(caller, &self.partition)?)
                }
                Some(pb::simulate_request::Principal::Caller(false)) | None => None,
            };
            let input = SimulateInput {
                principal_arn,
                policies: m.policies,
                action: m.action,
                resource: m.resource,
                resource_policy: m.resource_policy,
                context: m.context.into_iter().map(context_entry).collect(),
            };
            let out = self
                .authorizer
                .simulate(caller, &cx.transport, input)
                .await?;
            Ok(pb::SimulateResponse {
                decision: decision(out.decision).into(),
                matched_policies: out.matched_policies,
                reason: out.reason,
                missing_context_keys: out.missing_context_keys,
            })
        }
        .await;
        result
            .map(Response::new)
            .map_err(|e: ServiceError| grpc_status(&e, cx.id.as_str()))
    }
}

/// The IAM entity whose policies stand for `caller` in a simulation: its
/// user, or its role session's role.
fn caller_policy_source(caller: &Caller, partition: &Partition) -> Result<String, ServiceError> {
    match &caller.identity {
        Identity::User { .. } => Ok(caller.arn(partition).to_string()),
        Identity::Session(s) => match &s.principal {
            SessionPrincipal::AssumedRole { role_arn, .. } => Ok(role_arn.to_string()),
            _ => Err(no_policy_source()),
        },
        Identity::Root => Err(no_policy_source()),
    }
}

fn no_policy_source() -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidInput,
        "Caller: only a user or a role session can be simulated as the caller; name PrincipalArn or pass Policies",
    )
}

fn context_entry(e: pb::ContextEntry) -> ContextEntry {
    ContextEntry {
        key: e.key,
        values: e.values,
    }
}

/// The message as the service's input.
fn authorize_input(m: pb::AuthorizeRequest) -> Result<AuthorizeInput, ServiceError> {
    let http = m.http.unwrap_or_default();
    let source_ip = if m.source_ip.is_empty() {
        None
    } else {
        Some(m.source_ip.parse::<IpAddr>().map_err(|_| {
            ServiceError::new(
                ErrorCode::InvalidParameterValue,
                "SourceIp is not an IPv4 or IPv6 address",
            )
        })?)
    };
    Ok(AuthorizeInput {
        request: SignedRequest {
            method: http.method,
            scheme: if http.scheme.is_empty() {
                "https".to_owned()
            } else {
                http.scheme
            },
            host: http.host,
            path: http.path,
            query: http.query,
            headers: http
                .headers
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect(),
            payload_sha256: http.payload_sha256,
        },
        source_ip,
        action: m.action,
        resource: m.resource,
        resource_policy: m.resource_policy,
        service_control_policies: m.service_control_policies,
        context: m.context.into_iter().map(context_entry).collect(),
        signing_service: m.expected_signing_service,
        signing_region: m.expected_signing_region,
    })
}

fn decision(d: Decision) -> pb::Decision {
    match d {
        Decision::Allow => pb::Decision::Allow,
        Decision::ExplicitDeny => pb::Decision::ExplicitDeny,
        Decision::ImplicitDeny => pb::Decision::ImplicitDeny,
        Decision::Unauthenticated => pb::Decision::Unauthenticated,
    }
}

fn kind(k: &str) -> pb::PolicyKind {
    match k {
        "identity" => pb::PolicyKind::Identity,
        "boundary" => pb::PolicyKind::PermissionsBoundary,
        "session" => pb::PolicyKind::Session,
        "resource" => pb::PolicyKind::Resource,
        "scp" => pb::PolicyKind::ServiceControl,
        "rcp" => pb::PolicyKind::ResourceControl,
        _ => pb::PolicyKind::Unspecified,
    }
}

/// The answer as the response message.
fn answer_message(a: &Answer) -> pb::AuthorizeResponse {
    pb::AuthorizeResponse {
        decision: decision(a.decision).into(),
        error_code: a
            .error_code
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        principal: a.principal.as_ref().map(|p| pb::Principal {
            arn: p.arn.clone(),
            account: p.account.clone(),
            user_id: p.user_id.clone(),
            r#type: p.principal_type.clone(),
            tags: p
                .tags
                .iter()
                .map(|(k, v)| pb::Tag {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            source_identity: p.source_identity.clone().unwrap_or_default(),
        }),
        statements: a
            .statements
            .iter()
            .map(|s| pb::Statement {
                policy: s.policy.clone(),
                kind: kind(s.kind).into(),
                sid: s.sid.clone().unwrap_or_default(),
                index: u32::try_from(s.index).unwrap_or(u32::MAX),
                effect: if s.effect == "Deny" {
                    pb::Effect::Deny
                } else {
                    pb::Effect::Allow
                }
                .into(),
            })
            .collect(),
        reason: a.reason.clone(),
        cache_ttl: Some(prost_types::Duration {
            seconds: i64::try_from(a.cache_ttl.as_secs()).unwrap_or(i64::MAX),
            nanos: 0,
        }),
    }
}
