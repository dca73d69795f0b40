//! `stsd.v1.SecurityTokenService`: the STS actions over gRPC.
//!
//! Owns: [`StsService`], one method per STS action of the Query API. Each
//! converts its message into the action's Query parameters
//! (`convert`), decodes them with the Query decoders, calls the same
//! `service::sts` operation the Query handler calls, and converts the
//! result; a failure is sealed (denials) and mapped by
//! `api::error::grpc_status`, exactly once.

use std::future::Future;
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::GrpcState;
use super::audit::Elements;
use super::authn::GrpcCaller;
use super::convert;
use super::proto::v1 as pb;
use super::proto::v1::security_token_service_server::SecurityTokenService;
use crate::api::audit::Draft;
use crate::api::dispatch::Service;
use crate::api::error::grpc_status;
use crate::api::http::RequestId;
use crate::api::http::server::Connection;
use crate::api::sts::{decode, saml};
use crate::service::authn::Caller;
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::get_caller_identity::get_caller_identity;
use crate::service::sts::access_key_info::get_access_key_info;
use crate::service::sts::assume_role::assume_role;
use crate::service::sts::auth_message::{MAX_ENCODED_MESSAGE, decode_authorization_message};
use crate::service::sts::federation_token::get_federation_token;
use crate::service::sts::saml::assume_role_with_saml;
use crate::service::sts::session_token::get_session_token;
use crate::service::sts::web_identity::assume_role_with_web_identity;

/// The service.
#[derive(Debug, Clone)]
pub(super) struct StsService {
    state: Arc<GrpcState>,
}

/// What a method knows about its request besides the message.
pub(super) struct Context {
    pub(super) id: RequestId,
    pub(super) caller: Option<Caller>,
    pub(super) transport: Transport,
    /// The client's `User-Agent` (for the audit record).
    pub(super) user_agent: Option<String>,
}

// === impl Context ===

