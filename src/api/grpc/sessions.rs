//! `stsd.v1.Sessions`: revoke issued sessions, and list who holds them.
//!
//! Owns: [`SessionsService`] — converting `RevokeRequest` into a
//! [`RevokeTarget`] (ARNs, key ids and source identities parsed, each
//! refusal `InvalidParameterValue` naming the field; a missing target
//! `MissingParameter`), `ListRequest` into a [`SessionFilter`], calling
//! [`Sessions`] for the authenticated caller (its policies from the
//! identity cache), and the results back into messages.

use std::sync::Arc;

use prost_types::Timestamp;
use tonic::{Request, Response, Status};

use super::proto::v1 as pb;
use super::proto::v1::sessions_server::Sessions as SessionsRpc;
use super::sts::Context;
use crate::api::audit;
use crate::api::error::grpc_status;
use crate::domain::audit::format_time;
use crate::domain::ids::Arn;
use crate::domain::sessions::{IssuedSession, SessionFilter};
use crate::service::audit::Audit;
use crate::service::authz::{AuthzCaller, IdentityCache};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::sessions::{RevokeTarget, Sessions};
use serde_json::{Map, Value, json};

/// The service.
#[derive(Debug, Clone)]
pub(super) struct SessionsService {
    sessions: Arc<Sessions>,
    identities: Arc<IdentityCache>,
    audit: Arc<Audit>,
}

impl SessionsService {
    pub(super) fn new(
        sessions: Arc<Sessions>,
        identities: Arc<IdentityCache>,
        audit: Arc<Audit>,
    ) -> Self {
        Self {
            sessions,
            identities,
            audit,
        }
    }

    async fn authz(&self, cx: &Context) -> Result<AuthzCaller, ServiceError> {
        let s = &self.sessions;
        AuthzCaller::load_cached(
            &self.identities,
            &*s.store,
            &*s.clock,
            &s.partition,
            cx.caller()?,
            &cx.transport,
        )
        .await
    }
}

#[tonic::async_trait]
impl SessionsRpc for SessionsService {
    async fn revoke(
        &self,
        request: Request<pb::RevokeRequest>,
    ) -> Result<Response<pb::RevokeResponse>, Status> {
        let cx = Context::of(&request);
        let parameters = self
            .audit
            .enabled()
            .then(|| revoke_parameters(request.get_ref()));
        let result = async {
            let target = revoke_target(request.into_inner())?;
            let caller = self.authz(&cx).await?;
            let rule = self.sessions.revoke(&caller, target).await?;
            Ok(pb::RevokeResponse {
                revocation_id: rule.id.to_string(),
                effective_at: Some(timestamp(rule.issued_before)),
            })
        }
        .await;
        if self.audit.enabled() {
            let origin = audit::Origin {
                request_id: cx.id.as_str(),
                source_ip: cx.transport.source_ip,
                user_agent: cx.user_agent.as_deref(),
                partition: &self.sessions.partition,
            };
            let outcome = match &result {
                Ok(r) => Ok(Some(json!({
                    "revocationId": r.revocation_id,
                    "effectiveAt": r.effective_at.as_ref().map(|t| format_time(t.seconds)),
                }))),
                Err(e) => Err(e),
            };
            let event = audit::broker_event(
                origin,
                "RevokeSessions",
                cx.caller.as_ref(),
                parameters.flatten(),
                outcome,
            );
            if let Err(e) = self.audit.record(event).await {
                return Err(grpc_status(&e, cx.id.as_str()));
            }
        }
        result
            .map(Response::new)
            .map_err(|e: ServiceError| grpc_status(&e, cx.id.as_str()))
    }

