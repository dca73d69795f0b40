//! Customer managed policies: CreatePolicy, GetPolicy, DeletePolicy,
//! ListPolicies, TagPolicy, UntagPolicy, ListPolicyTags; versions in
//! [`versions`], attachments in [`attach`].
//!
//! Owns: the managed-policy lifecycle — names unique in the account (any
//! case, any path), `ANPA…` IDs, ARNs `arn:aws:iam::<acct>:policy/<path>
//! <name>`, documents validated as identity policies within 6,144
//! characters (`LimitExceeded`), and `DeleteConflict` while the policy is
//! attached, used as a boundary, or has non-default versions. May import
//! `domain`, `service::authz`, `service::error`, `service::store`.
//! Spec: reference sections 5.1 and 12.

pub mod attach;
pub mod versions;

use crate::domain::ids::{Arn, IamPath, PolicyName, TagKey, UniqueId, UniqueIdPrefix};
use crate::domain::policy::{Policy, PolicyError, PolicyKind};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::boundaries::policy_name_of;
use crate::service::iam::edit_record;
use crate::service::iam::inline::page_of;
use crate::service::iam::roles::check_description;
use crate::service::iam::scan::list_all;
use crate::service::iam::{Iam, Listing, Paging, Rng, check_tags, merge_tags, quota};
use crate::service::store::model::{ManagedPolicyRecord, PolicyVersion, PolicyVersionId};
use crate::service::store::{
    EntityReader, Key, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// The managed policy size quota, whitespace not counted.
pub const MAX_POLICY_SIZE: usize = 6_144;

/// CreatePolicy's input.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePolicy {
    /// `PolicyName`.
    pub name: PolicyName,
    /// `Path` (default `/`).
    pub path: Option<IamPath>,
    /// `PolicyDocument`, as given.
    pub document: String,
    /// `Description` (immutable afterwards, as in IAM).
    pub description: Option<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// ListPolicies' filters.
#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    /// `Scope`: `false` for `AWS` (stsd holds no AWS managed policies, so
    /// that lists nothing); `All` and `Local` list the account's.
    pub aws_only: bool,
    /// `OnlyAttached`: only policies attached to a user, group or role.
    pub only_attached: bool,
}

/// Validates a managed policy document.
///
/// # Errors
///
/// `MalformedPolicyDocument`, or `LimitExceeded` past 6,144 characters.
pub fn check_document(arn: &Arn, document: &str) -> Result<(), ServiceError> {
    Policy::parse_with_limit(
        arn.as_str(),
        PolicyKind::Identity,
        document,
        MAX_POLICY_SIZE,
    )
    .map(drop)
    .map_err(|e| match e {
        PolicyError::Size { .. } => ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for PolicySize: {MAX_POLICY_SIZE}"),
        ),
        other => other.into(),
    })
}

/// AWS's `NoSuchEntity` for a managed policy ARN that names nothing.
pub fn not_found(arn: &Arn) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("Policy {arn} was not found."),
    )
}

/// The managed policy `arn` of the caller's account, or `NoSuchEntity`.
///
/// # Errors
///
/// `NoSuchEntity`, or the store's failure.
pub async fn load_policy(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Versioned<ManagedPolicyRecord>, ServiceError> {
    let name = policy_name_of(arn)
        .filter(|_| arn.account_id() == Some(caller.account()))
        .ok_or_else(|| not_found(arn))?;
    fetch::<ManagedPolicyRecord>(store, &Key::managed_policy(caller.account(), &name))
        .await?
        .filter(|p| p.record.arn == *arn)
        .ok_or_else(|| not_found(arn))
}

/// Authorizes `action` on `arn`, then loads the policy.
pub(crate) async fn authorize_on_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    arn: &Arn,
) -> Result<Versioned<ManagedPolicyRecord>, ServiceError> {
    caller.authorize(action, arn.as_str(), &[])?;
    load_policy(&*iam.store, caller, arn).await
}

