//! Virtual MFA devices: CreateVirtualMFADevice, DeleteVirtualMFADevice;
//! ListVirtualMFADevices in [`list`]; enabling them for a user or root in
//! [`assign`] (EnableMFADevice, DeactivateMFADevice, ResyncMFADevice,
//! ListMFADevices); their tags in [`tags`].
//!
//! Owns: the device lifecycle and its rules — names unique in the account
//! (any case, whatever the path); a 20-byte seed from the injected
//! entropy, sealed at rest under the master key for `mfa-seed:<serial>`
//! and shown once, with its QR code (`qr`), by CreateVirtualMFADevice;
//! `DeleteConflict` while a device is enabled; finding a device by its
//! serial number (the device ARN, exactly); and the replay-guard
//! identifiers of its TOTP steps ([`replay_id`]). May import `domain`,
//! `service::authz`, `service::error`, `service::store`, and `qrcode`/`png`
//! (in `qr` only). Spec: reference sections 10 and 12.

pub mod assign;
pub mod list;
mod qr;
pub mod tags;

use std::fmt;

use zeroize::Zeroizing;

use crate::domain::ids::{AccountId, Arn, IamPath, MfaDeviceName, SerialNumber};
use crate::domain::seal::{self, SealPurpose};
use crate::domain::secret::TotpSeed;
use crate::domain::totp;
use crate::service::authz::AuthzCaller;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::{Iam, Rng, check_tags};
use crate::service::store::model::{AccountRecord, MfaDeviceRecord};
use crate::service::store::{
    EntityReader, Key, Tag, Timestamp, Transaction, Versioned, commit_with_retry, fetch,
};

pub use list::{AssignmentStatus, DeviceUser, ListedDevice, list_virtual_mfa_devices};

/// At most this many MFA devices per user, and per root.
pub const MAX_MFA_DEVICES: usize = 8;

/// Bytes of a seed: 160 bits, RFC 4226's recommended key length for
/// HMAC-SHA1 (32 Base32 characters).
pub const SEED_BYTES: usize = 20;

/// The issuer authenticator apps show for the devices.
pub const ISSUER: &str = "stsd";

/// CreateVirtualMFADevice's input.
#[derive(Debug, Clone)]
pub struct CreateVirtualMfaDevice {
    /// `VirtualMFADeviceName`.
    pub name: MfaDeviceName,
    /// `Path` (default `/`).
    pub path: Option<IamPath>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// A device just created, with what CreateVirtualMFADevice shows once.
#[derive(Debug)]
pub struct CreatedMfaDevice {
    /// The device's record (seed sealed).
    pub record: MfaDeviceRecord,
    /// The seed and its QR code, in the clear.
    pub bootstrap: Bootstrap,
}

/// The seed of a new device and the QR code PNG of its `otpauth://` URI.
/// Both are the device's secret: `Debug` prints a placeholder and both
/// zeroize on drop.
pub struct Bootstrap {
    seed: TotpSeed,
    qr_png: Zeroizing<Vec<u8>>,
}

// === impl Bootstrap ===

impl Bootstrap {
    /// The seed.
    pub fn seed(&self) -> &TotpSeed {
        &self.seed
    }

    /// The PNG image of the QR code, which encodes the seed.
    pub fn expose_qr_png(&self) -> &[u8] {
        &self.qr_png
    }
}

impl fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bootstrap(<redacted>)")
    }
}

/// AWS-style `NoSuchEntity` for a serial number that names no device.
pub(crate) fn no_such_device(serial: &str) -> ServiceError {
    ServiceError::new(
        ErrorCode::NoSuchEntity,
        format!("The virtual MFA device with serial number {serial} cannot be found."),
    )
}

/// The virtual device whose serial number (its ARN, exactly) is `serial`
/// in the caller's account, or `NoSuchEntity`.
pub(crate) async fn load_device(
    store: &(impl EntityReader + ?Sized),
    caller: &AuthzCaller,
    serial: &SerialNumber,
) -> Result<Versioned<MfaDeviceRecord>, ServiceError> {
    find_device(store, caller.account(), serial.as_str())
        .await?
        .ok_or_else(|| no_such_device(serial.as_str()))
}

/// The virtual device whose serial number is `serial` in `account`, if
/// any: the serial must be the device's ARN, exactly (path and case
/// included); hardware serials name nothing here.
pub(crate) async fn find_device(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    serial: &str,
) -> Result<Option<Versioned<MfaDeviceRecord>>, ServiceError> {
    let Ok(arn) = serial.parse::<Arn>() else {
        return Ok(None);
    };
    let name: Option<MfaDeviceName> = arn
        .resource()
        .strip_prefix("mfa/")
        .filter(|_| arn.service() == "iam" && arn.account_id() == Some(account))
        .and_then(|r| r.rsplit('/').next())
        .and_then(|n| n.parse().ok());
    let Some(name) = name else {
        return Ok(None);
    };
    Ok(
        fetch::<MfaDeviceRecord>(store, &Key::mfa_device(account, &name))
            .await?
            .filter(|d| d.record.serial.as_str() == serial),
    )
}

