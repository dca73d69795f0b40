//! Loading a session caller's policies and context.
//!
//! Owns: the [`Session`] branch of [`AuthzCaller::load`] (reference 6.2,
//! 7.1, 7.4, 10):
//!
//! - an assumed role acts with its role's *current* inline and attached
//!   policies and boundary; a role deleted (or recreated under another
//!   unique id) since the session was minted grants nothing;
//! - a GetSessionToken session acts as its user (current policies, tags,
//!   `aws:username`) or as root; a deleted user's session is refused like
//!   the user's keys (`InvalidClientTokenId`);
//! - a federated user acts with its calling user's policies and boundary
//!   (root's: everything) intersected with its session policies, and with
//!   no session policy has no permissions;
//! - session policies — the inline `policy` and the `policy_arns`
//!   resolved to their managed policies' current default versions — form
//!   the session layer; an ARN that no longer resolves contributes nothing;
//! - context: `aws:PrincipalTag/*` (role or user tags, overridden by
//!   session tags whatever their case), `aws:MultiFactorAuthPresent`,
//!   `aws:MultiFactorAuthAge`, `aws:TokenIssueTime`, `aws:SourceIdentity`,
//!   `aws:FederatedProvider`, `aws:PrincipalType`, and `aws:PrincipalArn`
//!   (the role's ARN for a role session, as AWS does).
//!
//! May import `domain`, `service::store` and the parent's helpers.

use std::sync::Arc;

use super::{
    allow_nothing, insert_tags, iso8601, managed, parse_inline, push_tags, user_policies,
    user_record,
};
use crate::domain::credential::{MAX_TOKEN_LEN, Session, SessionPrincipal};
use crate::domain::ids::{AccountId, Arn, Partition, PrincipalKind, UniqueId};
use crate::domain::policy::{Context, Policy, PolicyKind, PolicySet, Principal};
use crate::service::error::ServiceError;
use crate::service::policy_cache;
use crate::service::store::model::RoleRecord;
use crate::service::store::{EntityReader, Key, fetch};

/// Everything `root` may do, as the identity side of a federated user
/// that root created (root's own evaluation needs no policy).
const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;

/// The principal and policies of `session`, adding its keys to `context`.
pub(super) async fn load(
    store: &(impl EntityReader + ?Sized),
    partition: &Partition,
    session: &Session,
    context: &mut Context,
    tags: &mut Vec<(String, String)>,
) -> Result<(Principal, PolicySet), ServiceError> {
    insert_session_keys(context, session);
    let account = session.account;
    let arn = session.arn(partition);
    let (principal, mut policies) = match &session.principal {
        SessionPrincipal::AssumedRole {
            role_arn, role_id, ..
        } => {
            context.insert("aws:PrincipalArn", role_arn.as_str());
            let p =
                Principal::assumed_role(arn.as_str(), role_arn.as_str(), Some(role_id.as_str()));
            let set = match current_role(store, account, role_arn, role_id).await? {
                Some(role) => {
                    insert_tags(context, &role.tags);
                    push_tags(tags, &role.tags);
                    role_policies(store, &role).await?
                }
                None => PolicySet::default(),
            };
            (p, set)
        }
        SessionPrincipal::User { name, user_id, .. } => {
            let user = user_record(store, account, name, Some(user_id)).await?;
            context.insert("aws:username", user.name.as_str());
            insert_tags(context, &user.tags);
            push_tags(tags, &user.tags);
            let p = Principal::user(user.arn.as_str(), Some(user.id.as_str()));
            (p, user_policies(store, &user).await?)
        }
        SessionPrincipal::Root => (
            Principal::root(partition.as_str(), account.as_str()),
            PolicySet::default(),
        ),
        SessionPrincipal::FederatedUser {
            caller_arn,
            caller_user_id,
            ..
        } => {
            let p = Principal::federated_user(arn.as_str(), caller_arn.as_str());
            let set = match caller_arn.principal_kind() {
                PrincipalKind::User { name, .. } => {
                    let id: UniqueId = caller_user_id
                        .parse()
                        .map_err(|_| super::invalid_client_token())?;
                    let user = user_record(store, account, &name, Some(&id)).await?;
                    insert_tags(context, &user.tags);
                    push_tags(tags, &user.tags);
                    user_policies(store, &user).await?
                }
                _ => PolicySet {
                    identity: vec![
                        policy_cache::parsed(
                            caller_arn.as_str(),
                            PolicyKind::Identity,
                            ALLOW_ALL,
                            None,
                        )
                        .map_err(ServiceError::internal)?,
                    ],
                    ..PolicySet::default()
                },
            };
            (p, set)
        }
    };
    // Session tags win over the principal's tags of the same key: context
    // keys are case-insensitive, so inserting them last overrides.
    for tag in &session.tags {
        context.insert(&format!("aws:PrincipalTag/{}", tag.key), tag.value.as_str());
        tags.retain(|(k, _)| !k.eq_ignore_ascii_case(tag.key.as_str()));
        tags.push((tag.key.to_string(), tag.value.to_string()));
    }
    policies.session = session_policies(store, account, session).await?;
    Ok((principal, policies))
}

