//! MFA in STS: the `SerialNumber` and `TokenCode` of AssumeRole and
//! GetSessionToken (reference 10).
//!
//! Owns: [`check`] — both parameters or neither; the device must be a
//! virtual MFA device of the caller's account enabled for the calling user
//! (or root); the code is a TOTP code (RFC 6238: SHA-1, 6 digits, 30 s)
//! of a step within one step of now, shifted by the device's drift
//! (`ResyncMFADevice`), after the last step the device accepted; and each
//! step is accepted at most once per device, through the store's replay
//! guard, so a code is never accepted twice by any replica.
//!
//! # Brute-force limit
//!
//! Every check of a device's code counts in the device record *before* the
//! code is looked at (one store commit, so concurrent guesses on any
//! replica count too); an accepted code resets the count. When the count
//! reaches the configured `[limits] mfa_max_failed_codes` (default
//! [`MAX_FAILED_CODES`]), the device refuses every code with `Throttling`
//! for `mfa_lockout_secs` (default [`LOCKOUT_SECS`]) and the count starts
//! again (the rule: `domain::limits::MfaLockout`). The lock is logged as a
//! `stsd::audit_hint` event ([`on_device_locked`]). With three acceptable
//! steps per guess that bounds an attacker holding the user's long-term
//! key to five guesses per 15 minutes (about 0.14 % chance of success per
//! day). Only the device's owner can spend its attempts: a serial that is
//! not the caller's is refused before anything counts. Every refusal is
//! AWS's `AccessDenied` "MultiFactorAuthentication failed …" text, which
//! says nothing about why a code was wrong.
//!
//! May import `domain`, `service::error`, `service::iam::mfa` (device
//! lookup, replay ids) and `service::store`.

use crate::domain::credential::MfaInfo;
use crate::domain::ids::{AccountId, SerialNumber};
use crate::domain::limits::MfaCheck;
use crate::domain::seal::{self, SealPurpose};
use crate::domain::secret::{TotpCode, TotpSeed};
use crate::domain::totp::{self, Window};
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::mfa::{find_device, replay_id};
use crate::service::limits::throttled;
use crate::service::store::model::{CredentialOwner, MfaDeviceRecord};
use crate::service::store::{ReplayScope, Timestamp, Transaction, Versioned, commit_with_retry};

use super::Sts;
use crate::telemetry::metrics::Limit;

/// Checks of one device's codes allowed before it locks, by default.
pub const MAX_FAILED_CODES: u32 = 5;

/// How long a device refuses every code once locked, in seconds, by
/// default.
pub const LOCKOUT_SECS: u64 = 900;

/// Called once when wrong codes lock `serial` of `account` until `until`
/// (Unix seconds): the hook of the audit trail. It emits a structured
/// event with target `stsd::audit_hint`; the audit trail's writer can be
/// called from here in one line.
pub fn on_device_locked(account: AccountId, serial: &SerialNumber, until: u64) {
    tracing::warn!(
        target: "stsd::audit_hint",
        event = "MfaDeviceLocked",
        account = %account,
        serial = %serial,
        locked_until = until,
        "an MFA device is locked after too many invalid codes"
    );
}

/// The audit record of a device lock (`MfaDeviceLocked`, an
/// `AwsServiceEvent` of `stsd`).
async fn audit_lock(
    audit: &crate::service::audit::Audit,
    account: AccountId,
    serial: &SerialNumber,
    until: u64,
) {
    use crate::domain::audit::{EventSource, EventType, UserIdentity};
    let mut identity = UserIdentity::unknown();
    identity.account_id = Some(account.to_string());
    let event = crate::service::audit::Event {
        source: EventSource::Stsd,
        name: "MfaDeviceLocked".into(),
        kind: EventType::ServiceEvent,
        identity,
        source_ip: None,
        user_agent: None,
        request_id: String::new(),
        request_parameters: Some(serde_json::json!({
            "serialNumber": serial.as_str(),
            "lockedUntil": until,
        })),
        response_elements: None,
        error: None,
        read_only: false,
        account: Some(account.to_string()),
        additional: serde_json::Map::new(),
    };
    if let Err(e) = audit.record(event).await {
        tracing::warn!(error = %e.message(), "the MFA device lock was not recorded in the audit trail");
    }
}

/// Whether `err` is a refusal of an MFA code (wrong, reused, foreign or
/// half-given), which counts as a failed authentication of its source.
pub fn is_code_refusal(err: &ServiceError) -> bool {
    err.code() == ErrorCode::AccessDenied
        && err
            .message()
            .starts_with("MultiFactorAuthentication failed")
}

/// AWS's refusal of a wrong, reused or foreign code.
pub(crate) fn invalid_code() -> ServiceError {
    ServiceError::new(
        ErrorCode::AccessDenied,
        "MultiFactorAuthentication failed with invalid MFA one time pass code. ",
    )
}

/// The MFA parameters of a request.
#[derive(Debug, Default)]
pub struct MfaInput {
    /// `SerialNumber`: the virtual device's ARN.
    pub serial: Option<SerialNumber>,
    /// `TokenCode`: its current code.
    pub code: Option<TotpCode>,
}

