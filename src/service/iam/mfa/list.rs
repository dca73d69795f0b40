//! Listing virtual MFA devices: ListVirtualMFADevices.
//!
//! Owns: the `AssignmentStatus` filter, pages of `MaxItems` matching
//! devices (reading past those filtered out, the marker being the last
//! shown device's store name), and who each assigned device is enabled
//! for, with what IAM's `User` element shows (for root: its ARN, the
//! account ID and the account's creation date). May import `domain`,
//! `service::authz`, `service::error`, `service::store`.
//! Spec: reference section 10.

use crate::domain::ids::{AccountId, Arn};
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::{Iam, Listing, Paging};
use crate::service::store::model::{AccountRecord, CredentialOwner, MfaDeviceRecord, UserRecord};
use crate::service::store::{Key, Kind, ListQuery, MAX_PAGE, Timestamp, fetch};

/// Which devices ListVirtualMFADevices shows (`AssignmentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssignmentStatus {
    /// Enabled for a user or root.
    Assigned,
    /// Not enabled.
    Unassigned,
    /// All (the default).
    #[default]
    Any,
}

/// A device as ListVirtualMFADevices shows it.
#[derive(Debug, Clone)]
pub struct ListedDevice {
    /// The device.
    pub record: MfaDeviceRecord,
    /// Who it is enabled for, when it is.
    pub user: Option<DeviceUser>,
}

/// Who a device is enabled for, with what IAM's `User` element shows.
#[derive(Debug, Clone)]
pub enum DeviceUser {
    /// The account's root.
    Root {
        /// Root's ARN.
        arn: Arn,
        /// The account.
        account: AccountId,
        /// When the account was created.
        create_date: Timestamp,
    },
    /// A user.
    User(Box<UserRecord>),
}

// === impl AssignmentStatus ===

impl AssignmentStatus {
    fn admits(self, device: &MfaDeviceRecord) -> bool {
        match self {
            Self::Assigned => device.assignment.is_some(),
            Self::Unassigned => device.assignment.is_none(),
            Self::Any => true,
        }
    }
}

/// ListVirtualMFADevices: the account's devices in name order, filtered
/// by `status`, with who each is enabled for. A page holds `MaxItems`
/// matching devices (reading past devices filtered out).
///
/// # Errors
///
/// `AccessDenied`.
pub async fn list_virtual_mfa_devices(
    iam: &Iam,
    caller: &AuthzCaller,
    status: AssignmentStatus,
    paging: &Paging,
) -> Result<Listing<ListedDevice>, ServiceError> {
    let account = caller.account();
    let resource = format!("arn:{}:iam::{account}:mfa/*", iam.partition);
    caller.authorize("iam:ListVirtualMFADevices", &resource, &[])?;
    let limit = paging.query().limit.clamp(1, MAX_PAGE);
    let mut query = ListQuery {
        after: paging.marker.clone(),
        limit: MAX_PAGE,
        path_prefix: None,
    };
    let mut found: Vec<MfaDeviceRecord> = Vec::new();
    let mut marker = None;
    'pages: loop {
        let page = iam.store.list(account, Kind::MfaDevice, &query).await?;
        for item in page.items {
            let device = item.downcast::<MfaDeviceRecord>()?.record;
            if !status.admits(&device) {
                continue;
            }
            if found.len() == limit {
                marker = found
                    .last()
                    .map(|d| Key::mfa_device(account, &d.name).name().to_owned());
                break 'pages;
            }
            found.push(device);
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let mut items = Vec::with_capacity(found.len());
    for record in found {
        let user = device_user(iam, caller, &record).await?;
        items.push(ListedDevice { record, user });
    }
    Ok(Listing { items, marker })
}

/// Who `device` is enabled for, as ListVirtualMFADevices shows it.
async fn device_user(
    iam: &Iam,
    caller: &AuthzCaller,
    device: &MfaDeviceRecord,
) -> Result<Option<DeviceUser>, ServiceError> {
    let Some(assignment) = &device.assignment else {
        return Ok(None);
    };
    let account = caller.account();
    Ok(match &assignment.owner {
        CredentialOwner::Root => {
            let found = fetch::<AccountRecord>(&*iam.store, &Key::account(account)).await?;
            Some(DeviceUser::Root {
                arn: Arn::iam_root(&iam.partition, account),
                account,
                create_date: found.map_or(assignment.enable_date, |a| a.record.create_date),
            })
        }
        CredentialOwner::User(name) => fetch::<UserRecord>(&*iam.store, &Key::user(account, name))
            .await?
            .map(|u| DeviceUser::User(Box::new(u.record))),
    })
}
