//! Login profiles: CreateLoginProfile, GetLoginProfile,
//! UpdateLoginProfile, DeleteLoginProfile, ChangePassword.
//!
//! Owns: a user's console password over its life — created and replaced
//! only as argon2id hashes, held to the account password policy at the
//! time of each change (reuse included), never returned. Every write is
//! decided inside one commit that pins the user's profile and the policy
//! it was checked against; the new password is hashed once, before.
//! Authorization is `iam:<Action>` on the user's ARN (also when the user
//! does not exist, so a denied caller learns nothing); `ChangePassword` is
//! the calling user's own, allowed by `AllowUsersToChangePassword` too.
//! May import `domain`, `service::authz`, `service::error`,
//! `service::store`. Spec: reference section 12; IAM API reference.

use crate::domain::ids::UserName;
use crate::domain::password::{LoginPassword, PasswordPolicy};
use crate::domain::policy::PrincipalKind;
use crate::domain::secret::Password;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::login::hashing;
use crate::service::iam::login::policy::{
    checked_new_password, load_policy, pin_policy, users_may_change,
};
use crate::service::iam::users::{authorize_on_user, caller_user_name, load_user};
use crate::service::store::model::{LoginProfileRecord, PasswordPolicyRecord};
use crate::service::store::{
    EntityReader, Key, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// CreateLoginProfile's input.
#[derive(Debug)]
pub struct CreateLoginProfile {
    /// `UserName` (default: the calling user).
    pub name: Option<UserName>,
    /// `Password`.
    pub password: Password,
    /// `PasswordResetRequired` (default false).
    pub reset_required: bool,
}

/// UpdateLoginProfile's input.
#[derive(Debug)]
pub struct UpdateLoginProfile {
    /// `UserName`.
    pub name: UserName,
    /// `Password`: a new password, when given.
    pub password: Option<Password>,
    /// `PasswordResetRequired`: unchanged when not given.
    pub reset_required: Option<bool>,
}

/// `name`, or the calling user's name.
fn target_name(caller: &AuthzCaller, name: Option<UserName>) -> Result<UserName, ServiceError> {
    match name {
        Some(n) => Ok(n),
        None => caller_user_name(caller),
    }
}

/// AWS's answer for a user without a login profile.
fn no_profile(name: &UserName) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("Login Profile for User {name} cannot be found."),
    )
}

/// The login profile of user `name` of the caller's account, or
/// `NoSuchEntity`.
async fn load_profile(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    name: &UserName,
) -> Result<Versioned<LoginProfileRecord>, ServiceError> {
    fetch::<LoginProfileRecord>(store, &Key::login_profile(caller.account(), name))
        .await?
        .ok_or_else(|| no_profile(name))
}

/// The policy in force, as read (to pin) and as settings.
fn settings(read: Option<&Versioned<PasswordPolicyRecord>>) -> Option<&PasswordPolicy> {
    read.map(|p| &p.record.policy)
}

/// CreateLoginProfile: the user's first console password.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (no such user), `EntityAlreadyExists`
/// (a profile exists), `PasswordPolicyViolation`.
pub async fn create_login_profile(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreateLoginProfile,
) -> Result<LoginProfileRecord, ServiceError> {
    let name = target_name(caller, input.name)?;
    authorize_on_user(iam, caller, "iam:CreateLoginProfile", &name).await?;
    let account = caller.account();
    // Checked before hashing (cheap first); checked again, pinned, below.
    let policy = load_policy(&*iam.store, account).await?;
    checked_new_password(
        iam,
        account,
        settings(policy.as_ref()),
        &input.password,
        None,
    )
    .await?;
    let hash = hashing::hash(iam, input.password.clone()).await?;
    let (name, hash, password) = (&name, &hash, &input.password);
    let reset_required = input.reset_required;
    let (record, _) = commit_with_retry(&*iam.store, move || async move {
        let user = load_user(&*iam.store, caller, name).await?;
        let key = Key::login_profile(account, name);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!("Login Profile for user {name} already exists."),
            ));
        }
        let policy = load_policy(&*iam.store, account).await?;
        checked_new_password(iam, account, settings(policy.as_ref()), password, None).await?;
        let now = Timestamp::now(&*iam.clock);
        let record = LoginProfileRecord {
            account,
            user: user.record.name.clone(),
            create_date: now,
            password: LoginPassword::new(hash.clone(), now.as_unix_secs(), reset_required),
        };
        let mut txn = Transaction::new();
        txn.require_unchanged(&user)
            .require_absent(key)
            .put(record.clone());
        pin_policy(&mut txn, account, policy.as_ref());
        Ok::<_, ServiceError>((txn, record))
    })
    .await?;
    Ok(record)
}

/// GetLoginProfile: the profile's date and reset flag (never the hash).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (no such user, or no profile).
pub async fn get_login_profile(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
) -> Result<LoginProfileRecord, ServiceError> {
    let name = target_name(caller, name)?;
    authorize_on_user(iam, caller, "iam:GetLoginProfile", &name).await?;
    Ok(load_profile(&*iam.store, caller, &name).await?.record)
}

