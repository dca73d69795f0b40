//! Managed policy versions: CreatePolicyVersion, GetPolicyVersion,
//! ListPolicyVersions, DeletePolicyVersion, SetDefaultPolicyVersion.
//!
//! Owns: the version rules — at most 5 stored versions (`LimitExceeded`),
//! numbers never reused, exactly one default, the default never deleted
//! (`DeleteConflict`). May import `domain`, `service::authz`,
//! `service::error`, `service::store`. Spec: reference section 12.

use super::{authorize_on_policy, check_document, edit_policy};
use crate::domain::ids::Arn;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::store::Timestamp;
use crate::service::store::model::{ManagedPolicyRecord, PolicyVersion, PolicyVersionId};

/// At most this many stored versions per policy.
pub const MAX_VERSIONS: usize = 5;

/// AWS's `NoSuchEntity` for a version that is not there.
fn no_version(arn: &Arn, id: PolicyVersionId) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} version {id} does not exist or is not attachable."),
    )
}

/// Makes `id` the default version of `p`.
fn set_default(p: &mut ManagedPolicyRecord, id: PolicyVersionId, now: Timestamp) {
    for v in &mut p.versions {
        v.is_default = v.version_id == id;
    }
    p.default_version_id = id;
    p.update_date = now;
}

/// CreatePolicyVersion: a new version, made default when `set_as_default`.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `MalformedPolicyDocument`,
/// `LimitExceeded` (size, or 5 versions already).
pub async fn create_policy_version(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    document: String,
    set_as_default: bool,
) -> Result<PolicyVersion, ServiceError> {
    authorize_on_policy(iam, caller, "iam:CreatePolicyVersion", arn).await?;
    check_document(arn, &document)?;
    let now = Timestamp::now(&*iam.clock);
    let updated = edit_policy(iam, caller, arn, |p| {
        if p.versions.len() >= MAX_VERSIONS {
            return Err(ServiceError::new(
                ErrorCode::LimitExceeded,
                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.",
            ));
        }
        let id = p.next_version;
        p.next_version = id
            .next()
            .ok_or_else(|| ServiceError::internal("policy version numbers are exhausted"))?;
        let version = PolicyVersion {
            version_id: id,
            document: document.clone(),
            is_default: false,
            create_date: now,
        };
        p.versions.push(version);
        if set_as_default {
            set_default(p, id, now);
        }
        Ok(())
    })
    .await?;
    updated
        .versions
        .into_iter()
        .max_by_key(|v| v.version_id)
        .ok_or_else(|| ServiceError::internal("the new policy version was not recorded"))
}

/// GetPolicyVersion.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_policy_version(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    id: PolicyVersionId,
) -> Result<PolicyVersion, ServiceError> {
    authorize_on_policy(iam, caller, "iam:GetPolicyVersion", arn)
        .await?
        .record
        .versions
        .into_iter()
        .find(|v| v.version_id == id)
        .ok_or_else(|| no_version(arn, id))
}

/// ListPolicyVersions: newest first (at most 5, so one page).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_policy_versions(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Vec<PolicyVersion>, ServiceError> {
    let mut versions = authorize_on_policy(iam, caller, "iam:ListPolicyVersions", arn)
        .await?
        .record
        .versions;
    versions.sort_by_key(|v| std::cmp::Reverse(v.version_id));
    Ok(versions)
}

/// DeletePolicyVersion: any version but the default.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_policy_version(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    id: PolicyVersionId,
) -> Result<(), ServiceError> {
    authorize_on_policy(iam, caller, "iam:DeletePolicyVersion", arn).await?;
    edit_policy(iam, caller, arn, |p| {
        if p.default_version_id == id {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "Cannot delete the default version of a policy.",
            ));
        }
        let before = p.versions.len();
        p.versions.retain(|v| v.version_id != id);
        if p.versions.len() == before {
            return Err(no_version(arn, id));
        }
        Ok(())
    })
    .await
    .map(drop)
}

/// SetDefaultPolicyVersion.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn set_default_policy_version(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    id: PolicyVersionId,
) -> Result<(), ServiceError> {
    authorize_on_policy(iam, caller, "iam:SetDefaultPolicyVersion", arn).await?;
    let now = Timestamp::now(&*iam.clock);
    edit_policy(iam, caller, arn, |p| {
        if !p.versions.iter().any(|v| v.version_id == id) {
            return Err(no_version(arn, id));
        }
        set_default(p, id, now);
        Ok(())
    })
    .await
    .map(drop)
}
