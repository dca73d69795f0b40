//! AssumeRole (reference 1.3, 1.5, 1.6, 6.4, 10).
//!
//! Owns: the use case, in this order — who may call it (not root, not a
//! root or federated-user session: AWS's texts), the session tags
//! (`domain::sts::tags`: at most 50, transitive keys a subset, the calling
//! session's transitive tags inherited and never overridden), the source
//! identity (set once per chain, never changed: a different value from a
//! session that has one is `AccessDenied`), the session policies and their
//! packed size, the MFA code, the trust decision (`trust`), the duration
//! (900 s up to the role's `MaxSessionDuration`, one hour when the caller
//! is itself a session — checked after authorization so an unauthorized
//! caller learns nothing about the role), then minting: the session acts
//! as the role in the role's account, `chain_depth` one more than the
//! caller's session (0 from a long-term key), MFA from this call's code
//! or else carried from the calling session ([`super::StsSettings`]).
//! A role that does not exist is refused like a trust policy that does not
//! name the caller. `ProvidedContexts` are refused: stsd trusts no context
//! provider (their assertions are AWS-signed). The role's last use is recorded (best effort).
//! May import `domain`, `service::authn`, `service::authz`,
//! `service::error`, `service::store` and the sibling modules.

use crate::domain::credential::SessionPrincipal;
use crate::domain::ids::{
    Arn, ExternalId, PrincipalKind, Region, RoleSessionName, SourceIdentity, TagKey, TagValue,
};
use crate::domain::sts::{plan_session_tags, role_session_duration};
use crate::service::authn::{Caller, Identity};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::{CredentialOwner, RoleRecord};
use crate::service::store::{Key, LastUsed, Tag, Timestamp, fetch};

use super::mfa::{self, MfaInput};
use super::session_policy::SessionPolicies;
use super::trust::{self, TrustRequest};
use super::{Minted, RoleSession, Sts};

/// AssumeRole's parameters.
#[derive(Debug)]
pub struct AssumeRole {
    /// `RoleArn`.
    pub role_arn: Arn,
    /// `RoleSessionName`.
    pub session_name: RoleSessionName,
    /// `Policy` and `PolicyArns`.
    pub policies: SessionPolicies,
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: Vec<TagKey>,
    /// `ExternalId`.
    pub external_id: Option<ExternalId>,
    /// `SerialNumber` and `TokenCode`.
    pub mfa: MfaInput,
    /// `SourceIdentity`.
    pub source_identity: Option<SourceIdentity>,
    /// The `ProviderArn` of each `ProvidedContexts` entry.
    pub provided_contexts: Vec<Arn>,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// AssumeRole: a session of `input.role_arn` for `caller`.
///
/// # Errors
///
/// `AccessDenied` (root, federated users, the trust policy or the caller's
/// policies, MFA, a changed source identity), `ValidationError`
/// (durations), `InvalidParameterValue` (tags), `MalformedPolicyDocument`,
/// `PackedPolicyTooLarge`.
pub async fn assume_role(
    sts: &Sts,
    caller: &Caller,
    authz: &AuthzCaller,
    input: AssumeRole,
) -> Result<Minted, ServiceError> {
    refuse_caller(sts, caller, &input.role_arn)?;
    refuse_contexts(&input.provided_contexts)?;
    let calling = caller.session();
    let requested: Vec<(TagKey, TagValue)> = input
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let (caller_tags, caller_transitive) = calling.map_or_else(Default::default, |s| {
        let tags = s.tags.iter().map(|t| (t.key.clone(), t.value.clone()));
        (tags.collect::<Vec<_>>(), s.transitive_tag_keys.clone())
    });
    let plan = plan_session_tags(
        &requested,
        &input.transitive_tag_keys,
        &caller_tags,
        &caller_transitive,
    )?;
    let inherited = plan
        .tags
        .get(..plan.tags.len().saturating_sub(requested.len()))
        .unwrap_or_default();
    let source_identity = source_identity(
        calling.and_then(|s| s.source_identity.as_deref()),
        input.source_identity.as_ref(),
    )?;
    let session_tags = super::session_tags(&plan);
    let role_account = input.role_arn.account_id().unwrap_or(caller.account);
    input.policies.check(&*sts.store, role_account).await?;
    let packed = input.policies.packed_size(&session_tags)?;
    let mfa_now = mfa::check(sts, caller.account, device_owner(caller), &input.mfa).await?;
    let request = TrustRequest {
        session_name: &input.session_name,
        external_id: input.external_id.as_ref(),
        tags: &input.tags,
        transitive_keys: &input.transitive_tag_keys,
        inherited_tags: inherited,
        source_identity: input.source_identity.as_ref().map(SourceIdentity::as_str),
        keeps_source_identity: source_identity.is_some(),
        mfa_now: mfa_now.is_some(),
        strict_inherited_tags: sts.settings.tag_session_for_inherited_tags,
    };
    let Some(role) = load_role(sts, &input.role_arn).await? else {
        return Err(trust::no_such_role(authz, &input.role_arn, &request));
    };
    trust::decide(authz, &role, &request)?;
    let duration = role_session_duration(
        input.duration,
        role.max_session_duration_secs,
        calling.is_some(),
    )?;
    let mfa = mfa_now.or_else(|| {
        calling
            .filter(|_| sts.settings.mfa_into_role_sessions)
            .and_then(|s| s.mfa.clone())
    });
    let session = RoleSession {
        session_name: input.session_name.to_string(),
        policies: input.policies,
        tags: session_tags,
        transitive_tag_keys: plan.transitive_keys,
        source_identity,
        mfa,
        lifetime: duration,
        // A chained session keeps its federated provider and its keys.
        provider: calling.and_then(|s| s.provider.clone()),
        chain_depth: calling.map_or(0, |s| s.chain_depth.saturating_add(1)),
        provider_keys: calling.map(|s| s.provider_keys.clone()).unwrap_or_default(),
    };
    let minted = sts
        .mint_role_session(&role, session, packed, &input.request_id)
        .await?;
    record_use(sts, caller.region.clone(), &role).await;
    Ok(minted)
}

/// Refuses root, root's GetSessionToken sessions and federated users.
fn refuse_caller(sts: &Sts, caller: &Caller, role_arn: &Arn) -> Result<(), ServiceError> {
    let root = || {
        ServiceError::new(
            ErrorCode::AccessDenied,
            "Roles may not be assumed by root accounts.",
        )
    };
    match &caller.identity {
        Identity::Root => Err(root()),
        Identity::User { .. } => Ok(()),
        Identity::Session(s) => match &s.principal {
            SessionPrincipal::Root => Err(root()),
            SessionPrincipal::FederatedUser { .. } => Err(ServiceError::new(
                ErrorCode::AccessDenied,
                format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn} because federated users cannot assume roles",
                    caller.arn(&sts.partition)
                ),
            )),
            SessionPrincipal::AssumedRole { .. } | SessionPrincipal::User { .. } => Ok(()),
        },
    }
}