/// The keys every session request carries, but `aws:MultiFactorAuthAge`
/// (which moves with the clock: [`super::AuthzCaller::for_request`]).
fn insert_session_keys(context: &mut Context, session: &Session) {
    context.insert("aws:PrincipalType", session.principal_type());
    let mfa = if session.mfa.is_some() {
        "true"
    } else {
        "false"
    };
    context.insert("aws:MultiFactorAuthPresent", mfa);
    if let Some(time) = i64::try_from(session.issued_at).ok().and_then(iso8601) {
        context.insert("aws:TokenIssueTime", time);
    }
    if let Some(source) = &session.source_identity {
        context.insert("aws:SourceIdentity", source.as_str());
    }
    if let Some(provider) = &session.provider {
        context.insert("aws:FederatedProvider", provider.as_str());
    }
    for (key, value) in &session.provider_keys {
        context.append(key, value);
    }
}

/// The role `role_arn` as it is now, if it is still the role `role_id`.
async fn current_role(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    role_arn: &Arn,
    role_id: &UniqueId,
) -> Result<Option<RoleRecord>, ServiceError> {
    let PrincipalKind::Role { name, .. } = role_arn.principal_kind() else {
        return Ok(None);
    };
    Ok(fetch::<RoleRecord>(store, &Key::role(account, &name))
        .await?
        .map(|v| v.record)
        .filter(|r| r.id == *role_id && r.arn == *role_arn))
}

/// The role's inline and attached policies and its boundary.
async fn role_policies(
    store: &(impl EntityReader + ?Sized),
    role: &RoleRecord,
) -> Result<PolicySet, ServiceError> {
    let mut set = PolicySet::default();
    for (name, doc) in &role.inline_policies {
        set.identity
            .push(parse_inline(role.arn.as_str(), name, doc)?);
    }
    for arn in &role.attached_policies {
        if let Some(p) = managed(store, role.account, arn, PolicyKind::Identity).await? {
            set.identity.push(p);
        }
    }
    if let Some(arn) = &role.permissions_boundary {
        let boundary = managed(store, role.account, arn, PolicyKind::Boundary).await?;
        set.boundary = Some(match boundary {
            Some(p) => p,
            None => Arc::new(allow_nothing(arn.as_str())?),
        });
    }
    Ok(set)
}

/// The session layer: `None` when the session has no session policy and
/// is not a federated user; otherwise the inline policy and every policy
/// ARN that still resolves (possibly none, which allows nothing).
async fn session_policies(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    session: &Session,
) -> Result<Option<Vec<Arc<Policy>>>, ServiceError> {
    let federated = matches!(session.principal, SessionPrincipal::FederatedUser { .. });
    if session.policy.is_none() && session.policy_arns.is_empty() && !federated {
        return Ok(None);
    }
    let mut layer = Vec::new();
    if let Some(doc) = &session.policy {
        // Validated when the session was minted; its size is bounded by
        // the token's. A policy that no longer parses fails the request
        // rather than being skipped (skipping would widen access).
        let p = policy_cache::parsed(
            "session-policy",
            PolicyKind::Session,
            doc,
            Some(MAX_TOKEN_LEN),
        )
        .map_err(ServiceError::internal)?;
        layer.push(p);
    }
    for arn in &session.policy_arns {
        // Managed policies keep their identity-policy size limit.
        if let Some(p) = managed(store, account, arn, PolicyKind::Identity).await? {
            layer.push(p);
        }
    }
    Ok(Some(layer))
}