impl Context {
    pub(super) fn of<T>(request: &Request<T>) -> Self {
        let ext = request.extensions();
        let caller = ext.get::<GrpcCaller>().map(|c| c.0.clone());
        let connection = ext.get::<Connection>();
        Self {
            id: ext.get::<RequestId>().cloned().unwrap_or_default(),
            transport: Transport {
                source_ip: connection.map(|c| c.peer.ip()),
                secure: connection.is_some_and(|c| c.secure),
                region: caller.as_ref().and_then(|c| c.region.clone()),
            },
            caller,
            user_agent: request
                .metadata()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// The authenticated caller (the middleware refuses signed methods
    /// without one; this is the belt to its braces).
    pub(super) fn caller(&self) -> Result<&Caller, ServiceError> {
        self.caller.as_ref().ok_or_else(|| {
            ServiceError::new(
                ErrorCode::MissingAuthenticationToken,
                "Request is missing Authentication Token.",
            )
        })
    }
}

// === impl StsService ===

impl StsService {
    pub(super) fn new(state: Arc<GrpcState>) -> Self {
        Self { state }
    }

    /// Runs `op` (action `action` with the parameters of `form`), records
    /// it, and maps its failure once. In sync audit mode a record that
    /// cannot be written fails the call.
    async fn run<T: Elements>(
        &self,
        cx: &Context,
        action: &'static str,
        form: &convert::Form,
        op: impl Future<Output = Result<T, ServiceError>>,
    ) -> Result<Response<T>, Status> {
        let audit = &self.state.audit;
        let mut draft = audit.enabled().then(|| {
            let mut d = Draft::new(Service::Sts, action, form.pairs());
            d.source_ip = cx.transport.source_ip;
            d.user_agent.clone_from(&cx.user_agent);
            if let Some(caller) = &cx.caller {
                d.caller(caller, &self.state.partition);
            }
            d
        });
        let result = op.await;
        if let Some(mut d) = draft.take() {
            match &result {
                Ok(out) => d.result = Some(out.elements()),
                Err(e) => d.failed(e),
            }
            if let Err(e) = audit.record(d.into_event(cx.id.as_str())).await {
                return Err(grpc_status(&e, cx.id.as_str()));
            }
        }
        match result {
            Ok(out) => Ok(Response::new(out)),
            Err(e) => {
                let e = match &self.state.messages {
                    Some(messages) => messages.encode(e),
                    None => e,
                };
                Err(grpc_status(&e, cx.id.as_str()))
            }
        }
    }

    /// The caller with its policies loaded.
    /// Spends one `AssumeRole*` call of the caller (or source address)
    /// from `[limits] assume_role_per_principal`, as the Query API does.
    fn assume_limit(&self, cx: &Context) -> Result<(), ServiceError> {
        let Some(limits) = &self.state.limits else {
            return Ok(());
        };
        match crate::service::limits::assume_role_key(cx.caller().ok(), cx.transport.source_ip) {
            Some(key) => limits.assume_role(&key),
            None => Ok(()),
        }
    }

    async fn authz(&self, cx: &Context) -> Result<AuthzCaller, ServiceError> {
        let sts = &self.state.sts;
        AuthzCaller::load_cached(
            &sts.identities,
            &*sts.store,
            &*sts.clock,
            &sts.partition,
            cx.caller()?,
            &cx.transport,
        )
        .await
    }
}

#[tonic::async_trait]
impl SecurityTokenService for StsService {
    async fn assume_role(
        &self,
        request: Request<pb::AssumeRoleRequest>,
    ) -> Result<Response<pb::AssumeRoleResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::assume_role(request.get_ref());
        self.run(&cx, "AssumeRole", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let input = decode::assume_role(&params.root(), cx.id.as_str())?;
            self.assume_limit(&cx)?;
            let authz = self.authz(&cx).await?;
            let minted = assume_role(&state.sts, cx.caller()?, &authz, input).await?;
            Ok(pb::AssumeRoleResponse {
                credentials: Some(convert::credentials(&minted)),
                assumed_role_user: Some(convert::assumed_role_user(&minted, &state.partition)),
                packed_policy_size: convert::packed_size(&minted),
                source_identity: minted.session.source_identity.clone(),
            })
        })
        .await
    }