/// Opens the sealed seed of `device`.
pub(crate) fn open_seed(iam: &Iam, device: &MfaDeviceRecord) -> Result<TotpSeed, ServiceError> {
    let purpose = SealPurpose::mfa_seed(device.serial.as_str());
    let opened =
        seal::open(&iam.master_key, &purpose, &device.seed).map_err(ServiceError::internal)?;
    TotpSeed::from_base32(opened.expose_secret()).map_err(ServiceError::internal)
}

/// The replay-guard identifier of TOTP step `step` of `device`. The
/// creation time is part of it, so that a device deleted and created
/// again under the same name does not inherit the old one's used steps.
pub fn replay_id(device: &MfaDeviceRecord, step: u64) -> String {
    format!(
        "{}#{}#{step}",
        device.serial,
        device.create_date.as_unix_millis()
    )
}

/// The name the `otpauth://` label shows for the account: its alias, or
/// its ID (AWS's `$AccountName`).
async fn account_name(iam: &Iam, account: AccountId) -> Result<String, ServiceError> {
    let record = fetch::<AccountRecord>(&*iam.store, &Key::account(account)).await?;
    Ok(record
        .and_then(|a| a.record.alias)
        .unwrap_or_else(|| account.to_string()))
}

/// A fresh seed from the injected entropy, sealed for `serial`.
fn new_seed(iam: &Iam, serial: &Arn) -> Result<(TotpSeed, seal::SealedBlob), ServiceError> {
    let mut raw = Zeroizing::new([0_u8; SEED_BYTES]);
    iam.entropy.fill(&mut *raw)?;
    let seed = TotpSeed::from_bytes(&*raw);
    let text = seed.to_base32();
    let sealed = iam.random(|r| {
        seal::seal(
            &iam.master_key,
            &SealPurpose::mfa_seed(serial.as_str()),
            text.as_bytes(),
            &mut Rng(r),
        )
    })?;
    Ok((seed, sealed.map_err(ServiceError::internal)?))
}

/// CreateVirtualMFADevice.
///
/// # Errors
///
/// `AccessDenied`, `EntityAlreadyExists` for a name taken (any case, any
/// path), `LimitExceeded`/`InvalidInput` for tags.
pub async fn create_virtual_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    input: CreateVirtualMfaDevice,
) -> Result<CreatedMfaDevice, ServiceError> {
    let account = caller.account();
    let path = input.path.unwrap_or_else(IamPath::root);
    let serial = Arn::mfa(&iam.partition, account, &path, &input.name);
    caller.authorize("iam:CreateVirtualMFADevice", serial.as_str(), &[])?;
    check_tags(&input.tags)?;
    let (seed, sealed) = new_seed(iam, &serial)?;
    let uri = totp::provisioning_uri(
        ISSUER,
        input.name.as_str(),
        &account_name(iam, account).await?,
        &seed.to_base32(),
    );
    let qr_png = qr::png(&uri)?;
    let record = MfaDeviceRecord {
        account,
        name: input.name,
        path,
        serial,
        seed: sealed,
        assignment: None,
        last_accepted_step: None,
        drift_steps: 0,
        failed_codes: 0,
        locked_until: None,
        tags: input.tags,
        create_date: Timestamp::now(&*iam.clock),
    };
    let record_ref = &record;
    commit_with_retry(&*iam.store, move || async move {
        let key = Key::mfa_device(account, &record_ref.name);
        if iam.store.get(&key).await?.is_some() {
            return Err(ServiceError::new(
                ErrorCode::EntityAlreadyExists,
                format!(
                    "MFADevice entity with the name {} already exists.",
                    record_ref.name
                ),
            ));
        }
        let mut txn = Transaction::new();
        txn.require_absent(key).put(record_ref.clone());
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(CreatedMfaDevice {
        record,
        bootstrap: Bootstrap { seed, qr_png },
    })
}

/// DeleteVirtualMFADevice: refused with `DeleteConflict` while enabled.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `DeleteConflict`.
pub async fn delete_virtual_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
) -> Result<(), ServiceError> {
    caller.authorize("iam:DeleteVirtualMFADevice", serial.as_str(), &[])?;
    commit_with_retry(&*iam.store, move || async move {
        let device = load_device(&*iam.store, caller, serial).await?;
        if device.record.assignment.is_some() {
            return Err(ServiceError::new(
                ErrorCode::DeleteConflict,
                "MFA VirtualDevice in use. Must deactivate first.",
            ));
        }
        let mut txn = Transaction::new();
        txn.require_unchanged(&device)
            .delete(Key::mfa_device(caller.account(), &device.record.name));
        Ok::<_, ServiceError>((txn, ()))
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
