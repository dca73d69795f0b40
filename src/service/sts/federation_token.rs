//! GetFederationToken (reference 1.3, 1.5, 1.6, 6.2).
//!
//! Owns: the use case — long-term credentials of an IAM user or root only
//! (a session gets AWS's "Cannot call GetFederationToken with session
//! credentials"); the caller must be allowed `sts:GetFederationToken` on
//! the federated-user ARN (and `sts:TagSession` when passing tags); the
//! session policies (`Policy`, `PolicyArns` of the caller's account) and
//! session tags (no transitive keys: federated users cannot assume roles);
//! the duration (as GetSessionToken's, root clamped to one hour). The
//! session is `arn:aws:sts::ACCT:federated-user/NAME` with user id
//! `ACCT:NAME`; it acts with its caller's policies intersected with its
//! session policies, so with none it may do nothing (authorization's
//! rule). May import `domain`, `service::authn`, `service::authz`,
//! `service::error` and the sibling modules.

use crate::domain::credential::{Session, SessionPrincipal, SessionTag};
use crate::domain::ids::{Arn, FederatedUserName, TagKey, TagValue};
use crate::domain::sts::{plan_session_tags, token_duration};
use crate::service::authn::{Caller, Identity};
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::store::Tag;

use super::session_policy::SessionPolicies;
use super::{Minted, Sts, refuse_session};

/// GetFederationToken's parameters.
#[derive(Debug)]
pub struct GetFederationToken {
    /// `Name`.
    pub name: FederatedUserName,
    /// `Policy` and `PolicyArns`.
    pub policies: SessionPolicies,
    /// `DurationSeconds`.
    pub duration: Option<u32>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// The id of the request, recorded with the minted session.
    pub request_id: String,
}

/// GetFederationToken: a federated-user session of `caller`.
///
/// # Errors
///
/// `AccessDenied` (session credentials, policies), `ValidationError`
/// (duration), `InvalidParameterValue` (tags), `MalformedPolicyDocument`,
/// `PackedPolicyTooLarge`.
pub async fn get_federation_token(
    sts: &Sts,
    caller: &Caller,
    authz: &AuthzCaller,
    input: GetFederationToken,
) -> Result<Minted, ServiceError> {
    refuse_session(caller, "GetFederationToken")?;
    let account = caller.account;
    let arn = Arn::sts_federated_user(&sts.partition, account, &input.name);
    let requested: Vec<(TagKey, TagValue)> = input
        .tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect();
    let plan = plan_session_tags(&requested, &[], &[], &[])?;
    let mut context = authz.context().clone();
    if !input.tags.is_empty() {
        for t in &input.tags {
            context.insert(&format!("aws:RequestTag/{}", t.key), t.value.as_str());
        }
        let keys: Vec<String> = input.tags.iter().map(|t| t.key.to_string()).collect();
        context.insert("aws:TagKeys", keys);
    }
    authz.authorize_with("sts:GetFederationToken", arn.as_str(), None, &context)?;
    if !input.tags.is_empty() {
        authz.authorize_with("sts:TagSession", arn.as_str(), None, &context)?;
    }
    input.policies.check(&*sts.store, account).await?;
    let tags: Vec<SessionTag> = plan
        .tags
        .into_iter()
        .map(|(key, value)| SessionTag { key, value })
        .collect();
    let packed = input.policies.packed_size(&tags)?;
    let root = matches!(caller.identity, Identity::Root);
    let duration = token_duration(input.duration, root)?;
    let principal = SessionPrincipal::FederatedUser {
        name: input.name.to_string(),
        caller_arn: caller.arn(&sts.partition),
        caller_user_id: caller.user_id(),
    };
    let now = sts.now();
    let policies = input.policies;
    let request_id = input.request_id;
    sts.mint(
        account,
        move |access_key_id, secret| Session {
            access_key_id,
            secret,
            account,
            principal,
            policy: policies.policy,
            policy_arns: policies.policy_arns,
            tags,
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            mfa: None,
            issued_at: now,
            expires_at: now + u64::from(duration),
            provider: None,
            chain_depth: 0,
            provider_keys: Vec::new(),
        },
        packed,
        &request_id,
    )
    .await
}
