//! Permissions boundaries: PutUserPermissionsBoundary,
//! DeleteUserPermissionsBoundary, PutRolePermissionsBoundary,
//! DeleteRolePermissionsBoundary.
//!
//! Owns: the rule that a boundary is an existing customer managed policy
//! of the caller's account, and keeping the policy's
//! `boundary_usage_count` in step with the users and roles that use it, in
//! the same commit. May import `domain`, `service::authz`,
//! `service::error`, `service::store`. Spec: reference sections 6.2 and 12.

use crate::domain::ids::{Arn, PolicyName, RoleName, UserName};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::roles::{authorize_on_role, load_role};
use crate::service::store::model::{ManagedPolicyRecord, UserRecord};
use crate::service::store::{EntityReader, Key, Transaction, Versioned, commit_with_retry, fetch};

/// The managed policy `arn` of `caller`'s account, or AWS's
/// `NoSuchEntity` "Policy … does not exist or is not attachable.".
///
/// # Errors
///
/// `NoSuchEntity`, or the store's failure.
pub async fn attachable_policy(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Versioned<ManagedPolicyRecord>, ServiceError> {
    let missing = || {
        ServiceError::new(
            ErrorCode::NoSuchEntity,
            format!("Policy {arn} does not exist or is not attachable."),
        )
    };
    let name = policy_name_of(arn)
        .filter(|_| arn.account_id() == Some(caller.account()))
        .ok_or_else(missing)?;
    fetch::<ManagedPolicyRecord>(store, &Key::managed_policy(caller.account(), &name))
        .await?
        .filter(|p| p.record.arn == *arn)
        .ok_or_else(missing)
}

/// The name in a managed policy ARN (`…:policy/path/Name`).
pub fn policy_name_of(arn: &Arn) -> Option<PolicyName> {
    if arn.service() != "iam" || !arn.resource().starts_with("policy/") {
        return None;
    }
    arn.resource().rsplit('/').next()?.parse().ok()
}

/// Moves a boundary from `old` to `new` inside `txn`: the new policy must
/// exist; usage counts go down on the old one (if it still exists) and up
/// on the new one.
pub(crate) async fn move_boundary(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    txn: &mut Transaction,
    old: Option<&Arn>,
    new: Option<&Arn>,
) -> Result<(), ServiceError> {
    if old == new {
        if let Some(arn) = new {
            attachable_policy(store, caller, arn).await?;
        }
        return Ok(());
    }
    if let Some(arn) = new {
        let policy = attachable_policy(store, caller, arn).await?;
        let mut updated = policy.record.clone();
        updated.boundary_usage_count = updated.boundary_usage_count.saturating_add(1);
        txn.require_unchanged(&policy).put(updated);
    }
    if let Some(arn) = old
        && let Ok(policy) = attachable_policy(store, caller, arn).await
    {
        let mut updated = policy.record.clone();
        updated.boundary_usage_count = updated.boundary_usage_count.saturating_sub(1);
        txn.require_unchanged(&policy).put(updated);
    }
    Ok(())
}

/// PutUserPermissionsBoundary / DeleteUserPermissionsBoundary (`None`).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (user or policy).
pub async fn set_user_boundary(
    iam: &Iam,
    caller: &AuthzCaller,
    name: UserName,
    boundary: Option<Arn>,
) -> Result<(), ServiceError> {
    let action = match boundary {
        Some(_) => "iam:PutUserPermissionsBoundary",
        None => "iam:DeleteUserPermissionsBoundary",
    };
    let key = Key::user(caller.account(), &name);
    let found = fetch::<UserRecord>(&*iam.store, &key).await?;
    let arn = match &found {
        Some(u) => u.record.arn.to_string(),
        None => format!(
            "arn:{}:iam::{}:user/{name}",
            iam.partition,
            caller.account()
        ),
    };
    let boundary_text = boundary.as_ref().map(Arn::to_string).unwrap_or_default();
    let extra: Vec<(&str, &str)> = match boundary {
        Some(_) => vec![("iam:PermissionsBoundary", boundary_text.as_str())],
        None => vec![],
    };
    caller.authorize(action, &arn, &extra)?;
    let (key, name, boundary) = (&key, &name, &boundary);
    commit_with_retry(&*iam.store, move || async move {
        let user = fetch::<UserRecord>(&*iam.store, key)
            .await?
            .ok_or_else(|| ServiceError::no_such_entity("user", name.as_str()))?;
        let mut txn = Transaction::new();
        let old = user.record.permissions_boundary.clone();
        move_boundary(
            &*iam.store,
            caller,
            &mut txn,
            old.as_ref(),
            boundary.as_ref(),
        )
        .await?;
        let mut updated = user.record.clone();
        updated.permissions_boundary = boundary.clone();
        txn.require_unchanged(&user).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// PutRolePermissionsBoundary / DeleteRolePermissionsBoundary (`None`).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (role or policy).
pub async fn set_role_boundary(
    iam: &Iam,
    caller: &AuthzCaller,
    name: RoleName,
    boundary: Option<Arn>,
) -> Result<(), ServiceError> {
    let action = match boundary {
        Some(_) => "iam:PutRolePermissionsBoundary",
        None => "iam:DeleteRolePermissionsBoundary",
    };
    let boundary_text = boundary.as_ref().map(Arn::to_string).unwrap_or_default();
    let extra: Vec<(&str, &str)> = match boundary {
        Some(_) => vec![("iam:PermissionsBoundary", boundary_text.as_str())],
        None => vec![],
    };
    authorize_on_role(iam, caller, action, &name, &extra).await?;
    let (name, boundary) = (&name, &boundary);
    commit_with_retry(&*iam.store, move || async move {
        let role = load_role(&*iam.store, caller, name).await?;
        let mut txn = Transaction::new();
        let old = role.record.permissions_boundary.clone();
        move_boundary(
            &*iam.store,
            caller,
            &mut txn,
            old.as_ref(),
            boundary.as_ref(),
        )
        .await?;
        let mut updated = role.record.clone();
        updated.permissions_boundary = boundary.clone();
        txn.require_unchanged(&role).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}
