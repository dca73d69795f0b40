//! Deciding an AssumeRole: the role's trust policy and the caller's own
//! policies (reference 6.3, 6.4, 7.1, 7.2).
//!
//! Owns: the request context of an AssumeRole — the caller's keys plus
//! `sts:RoleSessionName`, `sts:ExternalId`, `aws:RequestTag/*`,
//! `aws:TagKeys`, `sts:TransitiveTagKeys`, `sts:SourceIdentity`,
//! `aws:ResourceTag/*` (the role's tags, overridden by the transitive tags
//! the caller passes on) and, when this call carried a good MFA code,
//! `aws:MultiFactorAuthPresent`/`aws:MultiFactorAuthAge` — and deciding
//! every action the call needs: `sts:AssumeRole`, `sts:TagSession` when
//! tags are passed (or, with the strict setting, only inherited), and
//! `sts:SetSourceIdentity` when the session will carry a source identity.
//! Each is decided by the evaluator with the trust policy on the resource
//! side: the trust policy must allow on its own; within the account a
//! trust statement naming the caller itself (user, or this very session)
//! needs no identity-policy allow, one naming the caller's role still
//! leaves boundary and session policies in force, and one naming the
//! account only delegates; across accounts the caller's identity policies
//! must allow too. Trust policies are stored with principals as unique
//! IDs, which the evaluator matches directly (`service::iam::trust`).
//! May import `domain`, `service::authz` and `service::error`.

use crate::domain::ids::{Arn, ExternalId, RoleSessionName, TagKey};
use crate::domain::policy::{Context, Outcome, Policy, PolicyKind, Reason};
use crate::domain::sts::AuthorizationRecord;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::policy_cache;
use crate::service::store::Tag;
use crate::service::store::model::RoleRecord;

/// What the trust decision looks at, besides the role and the caller.
#[derive(Debug)]
pub struct TrustRequest<'a> {
    /// `RoleSessionName`.
    pub session_name: &'a RoleSessionName,
    /// `ExternalId`.
    pub external_id: Option<&'a ExternalId>,
    /// `Tags` of this request.
    pub tags: &'a [Tag],
    /// `TransitiveTagKeys` of this request.
    pub transitive_keys: &'a [TagKey],
    /// The transitive tags the calling session passes on.
    pub inherited_tags: &'a [(String, String)],
    /// `SourceIdentity` of this request.
    pub source_identity: Option<&'a str>,
    /// Whether the new session will carry a source identity (set now or
    /// inherited).
    pub keeps_source_identity: bool,
    /// Whether this call carried a good MFA code.
    pub mfa_now: bool,
    /// Whether inherited transitive tags alone need `sts:TagSession`.
    pub strict_inherited_tags: bool,
}

/// Decides every action `request` needs on `role`, for `caller`.
///
/// # Errors
///
/// `AccessDenied` for the first action refused, with AWS's message and
/// the decision's record; `InternalFailure` when the stored trust policy no
/// longer parses.
pub fn decide(
    caller: &AuthzCaller,
    role: &RoleRecord,
    request: &TrustRequest<'_>,
) -> Result<(), ServiceError> {
    let trust = trust_policy(role)?;
    let context = context(caller, Some(role), request);
    let side = Some((&*trust, role.account));
    caller.authorize_with("sts:AssumeRole", role.arn.as_str(), side, &context)?;
    let inherited = request.strict_inherited_tags && !request.inherited_tags.is_empty();
    if !request.tags.is_empty() || inherited {
        caller.authorize_with("sts:TagSession", role.arn.as_str(), side, &context)?;
    }
    if request.keeps_source_identity {
        caller.authorize_with("sts:SetSourceIdentity", role.arn.as_str(), side, &context)?;
    }
    Ok(())
}