/// CreatePolicy: the policy with its `v1` as default.
///
/// # Errors
///
/// `AccessDenied`, `MalformedPolicyDocument`, `LimitExceeded`,
/// `EntityAlreadyExists`, `ValidationError`, `InvalidInput` (tags).
pub async fn create_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreatePolicy,
) -> Result<ManagedPolicyRecord, ServiceError> {
    let account = caller.account();
    let path = input.path.clone().unwrap_or_else(IamPath::root);
    let arn = Arn::iam_policy(&iam.partition, account, &path, &input.name);
    caller.authorize("iam:CreatePolicy", arn.as_str(), &[])?;
    if let Some(d) = &input.description {
        check_description(d)?;
    }
    check_tags(&input.tags)?;
    check_document(&arn, &input.document)?;
    let id =
        iam.random(|r| UniqueId::generate(UniqueIdPrefix::ManagedPolicy, account, &mut Rng(r)))?;
    let now = Timestamp::now(&*iam.clock);
    let record = ManagedPolicyRecord {
        account,
        name: input.name.clone(),
        id,
        path,
        arn,
        description: input.description.clone(),
        default_version_id: PolicyVersionId::FIRST,
        versions: vec![PolicyVersion {
            version_id: PolicyVersionId::FIRST,
            document: input.document.clone(),
            is_default: true,
            create_date: now,
        }],
        next_version: PolicyVersionId::FIRST
            .next()
            .unwrap_or(PolicyVersionId::FIRST),
        attachment_count: 0,
        boundary_usage_count: 0,
        tags: input.tags,
        create_date: now,
        update_date: now,
    };
    let record_ref = &record;
    commit_with_retry(&*iam.store, move || async move {
        let key = Key::managed_policy(account, &record_ref.name);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!(
                    "A policy called {} already exists. Duplicate names are not allowed.",
                    record_ref.name
                ),
            ));
        }
        quota::check::<ManagedPolicyRecord>(
            &*iam.store,
            account,
            "PoliciesPerAccount",
            quota::MANAGED_POLICIES,
        )
        .await?;
        let mut txn = Transaction::new();
        txn.require_absent(key).put(record_ref.clone());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(record)
}

/// GetPolicy.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn get_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<ManagedPolicyRecord, ServiceError> {
    Ok(authorize_on_policy(iam, caller, "iam:GetPolicy", arn)
        .await?
        .record)
}

/// DeletePolicy: refused while attached, used as a boundary, or holding
/// versions besides the default.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_policy(iam: &Iam, caller: &AuthzCaller, arn: &Arn) -> Result<(), ServiceError> {
    authorize_on_policy(iam, caller, "iam:DeletePolicy", arn).await?;
    commit_with_retry(&*iam.store, move || async move {
        let policy = load_policy(&*iam.store, caller, arn).await?;
        let p = &policy.record;
        if p.attachment_count > 0 || p.boundary_usage_count > 0 {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "Cannot delete a policy attached to entities.",
            ));
        }
        if p.versions.len() > 1 {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&policy)
            .delete(Key::managed_policy(p.account, &p.name));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListPolicies: the account's policies in name order, filtered by path
/// prefix and `filter`, paged by `Marker`/`MaxItems`.
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_policies(
    iam: &Iam,
    caller: &AuthzCaller,
    filter: &PolicyFilter,
    paging: &Paging,
) -> Result<Listing<ManagedPolicyRecord>, ServiceError> {
    let resource = format!("arn:{}:iam::{}:policy/*", iam.partition, caller.account());
    caller.authorize("iam:ListPolicies", &resource, &[])?;
    if filter.aws_only {
        return Ok(Listing {
            items: vec![],
            marker: None,
        });
    }
    let prefix = paging.path_prefix.as_deref().unwrap_or("/");
    let all: Vec<ManagedPolicyRecord> =
        list_all::<ManagedPolicyRecord>(&*iam.store, caller.account())
            .await?
            .into_iter()
            .filter(|p| p.path.as_str().starts_with(prefix))
            .filter(|p| !filter.only_attached || p.attachment_count > 0)
            .collect();
    Ok(page_of(all, paging, |p| p.name.as_str().to_lowercase()))
}

/// TagPolicy: adds or overwrites tags (at most 50 in all).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    authorize_on_policy(iam, caller, "iam:TagPolicy", arn).await?;
    check_tags(&tags)?;
    edit_policy(iam, caller, arn, |p| {
        merge_tags(&mut p.tags, tags.clone());
        check_tags(&p.tags)
    })
    .await
    .map(drop)
}

/// UntagPolicy: removes tags by key (any case).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    authorize_on_policy(iam, caller, "iam:UntagPolicy", arn).await?;
    edit_policy(iam, caller, arn, |p| {
        p.tags.retain(|t| {
            !keys
                .iter()
                .any(|k| k.as_str().eq_ignore_ascii_case(t.key.as_str()))
        });
        Ok(())
    })
    .await
    .map(drop)
}

/// ListPolicyTags (at most 50, so one page).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_policy_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Vec<Tag>, ServiceError> {
    Ok(authorize_on_policy(iam, caller, "iam:ListPolicyTags", arn)
        .await?
        .record
        .tags)
}

/// Applies `edit` to the policy in one commit; returns the stored record.
pub(crate) async fn edit_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
    edit: impl Fn(&mut ManagedPolicyRecord) -> Result<(), ServiceError>,
) -> Result<ManagedPolicyRecord, ServiceError> {
    edit_record(iam, || load_policy(&*iam.store, caller, arn), edit).await
}

#[cfg(test)]
mod tests;
