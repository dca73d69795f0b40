//! Tags of virtual MFA devices: TagMFADevice, UntagMFADevice,
//! ListMFADeviceTags.
//!
//! Owns: editing a device's tags under the rules every IAM entity's tags
//! follow (at most 50, no `aws:` keys, keys compared in any case),
//! authorized on the device's ARN (its serial number). May import
//! `domain`, `service::authz`, `service::error`, `service::store`.
//! Spec: reference section 12.

use super::load_device;
use crate::domain::ids::{SerialNumber, TagKey};
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::edit_record;
use crate::service::iam::providers::remove_tags;
use crate::service::iam::{Iam, check_tags, merge_tags};
use crate::service::store::Tag;
use crate::service::store::model::MfaDeviceRecord;

/// TagMFADevice: adds or overwrites tags (at most 50 in all).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`, `LimitExceeded`, `InvalidInput`.
pub async fn tag_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
    tags: Vec<Tag>,
) -> Result<(), ServiceError> {
    caller.authorize("iam:TagMFADevice", serial.as_str(), &[])?;
    check_tags(&tags)?;
    let tags = &tags;
    edit_device(iam, caller, serial, |d| {
        merge_tags(&mut d.tags, tags.clone());
        check_tags(&d.tags)
    })
    .await
}

/// UntagMFADevice: removes tags by key (any case); absent keys are ignored.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn untag_mfa_device(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
    keys: Vec<TagKey>,
) -> Result<(), ServiceError> {
    caller.authorize("iam:UntagMFADevice", serial.as_str(), &[])?;
    let keys = &keys;
    edit_device(iam, caller, serial, |d| {
        remove_tags(&mut d.tags, keys);
        Ok(())
    })
    .await
}

/// ListMFADeviceTags (all tags: at most 50; the transport pages them).
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn list_mfa_device_tags(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
) -> Result<Vec<Tag>, ServiceError> {
    caller.authorize("iam:ListMFADeviceTags", serial.as_str(), &[])?;
    Ok(load_device(&*iam.store, caller, serial).await?.record.tags)
}

/// Applies `edit` to the device in one commit.
async fn edit_device(
    iam: &Iam,
    caller: &AuthzCaller,
    serial: &SerialNumber,
    edit: impl Fn(&mut MfaDeviceRecord) -> Result<(), ServiceError>,
) -> Result<(), ServiceError> {
    edit_record(iam, || load_device(&*iam.store, caller, serial), edit)
        .await
        .map(drop)
}
