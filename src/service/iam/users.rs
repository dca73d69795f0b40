//! IAM users: CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers,
//! TagUser, UntagUser, ListUserTags.
//!
//! Owns: the user lifecycle and its rules — unique names (any case), tags
//! (≤ 50, no `aws:` keys), the permissions boundary (must exist; its
//! `boundary_usage_count` moves with it), renames that carry the user's
//! groups, keys, MFA devices and login profile along, and `DeleteConflict`
//! while anything still hangs off the user (AWS's order: login profile,
//! keys, MFA devices, inline and attached policies, groups). May import
//! `domain`, `service::authz`, `service::error`, `service::store`.
//! Spec: reference sections 3 and 12.

use crate::domain::ids::{AccountId, Arn, IamPath, TagKey, UniqueId, UniqueIdPrefix, UserName};
use crate::domain::policy::PrincipalKind;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::edit_record;
use crate::service::iam::scan::list_page;
use crate::service::iam::{Iam, Listing, Paging, Rng, check_tags, merge_tags, quota};
use crate::service::store::model::{
    AccessKeyRecord, AccountRecord, CredentialOwner, GroupRecord, LoginProfileRecord,
    ManagedPolicyRecord, MfaDeviceRecord, UserRecord,
};
use crate::service::store::{
    EntityReader, Key, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// CreateUser's input.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateUser {
    /// `UserName`.
    pub name: UserName,
    /// `Path` (default `/`).
    pub path: Option<IamPath>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `PermissionsBoundary`.
    pub permissions_boundary: Option<Arn>,
}

/// What GetUser answers.
#[derive(Debug, Clone)]
pub enum GetUser {
    /// The named user, or the calling user.
    User(Box<UserRecord>),
    /// The root identity asking about itself (no `UserName` given): AWS
    /// answers with the account as the user id and the root ARN.
    Root(AccountRecord),
}

impl GetUser {
    /// The user, unless the answer is the root.
    pub fn into_user(self) -> Option<UserRecord> {
        match self {
            Self::User(u) => Some(*u),
            Self::Root(_) => None,
        }
    }
}

/// UpdateUser's input.
#[derive(Debug, Clone)]
pub struct UpdateUser {
    /// `UserName`.
    pub name: UserName,
    /// `NewUserName`.
    pub new_name: Option<UserName>,
    /// `NewPath`.
    pub new_path: Option<IamPath>,
}

/// The ARN of user `name` under `path` in the caller's account.
fn user_arn(iam: &Iam, caller: &AuthzCaller, path: &IamPath, name: &UserName) -> Arn {
    Arn::iam_user(&iam.partition, caller.account(), path, name)
}

/// The user `name` of the caller's account, or `NoSuchEntity`.
pub(crate) async fn load_user(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    name: &UserName,
) -> Result<Versioned<UserRecord>, ServiceError> {
    fetch::<UserRecord>(store, &Key::user(caller.account(), name))
        .await?
        .ok_or_else(|| ServiceError::no_such_entity("user", name.as_str()))
}

/// The ARN of an existing user, for authorization before it is read
/// (AWS authorizes first, so a denied caller learns nothing).
pub(crate) async fn authorize_on_user(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    name: &UserName,
) -> Result<Versioned<UserRecord>, ServiceError> {
    let found = fetch::<UserRecord>(&*iam.store, &Key::user(caller.account(), name)).await?;
    let arn = match &found {
        Some(u) => u.record.arn.clone(),
        None => user_arn(iam, caller, &IamPath::root(), name),
    };
    caller.authorize(action, arn.as_str(), &[])?;
    found.ok_or_else(|| ServiceError::no_such_entity("user", name.as_str()))
}

/// The boundary policy `arn`, which must be a managed policy of the
/// caller's account.
async fn boundary_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    arn: &Arn,
) -> Result<Versioned<ManagedPolicyRecord>, ServiceError> {
    let missing = || {
        ServiceError::new(
            ErrorCode::NoSuchEntity,
            format!("Policy {arn} does not exist or is not attachable."),
        )
    };
    if arn.account_id() != Some(caller.account()) {
        return Err(missing());
    }
    let name = arn
        .resource()
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(missing)?;
    fetch::<ManagedPolicyRecord>(&*iam.store, &Key::managed_policy(caller.account(), &name))
        .await?
        .filter(|p| p.record.arn == *arn)
        .ok_or_else(missing)
}

