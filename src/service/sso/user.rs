//! IAM users sign in with a password, as the AWS console allows.
//!
//! Owns: [`sign_in`] — the account by ID or alias, the user and its login
//! profile, the password checked against the argon2id hash off the async
//! threads (a hash is computed for an unknown account or user too, so
//! timing tells nothing), the password policy's expiry and the reset
//! flag, then — when the user has an MFA device — its code, checked by
//! `GetSessionToken` itself (so the one-use rule and the device lockout
//! of STS apply); the credentials are a `GetSessionToken` session of the
//! user (MFA-authenticated when a code was given), and `PasswordLastUsed`
//! is recorded. Every refusal of the account, name, password or code is
//! the same message. Imports the sibling modules, `service::iam::login`
//! and `service::sts`.

use super::sessions::{Evidence, Issued, Person};
use super::{Sso, SsoError};
use crate::domain::ids::{AccountAlias, AccountId, UserName};
use crate::domain::password::{LoginError, verify_password, verify_without_profile};
use crate::domain::secret::{Password, TotpCode};
use crate::service::authn::{Caller, Identity};
use crate::service::error::ErrorCode;
use crate::service::iam::login::hashing::blocking;
use crate::service::iam::login::policy::load_policy;
use crate::service::store::model::{LoginProfileRecord, UserRecord};
use crate::service::store::{Key, Timestamp, Transaction, Versioned, fetch};
use crate::service::sts::mfa::MfaInput;
use crate::service::sts::session_token::{GetSessionToken, get_session_token};

/// The sign-in form.
#[derive(Debug)]
pub struct SignIn {
    /// Account ID or alias.
    pub account: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: Password,
    /// The MFA device's code, when given.
    pub mfa_code: Option<TotpCode>,
}

/// Signs an IAM user in: who they are and their credentials.
///
/// # Errors
///
/// `BadRequest` when user sign-in is off; `BadCredentials` for a wrong
/// account, user, password or code; `MfaRequired`; `PasswordChange`
/// (expired or reset required); the store's failure.
pub async fn sign_in(
    sso: &Sso,
    form: SignIn,
    request_id: &str,
) -> Result<(Person, Issued), SsoError> {
    if !sso.settings.users {
        return Err(SsoError::BadRequest(
            "IAM users do not sign in on this broker".into(),
        ));
    }
    let store = &*sso.sts.store;
    let Some((user, profile)) = find(sso, &form).await? else {
        let candidate = form.password;
        blocking(move || verify_without_profile(&candidate)).await?;
        return Err(SsoError::BadCredentials);
    };
    let account = user.record.account;
    let policy = load_policy(store, account).await?;
    let now = sso.now();
    let (stored, candidate) = (profile.record.password.clone(), form.password);
    let settings = policy.map(|p| p.record.policy);
    let verdict =
        blocking(move || verify_password(&stored, settings.as_ref(), &candidate, now)).await?;
    match verdict {
        Ok(()) => {}
        Err(LoginError::WrongPassword) => return Err(SsoError::BadCredentials),
        Err(e) => {
            return Err(SsoError::PasswordChange(format!(
                "{e}; change it with `aws iam change-password` (or ask an administrator), then sign in again"
            )));
        }
    }
    let serial = user.record.mfa_devices.first().cloned();
    let mfa = match (serial, form.mfa_code) {
        (None, _) => MfaInput::default(),
        (Some(_), None) => return Err(SsoError::MfaRequired),
        (Some(serial), Some(code)) => MfaInput {
            serial: serial.as_str().parse().ok(),
            code: Some(code),
        },
    };
    let caller = Caller {
        account,
        identity: Identity::User {
            name: user.record.name.clone(),
            unique_id: user.record.id.clone(),
            path: user.record.path.clone(),
        },
        access_key_id: None,
        region: None,
    };
    let minted = get_session_token(
        &sso.sts,
        &caller,
        GetSessionToken {
            duration: Some(sso.settings.user_session_secs),
            mfa,
            request_id: request_id.to_owned(),
        },
    )
    .await
    .map_err(|e| {
        if e.code() == ErrorCode::AccessDenied {
            SsoError::BadCredentials
        } else {
            SsoError::Refused(e)
        }
    })?;
    record_password_use(sso, &user, now).await;
    let issued = super::pick::issued(sso, minted, None);
    let person = Person {
        display: format!("{} ({account})", user.record.name),
        via: "IAM user".to_owned(),
        evidence: Evidence::User,
        roles: Vec::new(),
    };
    Ok((person, issued))
}

/// The user and login profile the form names, if both exist.
async fn find(
    sso: &Sso,
    form: &SignIn,
) -> Result<Option<(Versioned<UserRecord>, Versioned<LoginProfileRecord>)>, SsoError> {
    let store = &*sso.sts.store;
    let raw = form.account.trim();
    let account = if let Ok(id) = raw.parse::<AccountId>() {
        Some(id)
    } else if let Ok(alias) = raw.to_ascii_lowercase().parse::<AccountAlias>() {
        store.account_by_alias(&alias).await?
    } else {
        None
    };
    let (Some(account), Ok(name)) = (account, form.user.trim().parse::<UserName>()) else {
        return Ok(None);
    };
    let Some(user) = fetch::<UserRecord>(store, &Key::user(account, &name)).await? else {
        return Ok(None);
    };
    // The profile is keyed by the stored name (user names are
    // case-insensitive).
    let key = Key::login_profile(account, &user.record.name);
    Ok(fetch::<LoginProfileRecord>(store, &key)
        .await?
        .map(|profile| (user, profile)))
}

/// Sets the user's `PasswordLastUsed` (best effort: a lost race or a
/// store failure is logged, the sign-in stands).
async fn record_password_use(sso: &Sso, user: &Versioned<UserRecord>, now: u64) {
    let mut updated = user.record.clone();
    updated.password_last_used = Some(Timestamp::from_unix_secs(now));
    let mut txn = Transaction::new();
    txn.require_unchanged(user).put(updated);
    if let Err(e) = sso.sts.store.commit(txn).await {
        tracing::debug!(error = %e, "PasswordLastUsed not recorded");
    }
}