    async fn assume_role_with_web_identity(
        &self,
        request: Request<pb::AssumeRoleWithWebIdentityRequest>,
    ) -> Result<Response<pb::AssumeRoleWithWebIdentityResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::web_identity(request.get_ref());
        self.run(&cx, "AssumeRoleWithWebIdentity", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let input = decode::web_identity(&params.root(), cx.id.as_str())?;
            self.assume_limit(&cx)?;
            let out =
                assume_role_with_web_identity(&state.sts, &state.web, &cx.transport, input).await?;
            Ok(pb::AssumeRoleWithWebIdentityResponse {
                credentials: Some(convert::credentials(&out.minted)),
                subject_from_web_identity_token: out.subject,
                assumed_role_user: Some(convert::assumed_role_user(&out.minted, &state.partition)),
                packed_policy_size: convert::packed_size(&out.minted),
                provider: out.provider,
                audience: out.audience,
                source_identity: out.minted.session.source_identity.clone(),
            })
        })
        .await
    }

    async fn assume_role_with_saml(
        &self,
        request: Request<pb::AssumeRoleWithSamlRequest>,
    ) -> Result<Response<pb::AssumeRoleWithSamlResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::saml(request.get_ref());
        self.run(&cx, "AssumeRoleWithSAML", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let input = saml::decode_input(&params.root(), cx.id.as_str())?;
            self.assume_limit(&cx)?;
            let (minted, subject) =
                assume_role_with_saml(&state.sts, &state.saml, &cx.transport, input).await?;
            Ok(pb::AssumeRoleWithSamlResponse {
                credentials: Some(convert::credentials(&minted)),
                assumed_role_user: Some(convert::assumed_role_user(&minted, &state.partition)),
                packed_policy_size: convert::packed_size(&minted),
                subject: subject.subject,
                subject_type: subject.subject_type,
                issuer: subject.issuer,
                audience: subject.audience,
                name_qualifier: subject.name_qualifier,
                source_identity: minted.session.source_identity.clone(),
            })
        })
        .await
    }

    async fn get_session_token(
        &self,
        request: Request<pb::GetSessionTokenRequest>,
    ) -> Result<Response<pb::GetSessionTokenResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::session_token(request.get_ref());
        self.run(&cx, "GetSessionToken", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let input = decode::get_session_token(&params.root(), cx.id.as_str())?;
            let minted = get_session_token(&state.sts, cx.caller()?, input).await?;
            Ok(pb::GetSessionTokenResponse {
                credentials: Some(convert::credentials(&minted)),
            })
        })
        .await
    }

    async fn get_federation_token(
        &self,
        request: Request<pb::GetFederationTokenRequest>,
    ) -> Result<Response<pb::GetFederationTokenResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::federation_token(request.get_ref());
        self.run(&cx, "GetFederationToken", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let input = decode::get_federation_token(&params.root(), cx.id.as_str())?;
            let authz = self.authz(&cx).await?;
            let minted = get_federation_token(&state.sts, cx.caller()?, &authz, input).await?;
            let session = &minted.session;
            Ok(pb::GetFederationTokenResponse {
                credentials: Some(convert::credentials(&minted)),
                federated_user: Some(pb::FederatedUser {
                    federated_user_id: session.user_id(),
                    arn: session.arn(&state.partition).as_str().to_owned(),
                }),
                packed_policy_size: convert::packed_size(&minted),
            })
        })
        .await
    }

    async fn get_caller_identity(
        &self,
        request: Request<pb::GetCallerIdentityRequest>,
    ) -> Result<Response<pb::GetCallerIdentityResponse>, Status> {
        let cx = Context::of(&request);
        self.run(&cx, "GetCallerIdentity", &convert::Form::default(), async {
            let id = get_caller_identity(cx.caller()?, &self.state.partition);
            Ok(pb::GetCallerIdentityResponse {
                user_id: id.user_id,
                account: id.account.as_str().to_owned(),
                arn: id.arn.as_str().to_owned(),
            })
        })
        .await
    }

    async fn get_access_key_info(
        &self,
        request: Request<pb::GetAccessKeyInfoRequest>,
    ) -> Result<Response<pb::GetAccessKeyInfoResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form = convert::Form::default().scalar("AccessKeyId", &request.get_ref().access_key_id);
        self.run(&cx, "GetAccessKeyInfo", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let id = params.root().parse_required("AccessKeyId")?;
            let authz = self.authz(&cx).await?;
            let account = get_access_key_info(&state.sts, cx.caller()?, &authz, &id).await?;
            Ok(pb::GetAccessKeyInfoResponse {
                account: account.as_str().to_owned(),
            })
        })
        .await
    }

    async fn decode_authorization_message(
        &self,
        request: Request<pb::DecodeAuthorizationMessageRequest>,
    ) -> Result<Response<pb::DecodeAuthorizationMessageResponse>, Status> {
        let cx = Context::of(&request);
        let state = &self.state;
        let form =
            convert::Form::default().scalar("EncodedMessage", &request.get_ref().encoded_message);
        self.run(&cx, "DecodeAuthorizationMessage", &form.clone(), async {
            let params = form.params(&state.query_limits)?;
            let p = params.root();
            let encoded = p
                .string("EncodedMessage", 1, MAX_ENCODED_MESSAGE)?
                .ok_or_else(|| p.missing("EncodedMessage"))?;
            let authz = self.authz(&cx).await?;
            let decoded =
                decode_authorization_message(&state.sts, cx.caller()?, &authz, encoded).await?;
            Ok(pb::DecodeAuthorizationMessageResponse {
                decoded_message: decoded,
            })
        })
        .await
    }
}
