//! What AssumeRoleWithWebIdentity and AssumeRoleWithSAML share once the
//! token or assertion is verified (reference 1.3, 6.4, 7.3, 8, 9).
//!
//! Owns: [`assume_role_federated`], in this order — the provider must be
//! in the role's account; the deployment's claim mapping for the provider
//! ([`FederationSettings`]) is applied, its tags and source identity
//! overriding the token's own of the same key; the session tags
//! (`domain::sts::tags`; a bad tag from the identity is
//! `InvalidIdentityToken`: the caller cannot fix it in the request); the
//! session policies and their packed size; the trust decision: the role's
//! trust policy alone (a federated caller has no identity policies) must
//! allow `sts:AssumeRoleWith…` for a `Federated` principal naming the
//! provider ARN, with the identity's condition keys, plus
//! `sts:TagSession` when the session gets tags and `sts:SetSourceIdentity`
//! when it gets a source identity — a missing role or a refusal is
//! `AccessDenied` "Not authorized to perform sts:AssumeRoleWith…" with no
//! record (the caller is not authenticated and could not decode one);
//! the duration (900 s up to the role's maximum, never chained, then
//! capped by what the identity allows); then minting an assumed-role
//! session whose provider is the provider ARN and which keeps the keys
//! reference 7.3 says stay usable (`saml:sub`, `saml:sub_type`,
//! `saml:namequalifier`; `<issuer>:sub`, `:aud`, `:amr`, `:id`) and every
//! mapped key. May import `domain`, `service::authz`, `service::error`,
//! `service::store` and the sibling modules.

use crate::domain::clock::Clock;
use crate::domain::ids::{Arn, RoleSessionName, SourceIdentity, TagKey, TagValue};
use crate::domain::policy::{Context, Principal, PrincipalKind};
use crate::domain::sts::{ClaimMapping, StsRuleError, plan_session_tags, role_session_duration};
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::store::model::RoleRecord;

use super::assume_role::{load_role, record_use};
use super::session_policy::SessionPolicies;
use super::{Minted, RoleSession, Sts};

/// Which exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FederatedKind {
    /// AssumeRoleWithWebIdentity.
    WebIdentity,
    /// AssumeRoleWithSAML.
    Saml,
}

/// A verified web identity or SAML assertion, as the trust policy and the
/// session see it.
#[derive(Debug, Clone)]
pub struct FederatedIdentity {
    /// Which exchange.
    pub kind: FederatedKind,
    /// The IAM provider object's ARN; in the role's account.
    pub provider_arn: Arn,
    /// The prefix of the identity's condition keys: `saml`, or the
    /// issuer's host and path for OIDC.
    pub key_prefix: String,
    /// Condition keys for the trust policy, full names
    /// (`token.example.com:sub`, `saml:aud`), each with its values.
    pub keys: Vec<(String, Vec<String>)>,
    /// Every claim (OIDC) or attribute (SAML) by name, for the claim
    /// mapping.
    pub claims: Vec<(String, Vec<String>)>,
    /// Session tags the identity carries (the AWS tags claim, or
    /// `PrincipalTag:*` attributes).
    pub tags: Vec<(TagKey, TagValue)>,
    /// Transitive keys among `tags`.
    pub transitive_tag_keys: Vec<TagKey>,
    /// The source identity the identity carries.
    pub source_identity: Option<SourceIdentity>,
}

/// An exchange's request once its identity is verified.
#[derive(Debug)]
pub struct FederatedRequest {
    /// `RoleArn`.
    pub role_arn: Arn,
    /// `RoleSessionName` (SAML: from its attribute).
    pub session_name: RoleSessionName,
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// The longest session the identity allows, in seconds (SAML
    /// `SessionDuration` and `SessionNotOnOrAfter`); only shortens.
    pub max_duration: Option<u32>,
    /// `Policy` and `PolicyArns`.
    pub policies: SessionPolicies,
    /// The verified identity.
    pub identity: FederatedIdentity,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// The deployment's federation settings the core applies.
#[derive(Debug, Clone, Default)]
pub struct FederationSettings {
    /// Clock skew allowed on token and assertion times, seconds.
    pub clock_skew_secs: u64,
    /// Claim mappings by provider ARN.
    pub mappings: Vec<(Arn, ClaimMapping)>,
}

// === impl FederatedKind ===

impl FederatedKind {
    /// The action the trust policy must allow.
    pub fn action(self) -> &'static str {
        match self {
            Self::WebIdentity => "sts:AssumeRoleWithWebIdentity",
            Self::Saml => "sts:AssumeRoleWithSAML",
        }
    }