    async fn list(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResponse>, Status> {
        let cx = Context::of(&request);
        let result = async {
            let m = request.into_inner();
            let filter = session_filter(m.filter)?;
            let max = match m.max_items {
                0 => None,
                n => Some(
                    u32::try_from(n)
                        .map_err(|_| invalid("MaxItems", "must be between 1 and 1000"))?,
                ),
            };
            let marker = (!m.page_token.is_empty()).then_some(m.page_token.as_str());
            let caller = self.authz(&cx).await?;
            let page = self.sessions.list(&caller, filter, marker, max).await?;
            Ok(pb::ListResponse {
                sessions: page.sessions.iter().map(session_message).collect(),
                next_page_token: page.marker.unwrap_or_default(),
            })
        }
        .await;
        result
            .map(Response::new)
            .map_err(|e: ServiceError| grpc_status(&e, cx.id.as_str()))
    }
}

fn invalid(field: &str, why: &str) -> ServiceError {
    ServiceError::new(ErrorCode::InvalidParameterValue, format!("{field} {why}"))
}

fn arn(field: &str, text: &str) -> Result<Arn, ServiceError> {
    text.parse()
        .map_err(|_| invalid(field, "is not a valid ARN"))
}

/// Unix seconds of `t`; before the epoch is refused.
fn seconds(field: &str, t: Option<Timestamp>) -> Result<Option<u64>, ServiceError> {
    t.map(|t| u64::try_from(t.seconds).map_err(|_| invalid(field, "is before 1970")))
        .transpose()
}

fn timestamp(secs: u64) -> Timestamp {
    Timestamp {
        seconds: i64::try_from(secs).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

/// The request as the audit record's `requestParameters`.
fn revoke_parameters(m: &pb::RevokeRequest) -> Option<Value> {
    use pb::revoke_request::Target;
    let time = |t: &Timestamp| Value::from(format_time(t.seconds));
    let mut p = Map::new();
    match &m.target {
        Some(Target::AccessKeyId(id)) => p.insert("accessKeyId".into(), Value::from(id.clone())),
        Some(Target::RoleArn(a)) => p.insert("roleArn".into(), Value::from(a.clone())),
        Some(Target::SourceIdentity(s)) => {
            p.insert("sourceIdentity".into(), Value::from(s.clone()))
        }
        Some(Target::FederatedSubject(s)) => p.insert(
            "federatedSubject".into(),
            json!({"provider": s.provider, "subject": s.subject}),
        ),
        Some(Target::AllIssuedBefore(t)) => p.insert("allIssuedBefore".into(), time(t)),
        None => None,
    };
    if let Some(t) = &m.issued_before {
        p.insert("issuedBefore".into(), time(t));
    }
    (!p.is_empty()).then_some(Value::Object(p))
}

/// The message as a revocation target.
fn revoke_target(m: pb::RevokeRequest) -> Result<RevokeTarget, ServiceError> {
    use pb::revoke_request::Target;
    let before = seconds("IssuedBefore", m.issued_before)?;
    Ok(match m.target {
        Some(Target::AccessKeyId(id)) => RevokeTarget::Session {
            access_key_id: id
                .parse()
                .map_err(|_| invalid("AccessKeyId", "is not an access key id"))?,
        },
        Some(Target::RoleArn(text)) => RevokeTarget::Role {
            role_arn: arn("RoleArn", &text)?,
            issued_before: before,
        },
        Some(Target::SourceIdentity(text)) => RevokeTarget::SourceIdentity {
            source_identity: text
                .parse()
                .map_err(|_| invalid("SourceIdentity", "is not a valid source identity"))?,
            issued_before: before,
        },
        Some(Target::FederatedSubject(s)) => RevokeTarget::Subject {
            provider_arn: arn("FederatedSubject.Provider", &s.provider)?,
            subject: s.subject,
            issued_before: before,
        },
        Some(Target::AllIssuedBefore(t)) => RevokeTarget::Account {
            issued_before: seconds("AllIssuedBefore", Some(t))?,
        },
        None => {
            return Err(ServiceError::new(
                ErrorCode::MissingParameter,
                "Target: one of AccessKeyId, RoleArn, SourceIdentity, FederatedSubject or AllIssuedBefore is required",
            ));
        }
    })
}

/// The message's filter.
fn session_filter(f: Option<pb::list_request::Filter>) -> Result<SessionFilter, ServiceError> {
    use pb::list_request::Filter;
    let mut filter = SessionFilter::default();
    match f {
        Some(Filter::RoleArn(text)) => filter.role_arn = Some(arn("RoleArn", &text)?),
        Some(Filter::PrincipalArn(text)) => {
            filter.principal_arn = Some(arn("PrincipalArn", &text)?);
        }
        Some(Filter::SourceIdentity(text)) => filter.source_identity = Some(text),
        Some(Filter::Subject(s)) => {
            filter.provider = Some(s.provider);
            filter.subject = Some(s.subject);
        }
        None => {}
    }
    Ok(filter)
}

fn session_message(s: &IssuedSession) -> pb::Session {
    pb::Session {
        access_key_id: s.access_key_id.to_string(),
        principal_arn: s.principal_arn.to_string(),
        role_arn: s
            .role_arn
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        source_identity: s.source_identity.clone().unwrap_or_default(),
        subject: s.subject.clone().unwrap_or_default(),
        issued: Some(timestamp(s.issued_at)),
        expires: Some(timestamp(s.expires_at)),
        request_id: s.request_id.clone(),
    }
}