/// `role`'s trust policy, parsed (once per distinct document).
///
/// # Errors
///
/// `InternalFailure` when the stored document no longer parses.
pub(crate) fn trust_policy(role: &RoleRecord) -> Result<std::sync::Arc<Policy>, ServiceError> {
    policy_cache::parsed(
        role.arn.as_str(),
        PolicyKind::Trust,
        &role.assume_role_policy,
        Some(usize::MAX),
    )
    .map_err(ServiceError::internal)
}

/// The keys every AssumeRole* trust decision carries: `sts:RoleSessionName`,
/// the session's tags as `aws:RequestTag/*` and `aws:TagKeys`,
/// `sts:TransitiveTagKeys`, `sts:SourceIdentity`, and the role's tags as
/// `aws:ResourceTag/*`.
pub(crate) fn insert_request_keys<'a>(
    c: &mut Context,
    session_name: &RoleSessionName,
    tags: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone,
    transitive_keys: &[TagKey],
    source_identity: Option<&str>,
    role: Option<&RoleRecord>,
) {
    c.insert("sts:RoleSessionName", session_name.as_str());
    if tags.len() > 0 {
        for (k, v) in tags.clone() {
            c.insert(&format!("aws:RequestTag/{k}"), v);
        }
        let keys: Vec<String> = tags.map(|(k, _)| k.to_owned()).collect();
        c.insert("aws:TagKeys", keys);
    }
    if !transitive_keys.is_empty() {
        let keys: Vec<String> = transitive_keys.iter().map(TagKey::to_string).collect();
        c.insert("sts:TransitiveTagKeys", keys);
    }
    if let Some(source) = source_identity {
        c.insert("sts:SourceIdentity", source);
    }
    for t in role.map(|r| r.tags.as_slice()).unwrap_or_default() {
        c.insert(&format!("aws:ResourceTag/{}", t.key), t.value.as_str());
    }
}

/// The refusal of an AssumeRole of a role that does not exist: the same
/// text as a trust policy that does not name the caller, so a caller learns
/// nothing about which roles exist.
pub fn no_such_role(
    caller: &AuthzCaller,
    role_arn: &Arn,
    request: &TrustRequest<'_>,
) -> ServiceError {
    let action = "sts:AssumeRole";
    let context = context(caller, None, request);
    let principal = caller.principal();
    let record = AuthorizationRecord {
        outcome: Outcome::ImplicitDeny,
        matched: Vec::new(),
        failures: Vec::new(),
        principal_id: context
            .get("aws:userid")
            .and_then(|v| v.values().next().map(str::to_owned))
            .or_else(|| principal.id.clone()),
        principal_arn: principal.arn.clone(),
        principal_account: principal.account.clone(),
        action: action.to_owned(),
        resource: role_arn.to_string(),
        conditions: context
            .iter()
            .map(|(k, v)| (k.to_owned(), v.values().map(str::to_owned).collect()))
            .collect(),
    };
    ServiceError::new(
        ErrorCode::AccessDenied,
        format!(
            "User: {} is not authorized to perform: {action} on resource: {role_arn} {}",
            principal.arn,
            Reason::NoResourcePolicyAllow.explain(action)
        ),
    )
    .with_denial(record)
}

/// The caller's context with the keys of this AssumeRole.
fn context(caller: &AuthzCaller, role: Option<&RoleRecord>, r: &TrustRequest<'_>) -> Context {
    let mut c = caller.context().clone();
    let tags = r.tags.iter().map(|t| (t.key.as_str(), t.value.as_str()));
    insert_request_keys(
        &mut c,
        r.session_name,
        tags,
        r.transitive_keys,
        r.source_identity,
        role,
    );
    if let Some(id) = r.external_id {
        c.insert("sts:ExternalId", id.as_str());
    }
    // Inherited transitive tags override the role's tags of the same key
    // (context keys are case-insensitive, so the later insert wins).
    for (k, v) in r.inherited_tags {
        c.insert(&format!("aws:ResourceTag/{k}"), v.as_str());
    }
    if r.mfa_now {
        c.insert("aws:MultiFactorAuthPresent", "true");
        c.insert("aws:MultiFactorAuthAge", "0");
    }
    c
}
