//! Enabling virtual MFA devices: EnableMFADevice, DeactivateMFADevice,
//! ResyncMFADevice, ListMFADevices.
//!
//! Owns: the assignment of a device to a user or to root (without a
//! `UserName`, the caller: the calling user, or root when root calls, as
//! for access keys); the limit of eight devices per user and per root; and
//! the code checks. Enable and resync take two consecutive codes
//! ([`totp::find_consecutive`]): for enable the later code lies within one
//! step of now, for resync within [`totp::RESYNC_STEPS`], and the offset
//! resync finds becomes the device's drift. Both codes' steps must come
//! after the last step the device accepted, and are spent in the replay
//! guard before the commit, so no code is accepted twice by any path.
//! Entity checks (`NoSuchEntity`, `EntityAlreadyExists`, `LimitExceeded`)
//! come before the codes are looked at, and a refused code spends nothing.
//! May import `domain`, `service::authz`, `service::error`,
//! `service::store`. Spec: reference sections 10 and 12.

use super::{MAX_MFA_DEVICES, find_device, load_device, open_seed, replay_id};
use crate::domain::ids::{Arn, SerialNumber, UserName};
use crate::domain::secret::TotpCode;
use crate::domain::totp::{self, Window};
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::access_keys::{Target, target};
use crate::service::iam::inline::page_of;
use crate::service::iam::users::load_user;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::model::{
    AccountRecord, CredentialOwner, MfaAssignment, MfaDeviceRecord, UserRecord,
};
use crate::service::store::{
    Key, ReplayScope, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

/// The two codes of EnableMFADevice and ResyncMFADevice.
#[derive(Debug)]
pub struct CodePair {
    /// `AuthenticationCode1`: the earlier code.
    pub code1: TotpCode,
    /// `AuthenticationCode2`: the code of the step after it.
    pub code2: TotpCode,
}

/// The owner's record, freshly read, with its device list.
enum Owner {
    Root(Box<Versioned<AccountRecord>>),
    User(Box<Versioned<UserRecord>>),
}

impl Owner {
    /// Reads the target's record.
    async fn read(iam: &Iam, caller: &AuthzCaller, t: &Target) -> Result<Self, ServiceError> {
        Ok(match t {
            Target::Root => {
                let key = Key::account(caller.account());
                let account = fetch::<AccountRecord>(&*iam.store, &key)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::internal("the caller's account record is missing")
                    })?;
                Self::Root(Box::new(account))
            }
            Target::User(u) => Self::User(Box::new(
                load_user(&*iam.store, caller, &u.record.name).await?,
            )),
        })
    }

    fn devices(&self) -> &[Arn] {
        match self {
            Self::Root(a) => &a.record.root_mfa_devices,
            Self::User(u) => &u.record.mfa_devices,
        }
    }

    fn owner(&self) -> CredentialOwner {
        match self {
            Self::Root(_) => CredentialOwner::Root,
            Self::User(u) => CredentialOwner::User(u.record.name.clone()),
        }
    }

    /// Who the owner is, in messages.
    fn describe(&self) -> String {
        match self {
            Self::Root(_) => "root".to_owned(),
            Self::User(u) => format!("user {}", u.record.name),
        }
    }

    /// Writes the owner back with `edit` applied to its device list.
    fn put_with(&self, txn: &mut Transaction, edit: impl FnOnce(&mut Vec<Arn>)) {
        match self {
            Self::Root(a) => {
                let mut r = a.record.clone();
                edit(&mut r.root_mfa_devices);
                txn.require_unchanged(&**a).put(r);
            }
            Self::User(u) => {
                let mut r = u.record.clone();
                edit(&mut r.mfa_devices);
                txn.require_unchanged(&**u).put(r);
            }
        }
    }

    /// `NoSuchEntity` unless `device` is enabled for this owner.
    fn require_holds(&self, device: &MfaDeviceRecord) -> Result<(), ServiceError> {
        let owner = self.owner();
        if device.assignment.as_ref().is_some_and(|a| a.owner == owner) {
            return Ok(());
        }
        Err(ServiceError::new(
            ErrorCode::NoSuchEntity,
            format!(
                "MFA device with serial number {} is not enabled for {}.",
                device.serial,
                self.describe()
            ),
        ))
    }
}

