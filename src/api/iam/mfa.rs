//! Virtual MFA device actions on the wire: CreateVirtualMFADevice,
//! DeleteVirtualMFADevice, ListVirtualMFADevices, EnableMFADevice,
//! DeactivateMFADevice, ResyncMFADevice, ListMFADevices, TagMFADevice,
//! UntagMFADevice, ListMFADeviceTags.
//!
//! Owns: decoding their parameters (both authentication codes are checked
//! before either is used, and AWS counts every broken constraint) and
//! writing `VirtualMFADevice` and `MFADevice`. `Base32StringSeed` and
//! `QRCodePNG` are blobs, so base64 on the wire (botocore decodes them);
//! they appear in CreateVirtualMFADevice's response only and are never
//! logged. Imports `service` and the api's own modules.

use std::sync::Arc;

use data_encoding::BASE64;
use zeroize::Zeroizing;

use super::route::{route, tag_keys, tag_page};
use super::users::{secs, write_user};
use super::{paging, tags, write_page, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::domain::ids::{AccountId, IdError};
use crate::domain::secret::TotpCode;
use crate::service::error::{ErrorCode, ServiceError};
use crate::service::iam::Iam;
use crate::service::iam::mfa::assign::{self, CodePair};
use crate::service::iam::mfa::{
    self, AssignmentStatus, CreateVirtualMfaDevice, DeviceUser, ListedDevice, tags as mfa_tags,
};
use crate::service::store::model::{CredentialOwner, MfaDeviceRecord};

/// Registers the MFA device actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    register_devices(d, iam);
    register_assignment(d, iam);
    register_tags(d, iam);
}

/// `AuthenticationCode1` and `AuthenticationCode2`, both checked: when
/// both are malformed, AWS's message counts and lists both.
fn codes(p: &Scope<'_>) -> Result<CodePair, ServiceError> {
    let one = |name: &str| -> Result<Result<TotpCode, IdError>, ServiceError> {
        let value = p.required(name)?;
        Ok(value.parse::<TotpCode>().map_err(|e| e.at(p.member(name))))
    };
    match (one("AuthenticationCode1")?, one("AuthenticationCode2")?) {
        (Ok(code1), Ok(code2)) => Ok(CodePair { code1, code2 }),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(validation(&[&e])),
        (Err(e1), Err(e2)) => Err(validation(&[&e1, &e2])),
    }
}

fn validation(errors: &[&IdError]) -> ServiceError {
    ServiceError::new(
        ErrorCode::ValidationError,
        IdError::aws_message_all(errors.iter().copied()),
    )
}

/// `AssignmentStatus` (default `Any`).
fn assignment_status(p: &Scope<'_>) -> Result<AssignmentStatus, ServiceError> {
    Ok(match p.optional("AssignmentStatus") {
        None | Some("Any") => AssignmentStatus::Any,
        Some("Assigned") => AssignmentStatus::Assigned,
        Some("Unassigned") => AssignmentStatus::Unassigned,
        Some(other) => {
            return Err(p.invalid(
                "AssignmentStatus",
                other,
                "Member must satisfy enum value set: [Assigned, Unassigned, Any]",
            ));
        }
    })
}

/// The `UserName` IAM shows for a device's owner: the user, or the
/// account for root (as for access keys).
fn owner_name(owner: &CredentialOwner, account: AccountId) -> String {
    match owner {
        CredentialOwner::Root => account.to_string(),
        CredentialOwner::User(n) => n.to_string(),
    }
}

/// One member of ListVirtualMFADevices' `VirtualMFADevices`.
fn write_listed(r: &mut XmlResponse, listed: &ListedDevice) {
    let d = &listed.record;
    r.string("SerialNumber", d.serial.as_str());
    match &listed.user {
        Some(DeviceUser::User(u)) => {
            r.structure("User", |x| write_user(x, u, false));
        }
        Some(DeviceUser::Root {
            arn,
            account,
            create_date,
        }) => {
            // Root has no user name or path; IAM shows the account ID.
            r.structure("User", |x| {
                x.string("Path", "/")
                    .string("UserName", account.to_string())
                    .string("UserId", account.to_string())
                    .string("Arn", arn.as_str())
                    .timestamp("CreateDate", secs(create_date.as_unix_secs()));
            });
        }
        None => {}
    }
    if let Some(a) = &d.assignment {
        r.timestamp("EnableDate", secs(a.enable_date.as_unix_secs()));
    }
}