/// Checks `input` for the caller `owner` (`None` for a caller that owns no
/// devices, such as a role session) of `account`: `None` when the request
/// carries no MFA, the session's MFA information when the code is good.
///
/// # Errors
///
/// `AccessDenied` when only one parameter is given, the device is not the
/// caller's, the device is locked, or the code is wrong or used; the
/// store's failure.
pub async fn check(
    sts: &Sts,
    account: AccountId,
    owner: Option<CredentialOwner>,
    input: &MfaInput,
) -> Result<Option<MfaInfo>, ServiceError> {
    let (serial, code) = match (&input.serial, &input.code) {
        (None, None) => return Ok(None),
        (Some(s), Some(c)) => (s, c),
        _ => {
            return Err(ServiceError::new(
                ErrorCode::AccessDenied,
                "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code.",
            ));
        }
    };
    let owner = owner.ok_or_else(invalid_code)?;
    let device = find_device(&*sts.store, account, serial.as_str())
        .await?
        .filter(|d| {
            d.record
                .assignment
                .as_ref()
                .is_some_and(|a| a.owner == owner)
        })
        .ok_or_else(invalid_code)?;
    let now = sts.now();
    let device = count_attempt(sts, account, serial, &device.record, now).await?;
    let seed = open_seed(sts, &device)?;
    let window =
        Window::around(now, device.drift_steps, totp::DRIFT_STEPS).after(device.last_accepted_step);
    let step =
        totp::find(seed.expose_secret(), code.expose_secret(), window).ok_or_else(invalid_code)?;
    let not_after = Timestamp::from_unix_secs(totp::replay_not_after(step));
    let first = sts
        .store
        .use_once(ReplayScope::TotpStep, &replay_id(&device, step), not_after)
        .await?;
    if !first {
        return Err(invalid_code());
    }
    accept(sts, account, serial, &device, step).await?;
    Ok(Some(MfaInfo {
        serial: device.serial.clone(),
        authenticated_at: now,
    }))
}

/// Opens the sealed seed of `device`.
fn open_seed(sts: &Sts, device: &MfaDeviceRecord) -> Result<TotpSeed, ServiceError> {
    let purpose = SealPurpose::mfa_seed(device.serial.as_str());
    let opened =
        seal::open(&sts.master_key, &purpose, &device.seed).map_err(ServiceError::internal)?;
    TotpSeed::from_base32(opened.expose_secret()).map_err(ServiceError::internal)
}

/// The device `serial` of `account` as it is now, if it is still the
/// device `checked` (not deleted and created again since).
async fn reread(
    sts: &Sts,
    account: AccountId,
    serial: &SerialNumber,
    checked: &MfaDeviceRecord,
) -> Result<Versioned<MfaDeviceRecord>, ServiceError> {
    find_device(&*sts.store, account, serial.as_str())
        .await?
        .filter(|d| d.record.seed == checked.seed && d.record.assignment == checked.assignment)
        .ok_or_else(invalid_code)
}

/// Counts one check of `device`'s code, or refuses it while the device is
/// locked; locks the device when this check reaches the limit. Returns
/// the device as committed.
async fn count_attempt(
    sts: &Sts,
    account: AccountId,
    serial: &SerialNumber,
    device: &MfaDeviceRecord,
    now: u64,
) -> Result<MfaDeviceRecord, ServiceError> {
    let rule = *sts.settings.mfa_lockout.get();
    let (updated, _) = commit_with_retry(&*sts.store, move || async move {
        let fresh = reread(sts, account, serial, device).await?;
        let record = &fresh.record;
        let (failed_codes, locks_until) = match rule.count(
            record.failed_codes,
            record.locked_until.map(Timestamp::as_unix_secs),
            now,
        ) {
            MfaCheck::Locked { .. } => return Err(throttled(Limit::MfaDeviceLockout)),
            MfaCheck::Counted {
                failed_codes,
                locks_until,
            } => (failed_codes, locks_until),
        };
        let mut updated = record.clone();
        updated.failed_codes = failed_codes;
        if let Some(until) = locks_until {
            updated.locked_until = Some(Timestamp::from_unix_secs(until));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&fresh).put(updated.clone());
        Ok::<_, ServiceError>((txn, (updated, locks_until)))
    })
    .await?;
    let (updated, locks_until) = updated;
    if let Some(until) = locks_until {
        on_device_locked(account, serial, until);
        if let Some(audit) = &sts.audit {
            audit_lock(audit, account, serial, until).await;
        }
    }
    Ok(updated)
}

/// Records that `device` accepted the code of `step`: the count and any
/// lock are cleared, and the step becomes the device's last accepted one.
async fn accept(
    sts: &Sts,
    account: AccountId,
    serial: &SerialNumber,
    device: &MfaDeviceRecord,
    step: u64,
) -> Result<(), ServiceError> {
    commit_with_retry(&*sts.store, move || async move {
        let fresh = reread(sts, account, serial, device).await?;
        let mut updated = fresh.record.clone();
        updated.failed_codes = 0;
        updated.locked_until = None;
        updated.last_accepted_step = Some(step.max(updated.last_accepted_step.unwrap_or(0)));
        let mut txn = Transaction::new();
        txn.require_unchanged(&fresh).put(updated);
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}