/// EnableMFADevice's checks before codes: the device is free and the
/// owner below the limit.
fn check_enable(owner: &Owner, device: &MfaDeviceRecord) -> Result<(), ServiceError> {
    if device.assignment.is_some() || owner.devices().contains(&device.serial) {
        return Err(ServiceError::new(
            ErrorCode::EntityAlreadyExists,
            "MFA Device is already in use.",
        ));
    }
    if owner.devices().len() >= MAX_MFA_DEVICES {
        return Err(ServiceError::new(
            ErrorCode::LimitExceeded,
            format!("Cannot exceed quota for MFADevicesPerUser: {MAX_MFA_DEVICES}"),
        ));
    }
    Ok(())
}

/// `InvalidAuthenticationCode` (403) with AWS's sentence and why.
fn invalid_code(why: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::InvalidAuthenticationCode,
        format!("Authentication code for device is not valid: {why}"),
    )
}

/// The reason given for codes that are not a current consecutive pair.
const NOT_CONSECUTIVE: &str = "AuthenticationCode1 and AuthenticationCode2 must be two consecutive codes of the device, the second one current, neither used before.";

/// Checks `codes` against `device` in `window` (after its last accepted
/// step) and spends both steps in the replay guard. Returns the step of
/// the second code.
async fn accept_codes(
    iam: &Iam,
    device: &MfaDeviceRecord,
    codes: &CodePair,
    window: Window,
) -> Result<u64, ServiceError> {
    let seed = open_seed(iam, device)?;
    let step = totp::find_consecutive(
        seed.expose_secret(),
        codes.code1.expose_secret(),
        codes.code2.expose_secret(),
        window.after(device.last_accepted_step),
    )
    .ok_or_else(|| invalid_code(NOT_CONSECUTIVE))?;
    for s in [step.saturating_sub(1), step] {
        let not_after = Timestamp::from_unix_secs(totp::replay_not_after(s));
        let first = iam
            .store
            .use_once(ReplayScope::TotpStep, &replay_id(device, s), not_after)
            .await?;
        if !first {
            return Err(invalid_code("a code can be used only once."));
        }
    }
    Ok(step)
}

/// The clock's now, in whole seconds.
fn now_secs(iam: &Iam) -> u64 {
    iam.clock.now().as_secs()
}

/// Re-reads the device inside a commit, refusing one that is not the
/// device whose codes were checked (deleted and created again since).
async fn same_device(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
    checked: &MfaDeviceRecord,
) -> Result<Versioned<MfaDeviceRecord>, ServiceError> {
    let fresh = load_device(&*iam.store, caller, serial).await?;
    if fresh.record.seed != checked.seed {
        return Err(invalid_code(NOT_CONSECUTIVE));
    }
    Ok(fresh)
}