/// CreateUser.
///
/// # Errors
///
/// `AccessDenied`, `EntityAlreadyExists`, `LimitExceeded`/`InvalidInput`
/// for tags, `NoSuchEntity` for a missing boundary.
pub async fn create_user(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreateUser,
) -> Result<UserRecord, ServiceError> {
    let path = input.path.clone().unwrap_or_else(IamPath::root);
    let arn = user_arn(iam, caller, &path, &input.name);
    let boundary_text = input.permissions_boundary.as_ref().map(Arn::to_string);
    let extra: Vec<(&str, &str)> = boundary_text
        .iter()
        .map(|b| ("iam:PermissionsBoundary", b.as_str()))
        .collect();
    caller.authorize("iam:CreateUser", arn.as_str(), &extra)?;
    check_tags(&input.tags)?;
    let account = caller.account();
    let id = iam.random(|r| UniqueId::generate(UniqueIdPrefix::User, account, &mut Rng(r)))?;
    let user = UserRecord {
        account,
        name: input.name.clone(),
        id,
        path,
        arn,
        create_date: Timestamp::now(&*iam.clock),
        tags: input.tags,
        permissions_boundary: input.permissions_boundary.clone(),
        inline_policies: Default::default(),
        attached_policies: vec![],
        groups: vec![],
        access_keys: vec![],
        mfa_devices: vec![],
        password_last_used: None,
    };
    let (user, iam) = (&user, iam);
    commit_with_retry(&*iam.store, move || async move {
        quota::check::<UserRecord>(&*iam.store, account, "UsersPerAccount", quota::USERS).await?;
        let mut txn = Transaction::new();
        txn.require_absent(Key::user(account, &user.name));
        if let Some(arn) = &user.permissions_boundary {
            let policy = boundary_policy(iam, caller, arn).await?;
            let mut updated = policy.record.clone();
            updated.boundary_usage_count = updated.boundary_usage_count.saturating_add(1);
            txn.require_unchanged(&policy).put(updated);
        }
        txn.put(user.clone());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(user.clone())
}

/// GetUser: `name`, or the calling user when `None`.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, and `ValidationError` for root without
/// a name.
pub async fn get_user(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
) -> Result<GetUser, ServiceError> {
    let name = match name {
        Some(n) => n,
        None if caller.principal().kind == PrincipalKind::Root => {
            let account = fetch::<AccountRecord>(&*iam.store, &Key::account(caller.account()))
                .await?
                .ok_or_else(|| ServiceError::internal("the caller's account record is missing"))?;
            return Ok(GetUser::Root(account.record));
        }
        None => caller_user_name(caller)?,
    };
    let user = authorize_on_user(iam, caller, "iam:GetUser", &name).await?;
    Ok(GetUser::User(Box::new(user.record)))
}

/// The calling user's name, for actions whose `UserName` defaults to it.
pub(crate) fn caller_user_name(caller: &AuthzCaller) -> Result<UserName, ServiceError> {
    let arn = caller.arn();
    arn.rsplit('/')
        .next()
        .filter(|_| arn.contains(":user/"))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            ServiceError::new(
                ErrorCode::ValidationError,
                "Must specify userName when calling with non-User credentials",
            )
        })
}