/// Refuses `ProvidedContexts`: their assertions are signed by AWS's
/// trusted context providers (IAM Identity Center), which stsd cannot
/// verify, so it trusts none rather than ignore what a caller meant to
/// bind to the session.
fn refuse_contexts(providers: &[Arn]) -> Result<(), ServiceError> {
    match providers.first() {
        None => Ok(()),
        Some(arn) => Err(ServiceError::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "ProvidedContexts: {arn} is not a context provider this service trusts (stsd trusts none)."
            ),
        )),
    }
}

/// The source identity of the new session: the calling session's, which
/// a request may repeat but not change, or the requested one.
fn source_identity(
    inherited: Option<&str>,
    requested: Option<&SourceIdentity>,
) -> Result<Option<String>, ServiceError> {
    match (inherited, requested) {
        (Some(old), Some(new)) if old != new.as_str() => Err(ServiceError::new(
            ErrorCode::AccessDenied,
            format!(
                "The source identity of a role chain cannot be changed: the calling session's source identity is {old}."
            ),
        )),
        (Some(old), _) => Ok(Some(old.to_owned())),
        (None, new) => Ok(new.map(|s| s.as_str().to_owned())),
    }
}

/// Whose MFA devices the caller may use: a user's (long-term key or its
/// GetSessionToken session); `None` for role sessions.
pub(crate) fn device_owner(caller: &Caller) -> Option<CredentialOwner> {
    match &caller.identity {
        Identity::Root => Some(CredentialOwner::Root),
        Identity::User { name, .. } => Some(CredentialOwner::User(name.clone())),
        Identity::Session(s) => match &s.principal {
            SessionPrincipal::User { name, .. } => Some(CredentialOwner::User(name.clone())),
            SessionPrincipal::Root => Some(CredentialOwner::Root),
            SessionPrincipal::AssumedRole { .. } | SessionPrincipal::FederatedUser { .. } => None,
        },
    }
}

/// The role `arn` names, if it exists (the ARN exactly, path included).
pub(super) async fn load_role(sts: &Sts, arn: &Arn) -> Result<Option<RoleRecord>, ServiceError> {
    let (PrincipalKind::Role { name, .. }, Some(account)) =
        (arn.principal_kind(), arn.account_id())
    else {
        return Ok(None);
    };
    Ok(fetch::<RoleRecord>(&*sts.store, &Key::role(account, &name))
        .await?
        .map(|v| v.record)
        .filter(|r| r.arn == *arn))
}

/// Records the role's last use (`RoleLastUsed`) from `region`; a failure
/// is logged only.
pub(super) async fn record_use(sts: &Sts, region: Option<Region>, role: &RoleRecord) {
    let used = LastUsed {
        date: Timestamp::now(&*sts.clock),
        service: Some("sts".to_owned()),
        region,
    };
    if let Err(e) = sts
        .store
        .record_use(&Key::role(role.account, &role.name), used)
        .await
    {
        tracing::warn!(error = %e, "cannot record the role's last use");
    }
}