/// EnableMFADevice: assigns the device to the user (default: the caller;
/// root when root calls without `UserName`).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (user, device), `EntityAlreadyExists`
/// (the device is enabled), `LimitExceeded` (eight devices),
/// `InvalidAuthenticationCode`, `ValidationError` for a role caller
/// without `UserName`.
pub async fn enable_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    serial: &SerialNumber,
    codes: &CodePair,
) -> Result<(), ServiceError> {
    let t = target(iam, caller, "iam:EnableMFADevice", name.as_ref()).await?;
    let device = load_device(&*iam.store, caller, serial).await?;
    check_enable(&Owner::read(iam, caller, &t).await?, &device.record)?;
    let now = now_secs(iam);
    let window = Window::around(now, 0, totp::DRIFT_STEPS);
    let step = accept_codes(iam, &device.record, codes, window).await?;
    let (t, checked) = (&t, &device.record);
    commit_with_retry(&*iam.store, move || async move {
        let owner = Owner::read(iam, caller, t).await?;
        let fresh = same_device(iam, caller, serial, checked).await?;
        check_enable(&owner, &fresh.record)?;
        let mut updated = fresh.record.clone();
        updated.assignment = Some(MfaAssignment {
            owner: owner.owner(),
            enable_date: Timestamp::now(&*iam.clock),
        });
        updated.last_accepted_step = Some(step.max(updated.last_accepted_step.unwrap_or(0)));
        updated.drift_steps = 0;
        // Two good codes prove the device: STS's brute-force count and
        // lock start afresh.
        updated.failed_codes = 0;
        updated.locked_until = None;
        let mut txn = Transaction::new();
        owner.put_with(&mut txn, |list| list.push(updated.serial.clone()));
        txn.require_unchanged(&fresh).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// DeactivateMFADevice: unassigns the device, which stays (unassigned)
/// until deleted. Its last accepted step is kept, so codes used before
/// stay refused if it is enabled again.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (user, device, or the device is not
/// enabled for that user).
pub async fn deactivate_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    serial: &SerialNumber,
) -> Result<(), ServiceError> {
    let t = target(iam, caller, "iam:DeactivateMFADevice", name.as_ref()).await?;
    let t = &t;
    commit_with_retry(&*iam.store, move || async move {
        let owner = Owner::read(iam, caller, t).await?;
        let device = load_device(&*iam.store, caller, serial).await?;
        owner.require_holds(&device.record)?;
        let mut updated = device.record.clone();
        updated.assignment = None;
        updated.drift_steps = 0;
        let mut txn = Transaction::new();
        owner.put_with(&mut txn, |list| list.retain(|s| *s != updated.serial));
        txn.require_unchanged(&device).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ResyncMFADevice: two consecutive codes within
/// [`totp::RESYNC_STEPS`] of now; records the device's drift.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity` (user, device, or not enabled for the
/// user), `InvalidAuthenticationCode`.
pub async fn resync_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    serial: &SerialNumber,
    codes: &CodePair,
) -> Result<(), ServiceError> {
    let t = target(iam, caller, "iam:ResyncMFADevice", name.as_ref()).await?;
    let device = load_device(&*iam.store, caller, serial).await?;
    Owner::read(iam, caller, &t)
        .await?
        .require_holds(&device.record)?;
    let now = now_secs(iam);
    let window = Window::around(now, 0, totp::RESYNC_STEPS);
    let step = accept_codes(iam, &device.record, codes, window).await?;
    let drift = i64::try_from(step)
        .ok()
        .zip(i64::try_from(totp::step(now)).ok())
        .map_or(0, |(s, n)| s - n);
    let (t, checked) = (&t, &device.record);
    commit_with_retry(&*iam.store, move || async move {
        let owner = Owner::read(iam, caller, t).await?;
        let fresh = same_device(iam, caller, serial, checked).await?;
        owner.require_holds(&fresh.record)?;
        let mut updated = fresh.record.clone();
        updated.last_accepted_step = Some(step.max(updated.last_accepted_step.unwrap_or(0)));
        updated.drift_steps = drift;
        // As for EnableMFADevice: the device is proven, the lock lifts.
        updated.failed_codes = 0;
        updated.locked_until = None;
        let mut txn = Transaction::new();
        txn.require_unchanged(&fresh).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

/// ListMFADevices: the devices enabled for the user (default: the
/// caller; root when root calls without `UserName`), in the order they
/// were enabled.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `ValidationError` for a role caller
/// without `UserName`.
pub async fn list_mfa_devices(
    iam: &Iam,
    caller: &AuthzCaller,
    name: Option<UserName>,
    paging: &Paging,
) -> Result<Listing<MfaDeviceRecord>, ServiceError> {
    let t = target(iam, caller, "iam:ListMFADevices", name.as_ref()).await?;
    let owner = Owner::read(iam, caller, &t).await?;
    let mut numbered = Vec::new();
    for (i, serial) in owner.devices().iter().enumerate() {
        let found = find_device(&*iam.store, caller.account(), serial.as_str()).await?;
        if let Some(device) = found
            && owner.require_holds(&device.record).is_ok()
        {
            numbered.push((format!("{i:04}"), device.record));
        }
    }
    let page = page_of(numbered, paging, |(m, _)| m.clone());
    Ok(Listing {
        items: page.items.into_iter().map(|(_, d)| d).collect(),
        marker: page.marker,
    })
}