/// UpdateUser: renames and/or moves the user, carrying its relations.
///
/// # Errors
///
/// `AccessDenied` (on the old and the new ARN), `NoSuchEntity`,
/// `EntityAlreadyExists`.
pub async fn update_user(
    iam: &Iam,
    caller: &AuthzCaller,
    input: UpdateUser,
) -> Result<(), ServiceError> {
    let current = authorize_on_user(iam, caller, "iam:UpdateUser", &input.name).await?;
    let new_name = input.new_name.clone().unwrap_or_else(|| input.name.clone());
    let new_path = input
        .new_path
        .clone()
        .unwrap_or_else(|| current.record.path.clone());
    let new_arn = user_arn(iam, caller, &new_path, &new_name);
    caller.authorize("iam:UpdateUser", new_arn.as_str(), &[])?;
    let (input, new_name, new_path, new_arn) = (&input, &new_name, &new_path, &new_arn);
    commit_with_retry(&*iam.store, move || async move {
        let user = load_user(&*iam.store, caller, &input.name).await?;
        let account = caller.account();
        let old_key = Key::user(account, &user.record.name);
        let new_key = Key::user(account, new_name);
        let mut txn = Transaction::new();
        txn.require_unchanged(&user);
        if new_key != old_key {
            txn.require_absent(new_key).delete(old_key);
        }
        let old = &user.record.name;
        for g in &user.record.groups {
            if let Some(group) = fetch::<GroupRecord>(&*iam.store, &Key::group(account, g)).await? {
                let mut updated = group.record.clone();
                for m in &mut updated.members {
                    if m == old {
                        *m = new_name.clone();
                    }
                }
                txn.require_unchanged(&group).put(updated);
            }
        }
        for k in &user.record.access_keys {
            let key = Key::access_key(account, k);
            if let Some(ak) = fetch::<AccessKeyRecord>(&*iam.store, &key).await? {
                let mut updated = ak.record.clone();
                updated.owner = CredentialOwner::User(new_name.clone());
                txn.require_unchanged(&ak).put(updated);
            }
        }
        for serial in &user.record.mfa_devices {
            rename_mfa_owner(iam, caller, &mut txn, serial, new_name).await?;
        }
        move_login_profile(iam, &mut txn, old, new_name, account).await?;
        let mut updated = user.record.clone();
        updated.name = new_name.clone();
        updated.path = new_path.clone();
        updated.arn = new_arn.clone();
        txn.put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// Re-points the assignment of MFA device `serial` at `new_name`.
async fn rename_mfa_owner(
    iam: &Iam,
    caller: &AuthzCaller,
    txn: &mut Transaction,
    serial: &Arn,
    new_name: &UserName,
) -> Result<(), ServiceError> {
    let Some(name) = serial
        .resource()
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
    else {
        return Ok(());
    };
    let key = Key::mfa_device(caller.account(), &name);
    if let Some(dev) = fetch::<MfaDeviceRecord>(&*iam.store, &key).await? {
        let mut updated = dev.record.clone();
        if let Some(a) = &mut updated.assignment {
            a.owner = CredentialOwner::User(new_name.clone());
        }
        txn.require_unchanged(&dev).put(updated);
    }
    Ok(())
}

/// Moves the login profile of user `old` to `new_name` (a rename keeps
/// the console password); nothing when the user has none.
async fn move_login_profile(
    iam: &Iam,
    txn: &mut Transaction,
    old: &UserName,
    new_name: &UserName,
    account: AccountId,
) -> Result<(), ServiceError> {
    let old_key = Key::login_profile(account, old);
    let Some(profile) = fetch::<LoginProfileRecord>(&*iam.store, &old_key).await? else {
        return Ok(());
    };
    let mut moved = profile.record.clone();
    moved.user = new_name.clone();
    let new_key = Key::login_profile(account, new_name);
    txn.require_unchanged(&profile);
    if new_key != old_key {
        txn.require_absent(new_key).delete(old_key);
    }
    txn.put(moved);
    Ok(())
}

/// DeleteUser: refused with `DeleteConflict` while the user has a login
/// profile, access keys, MFA devices, policies or groups.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_user(
    iam: &Iam,
    caller: &AuthzCaller,
    name: UserName,
) -> Result<(), ServiceError> {
    authorize_on_user(iam, caller, "iam:DeleteUser", &name).await?;
    let name = &name;
    commit_with_retry(&*iam.store, move || async move {
        let user = load_user(&*iam.store, caller, name).await?;
        let u = &user.record;
        let profile = Key::login_profile(u.account, &u.name);
        let conflict = if iam.store.get(&profile).await?.is_some() {
            Some("Cannot delete entity, must delete login profile first.")
        } else if !u.access_keys.is_empty() {
            Some("Cannot delete entity, must delete access keys first.")
        } else if !u.mfa_devices.is_empty() {
            Some("Cannot delete entity, must delete MFA device first.")
        } else if !u.inline_policies.is_empty() {
            Some("Cannot delete entity, must delete policies first.")
        } else if !u.attached_policies.is_empty() {
            Some("Cannot delete entity, must detach all policies first.")
        } else if !u.groups.is_empty() {
            Some("Cannot delete entity, must remove users from group first.")
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(ServiceError::new(ErrorCode::DeleteConflict, message));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&user)
            .require_absent(profile)
            .delete(Key::user(u.account, &u.name));
        if let Some(arn) = &u.permissions_boundary
            && let Ok(policy) = boundary_policy(iam, caller, arn).await
        {
            let mut updated = policy.record.clone();
            updated.boundary_usage_count = updated.boundary_usage_count.saturating_sub(1);
            txn.require_unchanged(&policy).put(updated);
        }
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListUsers.
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_users(
    iam: &Iam,
    caller: &AuthzCaller,
    paging: &Paging,
) -> Result<Listing<UserRecord>, ServiceError> {
    let resource = format!("arn:{}:iam::{}:user/", iam.partition, caller.account());
    caller.authorize("iam:ListUsers", &format!("{resource}*"), &[])?;
    list_page(&*iam.store, caller.account(), paging).await
}

/// TagUser: adds or overwrites tags (at most 50 in all).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_user(
    iam: &Iam,
    caller: &AuthzCaller,
    name: UserName,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    authorize_on_user(iam, caller, "iam:TagUser", &name).await?;
    check_tags(&tags)?;
    let (name, tags) = (&name, &tags);
    edit_user(iam, caller, name, |u| {
        merge_tags(&mut u.tags, tags.clone());
        check_tags(&u.tags)
    })
    .await
}

/// UntagUser: removes tags by key (any case); absent keys are ignored.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_user(
    iam: &Iam,
    caller: &AuthzCaller,
    name: UserName,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    authorize_on_user(iam, caller, "iam:UntagUser", &name).await?;
    let keys = &keys;
    edit_user(iam, caller, &name, |u| {
        u.tags.retain(|t| {
            !keys
                .iter()
                .any(|k| k.as_str().eq_ignore_ascii_case(t.key.as_str()))
        });
        Ok(())
    })
    .await
}

/// ListUserTags (all tags: at most 50, so one page).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_user_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    name: UserName,
) -> Result<Vec<Tag>, ServiceError> {
    Ok(authorize_on_user(iam, caller, "iam:ListUserTags", &name)
        .await?
        .record
        .tags)
}

/// Applies `edit` to the user in one commit.
async fn edit_user(
    iam: &Iam,
    caller: &AuthzCaller,
    name: &UserName,
    edit: impl Fn(&mut UserRecord) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    edit_record(iam, || load_user(&*iam.store, caller, name), edit)
        .await
        .map(drop)
}

#[cfg(test)]
mod tests;