    fn principal_kind(self) -> PrincipalKind {
        match self {
            Self::WebIdentity => PrincipalKind::WebIdentity,
            Self::Saml => PrincipalKind::Saml,
        }
    }

    /// Whether the key `name` (after the prefix) stays usable on the
    /// session's own requests (reference 7.3).
    fn keeps(self, name: &str) -> bool {
        match self {
            Self::WebIdentity => matches!(name, "sub" | "aud" | "amr" | "id"),
            Self::Saml => matches!(name, "sub" | "sub_type" | "namequalifier"),
        }
    }
}

/// Mints a role session for a verified federated identity.
///
/// # Errors
///
/// `ValidationError` (a provider of another account, durations),
/// `InvalidIdentityToken` (tags or a mapped claim the identity carries
/// that break a rule), `MalformedPolicyDocument`, `PackedPolicyTooLarge`,
/// `AccessDenied` (no such role, the trust policy).
pub async fn assume_role_federated(
    sts: &Sts,
    transport: &Transport,
    request: FederatedRequest,
) -> Result<Minted, ServiceError> {
    let Prepared {
        role,
        session,
        packed,
        request_id,
    } = prepare(sts, transport, request).await?;
    let minted = sts
        .mint_role_session(&role, session, packed, &request_id)
        .await?;
    record_use(sts, transport.region.clone(), &role).await;
    Ok(minted)
}

/// Whether the identity may assume the role: every check of
/// [`assume_role_federated`], nothing minted (the browser login's role
/// picker lists the roles for which this is `Ok`).
///
/// # Errors
///
/// Those of [`assume_role_federated`].
pub async fn check_federated(
    sts: &Sts,
    transport: &Transport,
    request: FederatedRequest,
) -> Result<(), ServiceError> {
    prepare(sts, transport, request).await.map(drop)
}

/// A request that passed every check: what minting needs.
struct Prepared {
    role: RoleRecord,
    session: RoleSession,
    packed: Option<u32>,
    request_id: String,
}

/// Every check of a federated exchange, in the order of the module doc.
async fn prepare(
    sts: &Sts,
    transport: &Transport,
    request: FederatedRequest,
) -> Result<Prepared, ServiceError> {
    let FederatedRequest {
        role_arn,
        session_name,
        duration,
        max_duration,
        policies,
        identity,
        request_id,
    } = request;
    let kind = identity.kind;
    let role_account = role_arn.account_id();
    if identity.provider_arn.account_id() != role_account {
        return Err(ServiceError::new(
            ErrorCode::ValidationError,
            "Principal exists outside the account of the Role being assumed.",
        ));
    }
    let (identity, mapped_keys) = map_claims(sts, identity)?;
    let plan = plan_session_tags(&identity.tags, &identity.transitive_tag_keys, &[], &[])
        .map_err(identity_rule)?;
    let session_tags = super::session_tags(&plan);
    let Some(account) = role_account else {
        return Err(not_authorized(kind));
    };
    policies.check(&*sts.store, account).await?;
    let packed = policies.packed_size(&session_tags)?;
    let Some(role) = load_role(sts, &role_arn).await? else {
        return Err(not_authorized(kind));
    };
    decide_trust(sts, transport, &role, &session_name, &identity)?;
    let mut lifetime = role_session_duration(duration, role.max_session_duration_secs, false)?;
    if let Some(cap) = max_duration {
        lifetime = lifetime.min(cap);
    }
    let session = RoleSession {
        session_name: session_name.to_string(),
        policies,
        tags: session_tags,
        transitive_tag_keys: plan.transitive_keys,
        source_identity: identity
            .source_identity
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        mfa: None,
        lifetime,
        provider: Some(identity.provider_arn.to_string()),
        chain_depth: 0,
        provider_keys: session_keys(&identity, &mapped_keys),
    };
    Ok(Prepared {
        role,
        session,
        packed,
        request_id,
    })
}