/// UpdateLoginProfile: an administrator sets a new password and/or the
/// reset flag. A new password is held to the policy, reuse included.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (no such user, or no profile),
/// `PasswordPolicyViolation`.
pub async fn update_login_profile(
    iam: &Iam,
    caller: &AuthzCaller,
    input: UpdateLoginProfile,
) -> Result<(), ServiceError> {
    let name = &input.name;
    authorize_on_user(iam, caller, "iam:UpdateLoginProfile", name).await?;
    load_profile(&*iam.store, caller, name).await?;
    let hash = match &input.password {
        Some(p) => {
            let policy = load_policy(&*iam.store, caller.account()).await?;
            checked_new_password(iam, caller.account(), settings(policy.as_ref()), p, None).await?;
            Some(hashing::hash(iam, p.clone()).await?)
        }
        None => None,
    };
    let (input, hash) = (&input, &hash);
    commit_with_retry(&*iam.store, move || async move {
        let profile = load_profile(&*iam.store, caller, name).await?;
        let current = &profile.record.password;
        let mut updated = profile.record.clone();
        let mut txn = Transaction::new();
        txn.require_unchanged(&profile);
        match (&input.password, hash) {
            (Some(password), Some(hash)) => {
                let account = caller.account();
                let policy = load_policy(&*iam.store, account).await?;
                checked_new_password(
                    iam,
                    account,
                    settings(policy.as_ref()),
                    password,
                    Some(current),
                )
                .await?;
                pin_policy(&mut txn, account, policy.as_ref());
                let reset = input.reset_required.unwrap_or(current.reset_required);
                let now = Timestamp::now(&*iam.clock).as_unix_secs();
                updated.password = current.replaced(hash.clone(), now, reset);
            }
            _ => {
                if let Some(reset) = input.reset_required {
                    updated.password.reset_required = reset;
                }
            }
        }
        txn.put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// DeleteLoginProfile: the user can no longer sign in with a password.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (no such user, or no profile).
pub async fn delete_login_profile(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
) -> Result<(), ServiceError> {
    let name = &target_name(caller, name)?;
    authorize_on_user(iam, caller, "iam:DeleteLoginProfile", name).await?;
    commit_with_retry(&*iam.store, move || async move {
        let profile = load_profile(&*iam.store, caller, name).await?;
        let mut txn = Transaction::new();
        txn.require_unchanged(&profile)
            .delete(Key::login_profile(caller.account(), name));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ChangePassword: the calling IAM user replaces its own password, given
/// the current one. Clears `PasswordResetRequired`.
///
/// Allowed by `iam:ChangePassword` on the user's own ARN, or, short of an
/// explicit Deny, by the policy's `AllowUsersToChangePassword`. A
/// password expired under `HardExpiry` cannot be changed this way.
///
/// # Errors
///
/// `InvalidUserType` for any caller but an IAM user; `AccessDenied`
/// (not allowed, a wrong `OldPassword`, or a hard-expired password);
/// `NoSuchEntity` (no profile); `PasswordPolicyViolation`.
pub async fn change_password(
    iam: &Iam,
    caller: &AuthzCaller,
    old: Password,
    new: Password,
) -> Result<(), ServiceError> {
    if caller.principal().kind != PrincipalKind::User {
        return Err(ServiceError::new(
            ErrorCode::InvalidUserType,
            "Only IAM users can change their own password; the caller is not an IAM user.",
        ));
    }
    let name = &caller_user_name(caller)?;
    let account = caller.account();
    let user = load_user(&*iam.store, caller, name).await?;
    let policy = load_policy(&*iam.store, account).await?;
    if let Err(denied) = caller.authorize("iam:ChangePassword", user.record.arn.as_str(), &[])
        && !users_may_change(caller, settings(policy.as_ref()), &denied)
    {
        return Err(denied);
    }
    // No hashing for a user without a profile (checked again below).
    load_profile(&*iam.store, caller, name).await?;
    let hash = hashing::hash(iam, new.clone()).await?;
    let (old, new, hash) = (&old, &new, &hash);
    commit_with_retry(&*iam.store, move || async move {
        let profile = load_profile(&*iam.store, caller, name).await?;
        let current = &profile.record.password;
        let (stored, candidate) = (current.hash.clone(), old.clone());
        if !hashing::blocking(move || stored.matches(&candidate)).await? {
            return Err(ServiceError::new(
                ErrorCode::AccessDenied,
                "The OldPassword does not match the user's current password.",
            ));
        }
        let policy = load_policy(&*iam.store, account).await?;
        let settings = settings(policy.as_ref());
        let now = Timestamp::now(&*iam.clock).as_unix_secs();
        if current.is_expired(settings, now) && settings.is_some_and(PasswordPolicy::is_hard_expiry)
        {
            return Err(ServiceError::new(
                ErrorCode::AccessDenied,
                "The password has expired and the account password policy (HardExpiry) lets only an administrator reset it.",
            ));
        }
        checked_new_password(iam, account, settings, new, Some(current)).await?;
        let mut updated = profile.record.clone();
        updated.password = current.replaced(hash.clone(), now, false);
        let mut txn = Transaction::new();
        txn.require_unchanged(&profile).put(updated);
        pin_policy(&mut txn, account, policy.as_ref());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}