/// One member of ListMFADevices' `MFADevices`.
fn write_mfa_device(r: &mut XmlResponse, d: &MfaDeviceRecord) {
    if let Some(a) = &d.assignment {
        r.string("UserName", owner_name(&a.owner, d.account))
            .string("SerialNumber", d.serial.as_str())
            .timestamp("EnableDate", secs(a.enable_date.as_unix_secs()));
    }
}

/// CreateVirtualMFADevice, DeleteVirtualMFADevice, ListVirtualMFADevices.
fn register_devices(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreateVirtualMFADevice",
        |iam, caller, call| async move {
            let p = call.params.root();
            let input = CreateVirtualMfaDevice {
                name: p.parse_required("VirtualMFADeviceName")?,
                path: p.parse("Path")?,
                tags: tags(&p)?,
            };
            let made = mfa::create_virtual_mfa_device(&iam, &caller, input).await?;
            let seed = made.bootstrap.seed().to_base32();
            let seed = Zeroizing::new(BASE64.encode(seed.as_bytes()));
            let png = Zeroizing::new(BASE64.encode(made.bootstrap.expose_qr_png()));
            let mut r = XmlResponse::new();
            r.structure("VirtualMFADevice", |x| {
                x.string("SerialNumber", made.record.serial.as_str())
                    .string("Base32StringSeed", seed.as_str())
                    .string("QRCodePNG", png.as_str());
                if !made.record.tags.is_empty() {
                    write_tags(x, &made.record.tags);
                }
            });
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "DeleteVirtualMFADevice",
        |iam, caller, call| async move {
            let serial = call.params.root().parse_required("SerialNumber")?;
            mfa::delete_virtual_mfa_device(&iam, &caller, &serial).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListVirtualMFADevices",
        |iam, caller, call| async move {
            let p = call.params.root();
            let status = assignment_status(&p)?;
            let page = mfa::list_virtual_mfa_devices(&iam, &caller, status, &paging(&p)?).await?;
            let mut r = XmlResponse::new();
            r.list("VirtualMFADevices", |l| {
                for listed in &page.items {
                    l.structure(|x| write_listed(x, listed));
                }
            });
            write_page(&mut r, &page);
            Ok(r)
        },
    );
}

/// EnableMFADevice, DeactivateMFADevice, ResyncMFADevice, ListMFADevices.
fn register_assignment(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "EnableMFADevice", |iam, caller, call| async move {
        let p = call.params.root();
        let (name, serial) = (p.parse("UserName")?, p.parse_required("SerialNumber")?);
        let codes = codes(&p)?;
        assign::enable_mfa_device(&iam, &caller, name, &serial, &codes).await?;
        Ok(XmlResponse::no_result())
    });
    route(
        d,
        iam,
        "DeactivateMFADevice",
        |iam, caller, call| async move {
            let p = call.params.root();
            let (name, serial) = (p.parse("UserName")?, p.parse_required("SerialNumber")?);
            assign::deactivate_mfa_device(&iam, &caller, name, &serial).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(d, iam, "ResyncMFADevice", |iam, caller, call| async move {
        let p = call.params.root();
        let (name, serial) = (p.parse("UserName")?, p.parse_required("SerialNumber")?);
        let codes = codes(&p)?;
        assign::resync_mfa_device(&iam, &caller, name, &serial, &codes).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListMFADevices", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse("UserName")?;
        let page = assign::list_mfa_devices(&iam, &caller, name, &paging(&p)?).await?;
        let mut r = XmlResponse::new();
        r.list("MFADevices", |l| {
            for device in &page.items {
                l.structure(|x| write_mfa_device(x, device));
            }
        });
        write_page(&mut r, &page);
        Ok(r)
    });
}

/// TagMFADevice, UntagMFADevice, ListMFADeviceTags.
fn register_tags(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "TagMFADevice", |iam, caller, call| async move {
        let p = call.params.root();
        let serial = p.parse_required("SerialNumber")?;
        mfa_tags::tag_mfa_device(&iam, &caller, &serial, tags(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "UntagMFADevice", |iam, caller, call| async move {
        let p = call.params.root();
        let serial = p.parse_required("SerialNumber")?;
        mfa_tags::untag_mfa_device(&iam, &caller, &serial, tag_keys(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(
        d,
        iam,
        "ListMFADeviceTags",
        |iam, caller, call| async move {
            let p = call.params.root();
            let serial = p.parse_required("SerialNumber")?;
            let all = mfa_tags::list_mfa_device_tags(&iam, &caller, &serial).await?;
            tag_page(&p, all)
        },
    );
}