/// Applies the provider's claim mapping: mapped tags and source identity
/// replace the identity's own of the same key; mapped keys are added and
/// their names returned.
fn map_claims(
    sts: &Sts,
    mut identity: FederatedIdentity,
) -> Result<(FederatedIdentity, Vec<String>), ServiceError> {
    let federation = sts.federation.get();
    let Some((_, mapping)) = federation
        .mappings
        .iter()
        .find(|(arn, _)| *arn == identity.provider_arn)
    else {
        return Ok((identity, Vec::new()));
    };
    let mapped = mapping
        .apply(&identity.claims, &identity.key_prefix)
        .map_err(|e| ServiceError::new(ErrorCode::InvalidIdentityToken, e.to_string()))?;
    identity
        .tags
        .retain(|(k, _)| !mapped.tags.iter().any(|(m, _)| m == k));
    identity
        .transitive_tag_keys
        .retain(|k| !mapped.tags.iter().any(|(m, _)| m == k));
    identity.tags.extend(mapped.tags);
    identity.transitive_tag_keys.extend(mapped.transitive);
    if mapped.source_identity.is_some() {
        identity.source_identity = mapped.source_identity;
    }
    let names = mapped.keys.iter().map(|(k, _)| k.clone()).collect();
    identity.keys.extend(mapped.keys);
    Ok((identity, names))
}

/// Decides `sts:AssumeRoleWith…` and its add-on actions with the role's
/// trust policy alone.
fn decide_trust(
    sts: &Sts,
    transport: &Transport,
    role: &RoleRecord,
    session_name: &RoleSessionName,
    identity: &FederatedIdentity,
) -> Result<(), ServiceError> {
    let kind = identity.kind;
    let trust = super::trust::trust_policy(role)?;
    let provider = identity.provider_arn.as_str();
    let account = role.account.to_string();
    let principal = Principal::federated(kind.principal_kind(), provider, Some(&account));
    let context = trust_context(&*sts.clock, transport, role, session_name, identity);
    let caller = AuthzCaller::federated(principal, role.account, context);
    let side = Some((&*trust, role.account));
    let resource = role.arn.as_str();
    let mut actions = vec![kind.action()];
    if !identity.tags.is_empty() {
        actions.push("sts:TagSession");
    }
    if identity.source_identity.is_some() {
        actions.push("sts:SetSourceIdentity");
    }
    for action in actions {
        caller
            .authorize_with(action, resource, side, caller.context())
            .map_err(|_| not_authorized(kind))?;
    }
    Ok(())
}

/// The context of the trust decision: the transport's keys, the
/// identity's keys, `sts:RoleSessionName`, the session tags as
/// `aws:RequestTag/*` and `aws:TagKeys`, `sts:TransitiveTagKeys`,
/// `sts:SourceIdentity`, the role's tags as `aws:ResourceTag/*`, and
/// `aws:FederatedProvider`.
fn trust_context(
    clock: &dyn Clock,
    transport: &Transport,
    role: &RoleRecord,
    session_name: &RoleSessionName,
    identity: &FederatedIdentity,
) -> Context {
    let mut c = AuthzCaller::transport_context(clock, transport);
    for (key, values) in &identity.keys {
        match values.as_slice() {
            [one] => c.insert(key, one.as_str()),
            many => c.insert(key, many.to_vec()),
        }
    }
    c.insert("aws:FederatedProvider", identity.provider_arn.as_str());
    let tags = identity.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    super::trust::insert_request_keys(
        &mut c,
        session_name,
        tags,
        &identity.transitive_tag_keys,
        identity
            .source_identity
            .as_ref()
            .map(SourceIdentity::as_str),
        Some(role),
    );
    c
}

/// The keys the session keeps: reference 7.3's and every mapped one (a
/// mapped key is the deployment's explicit choice), one entry per value.
fn session_keys(identity: &FederatedIdentity, mapped: &[String]) -> Vec<(String, String)> {
    let prefix = format!("{}:", identity.key_prefix);
    identity
        .keys
        .iter()
        .filter(|(key, _)| {
            mapped.contains(key)
                || key
                    .strip_prefix(&prefix)
                    .is_some_and(|name| identity.kind.keeps(name))
        })
        .flat_map(|(key, values)| values.iter().map(move |v| (key.clone(), v.clone())))
        .collect()
}

/// AWS's refusal of a federated exchange.
fn not_authorized(kind: FederatedKind) -> ServiceError {
    ServiceError::new(
        ErrorCode::AccessDenied,
        format!("Not authorized to perform {}", kind.action()),
    )
}

/// A tag rule broken by what the identity carries: the caller cannot fix
/// it in the request, so it is the identity that is invalid.
fn identity_rule(e: StsRuleError) -> ServiceError {
    let e = ServiceError::from(e);
    ServiceError::new(ErrorCode::InvalidIdentityToken, e.message())
}
