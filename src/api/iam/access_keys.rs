//! IAM access key actions on the wire: CreateAccessKey, UpdateAccessKey,
//! DeleteAccessKey, ListAccessKeys, GetAccessKeyLastUsed.
//!
//! Owns: decoding their parameters and writing `AccessKey`,
//! `AccessKeyMetadata` and `AccessKeyLastUsed`. The secret appears in
//! CreateAccessKey's response only, and is never logged. Imports `service`
//! and the api's own modules.

use std::sync::Arc;

use super::route::route;
use super::users::secs;
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::domain::ids::AccountId;
use crate::service::iam::{Iam, access_keys};
use crate::service::store::model::{AccessKeyRecord, AccessKeyStatus, CredentialOwner};

/// The `UserName` IAM shows for a key: the user, or the account for root.
fn owner_name(owner: &CredentialOwner, account: AccountId) -> String {
    match owner {
        CredentialOwner::Root => account.to_string(),
        CredentialOwner::User(n) => n.to_string(),
    }
}

fn status(s: AccessKeyStatus) -> &'static str {
    match s {
        AccessKeyStatus::Active => "Active",
        AccessKeyStatus::Inactive => "Inactive",
    }
}

fn write_metadata(r: &mut XmlResponse, k: &AccessKeyRecord) {
    r.string("UserName", owner_name(&k.owner, k.account))
        .string("AccessKeyId", k.id.as_str())
        .string("Status", status(k.status))
        .timestamp("CreateDate", secs(k.create_date.as_unix_secs()));
}

/// Registers the access key actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "CreateAccessKey", |iam, caller, call| async move {
        let name = call.params.root().parse("UserName")?;
        let k = access_keys::create_access_key(&iam, &caller, name).await?;
        let mut r = XmlResponse::new();
        r.structure("AccessKey", |x| {
            x.string("UserName", owner_name(&k.record.owner, k.record.account))
                .string("AccessKeyId", k.record.id.as_str())
                .string("Status", status(k.record.status))
                .string("SecretAccessKey", k.secret.expose_secret())
                .timestamp("CreateDate", secs(k.record.create_date.as_unix_secs()));
        });
        Ok(r)
    });
    route(d, iam, "UpdateAccessKey", |iam, caller, call| async move {
        let p = call.params.root();
        let s = match p.required("Status")? {
            "Active" => AccessKeyStatus::Active,
            "Inactive" => AccessKeyStatus::Inactive,
            other => {
                return Err(p.invalid(
                    "Status",
                    other,
                    "Member must satisfy enum value set: [Active, Inactive]",
                ));
            }
        };
        let (name, id) = (p.parse("UserName")?, p.parse_required("AccessKeyId")?);
        access_keys::update_access_key(&iam, &caller, name, id, s).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "DeleteAccessKey", |iam, caller, call| async move {
        let p = call.params.root();
        let (name, id) = (p.parse("UserName")?, p.parse_required("AccessKeyId")?);
        access_keys::delete_access_key(&iam, &caller, name, id).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListAccessKeys", |iam, caller, call| async move {
        let name = call.params.root().parse("UserName")?;
        let keys = access_keys::list_access_keys(&iam, &caller, name).await?;
        let mut r = XmlResponse::new();
        r.list("AccessKeyMetadata", |l| {
            for k in &keys {
                l.structure(|x| write_metadata(x, k));
            }
        });
        r.bool("IsTruncated", false);
        Ok(r)
    });
    route(
        d,
        iam,
        "GetAccessKeyLastUsed",
        |iam, caller, call| async move {
            let id = call.params.root().parse_required("AccessKeyId")?;
            let (owner, used) = access_keys::get_access_key_last_used(&iam, &caller, id).await?;
            let mut r = XmlResponse::new();
            r.string("UserName", owner_name(&owner, caller.account()));
            r.structure("AccessKeyLastUsed", |x| match &used {
                Some(u) => {
                    x.timestamp("LastUsedDate", secs(u.date.as_unix_secs()))
                        .string(
                            "ServiceName",
                            u.service.clone().unwrap_or_else(|| "N/A".into()),
                        )
                        .string(
                            "Region",
                            u.region
                                .as_ref()
                                .map_or_else(|| "N/A".into(), ToString::to_string),
                        );
                }
                None => {
                    x.string("ServiceName", "N/A").string("Region", "N/A");
                }
            });
            Ok(r)
        },
    );
}
