//! The account password policy: GetAccountPasswordPolicy,
//! UpdateAccountPasswordPolicy, DeleteAccountPasswordPolicy.
//!
//! Owns: reading and writing the account's [`PasswordPolicyRecord`], and
//! [`checked_new_password`], the one place a new password is held to the
//! policy in force (AWS's default rules when there is none), reuse
//! included. The actions have no resource type in IAM, so they are
//! authorized on `*`; `AllowUsersToChangePassword` also lets every user
//! read the policy (as AWS's console setting does). May import `domain`,
//! `service::authz`, `service::error`, `service::store`.

use crate::domain::ids::AccountId;
use crate::domain::password::{LoginPassword, PasswordPolicy, Rule, Violations, check_password};
use crate::domain::policy::PrincipalKind;
use crate::domain::secret::Password;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::login::hashing;
use crate::service::store::model::{AccountRecord, PasswordPolicyRecord};
use crate::service::store::{EntityReader, Key, Transaction, Versioned, fetch};

/// The account's policy record, if one is set.
pub(crate) async fn load_policy(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
) -> Result<Option<Versioned<PasswordPolicyRecord>>, ServiceError> {
    Ok(fetch::<PasswordPolicyRecord>(store, &Key::password_policy(account)).await?)
}

/// Pins the policy read as `read` in `txn`: the commit fails if the
/// policy changed (or appeared) since.
pub(crate) fn pin_policy(
    txn: &mut Transaction,
    account: AccountId,
    read: Option<&Versioned<PasswordPolicyRecord>>,
) {
    match read {
        Some(p) => txn.require_unchanged(p),
        None => txn.require_absent(Key::password_policy(account)),
    };
}

/// AWS's answer when the account has no policy.
fn no_policy(account: AccountId) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("The Password Policy with domain name {account} cannot be found."),
    )
}

/// Holds `password` to `policy` (AWS's default rules when `None`): the
/// character rules, then — only for a password that meets them, as each
/// comparison costs an argon2 computation — reuse of the latest
/// `PasswordReusePrevention` passwords of `current`.
///
/// # Errors
///
/// `PasswordPolicyViolation` naming every broken rule.
pub(crate) async fn checked_new_password(
    iam: &Iam,
    account: AccountId,
    policy: Option<&PasswordPolicy>,
    password: &Password,
    current: Option<&LoginPassword>,
) -> Result<(), ServiceError> {
    let alias = match policy {
        // The default policy refuses the account's name (ID or alias).
        None => fetch::<AccountRecord>(&*iam.store, &Key::account(account))
            .await?
            .and_then(|a| a.record.alias),
        Some(_) => None,
    };
    let mut names = vec![account.as_str()];
    names.extend(alias.as_deref());
    if let Err(broken) = check_password(policy, password, &names) {
        return Err(violation(&broken));
    }
    let remembered = policy.map_or(0, PasswordPolicy::remembered);
    if let Some(current) = current
        && remembered > 0
    {
        let (current, candidate) = (current.clone(), password.clone());
        let reused = hashing::blocking(move || current.reused(&candidate, remembered)).await?;
        if reused {
            return Err(violation(&Violations(vec![Rule::NotReused(remembered)])));
        }
    }
    Ok(())
}

/// `PasswordPolicyViolation` with the rules broken.
fn violation(broken: &Violations) -> ServiceError {
    ServiceError::new(ErrorCode::PasswordPolicyViolation, broken.to_string())
}

/// Whether the account's `AllowUsersToChangePassword` grants `caller`, an
/// IAM user, what an implicit deny refused (an explicit Deny still wins).
pub(crate) fn users_may_change(
    caller: &AuthzCaller,
    policy: Option<&PasswordPolicy>,
    denied: &ServiceError,
) -> bool {
    caller.principal().kind == PrincipalKind::User
        && policy.is_some_and(|p| p.allow_users_to_change)
        && denied
            .denial()
            .is_some_and(|r| r.outcome == crate::domain::policy::Outcome::ImplicitDeny)
}

/// GetAccountPasswordPolicy.
///
/// # Errors
///
/// `AccessDenied`; `NoSuchEntity` when the account has no policy.
pub async fn get_account_password_policy(
    iam: &Iam,
    caller: &AuthzCaller,
) -> Result<PasswordPolicy, ServiceError> {
    let found = load_policy(&*iam.store, caller.account()).await?;
    let policy = found.map(|v| v.record.policy);
    if let Err(denied) = caller.authorize("iam:GetAccountPasswordPolicy", "*", &[])
        && !users_may_change(caller, policy.as_ref(), &denied)
    {
        return Err(denied);
    }
    policy.ok_or_else(|| no_policy(caller.account()))
}

/// UpdateAccountPasswordPolicy: replaces the whole policy (settings left
/// out take their defaults, as in AWS).
///
/// # Errors
///
/// `AccessDenied`; `ValidationError` naming a setting out of range.
pub async fn update_account_password_policy(
    iam: &Iam,
    caller: &AuthzCaller,
    policy: PasswordPolicy,
) -> Result<(), ServiceError> {
    caller.authorize("iam:UpdateAccountPasswordPolicy", "*", &[])?;
    policy
        .validate()
        .map_err(|e| ServiceError::new(ErrorCode::ValidationError, e.to_string()))?;
    let mut txn = Transaction::new();
    txn.put(PasswordPolicyRecord {
        account: caller.account(),
        policy,
    });
    iam.store.commit(txn).await?;
    Ok(())
}

/// DeleteAccountPasswordPolicy: AWS's default rules apply again.
///
/// # Errors
///
/// `AccessDenied`; `NoSuchEntity` when the account has no policy.
pub async fn delete_account_password_policy(
    iam: &Iam,
    caller: &AuthzCaller,
) -> Result<(), ServiceError> {
    caller.authorize("iam:DeleteAccountPasswordPolicy", "*", &[])?;
    let found = load_policy(&*iam.store, caller.account())
        .await?
        .ok_or_else(|| no_policy(caller.account()))?;
    let mut txn = Transaction::new();
    txn.require_unchanged(&found)
        .delete(Key::password_policy(caller.account()));
    iam.store.commit(txn).await?;
    Ok(())
}
