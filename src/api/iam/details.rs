//! GetAccountAuthorizationDetails on the wire.
//!
//! Owns: decoding `Filter.member.N`, `MaxItems` and `Marker`, and writing
//! IAM's `UserDetailList`, `GroupDetailList`, `RoleDetailList` and
//! `Policies` (every policy document URL-encoded, as IAM sends it; all
//! four lists always present, empty when filtered out). Imports `service`
//! and the api's own modules.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::encode::url_encode;
use super::policies::{write_policy, write_version};
use super::roles::write_last_used;
use super::route::route;
use super::users::secs;
use super::{paging, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::domain::ids::{Arn, PolicyName};
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::iam::boundaries::policy_name_of;
use crate::service::iam::details::{self, AccountDetails, EntityType};
use crate::service::iam::roles::RoleView;
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord, UserRecord};

/// AWS's constraint text for a bad `Filter` member.
const FILTER_VALUES: &str = "Member must satisfy constraint: [Member must satisfy enum value set: [LocalManagedPolicy, Group, Role, User, AWSManagedPolicy]]";

/// `Filter.member.N`.
fn filter(p: &Scope<'_>) -> Result<Vec<EntityType>, ServiceError> {
    p.list("Filter")?
        .into_iter()
        .map(|v| EntityType::from_wire(v).ok_or_else(|| p.invalid("Filter", v, FILTER_VALUES)))
        .collect()
}

/// Registers GetAccountAuthorizationDetails.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "GetAccountAuthorizationDetails",
        |iam, caller, call| async move {
            let p = call.params.root();
            let filter = filter(&p)?;
            let paging = paging(&p)?;
            let page =
                details::get_account_authorization_details(&iam, &caller, &filter, &paging).await?;
            Ok(response(&page))
        },
    );
}

/// The whole result.
fn response(page: &AccountDetails) -> XmlResponse {
    let mut r = XmlResponse::new();
    r.list("UserDetailList", |l| {
        for u in &page.users {
            l.structure(|x| write_user(x, u));
        }
    });
    r.list("GroupDetailList", |l| {
        for g in &page.groups {
            l.structure(|x| write_group(x, g));
        }
    });
    r.list("RoleDetailList", |l| {
        for v in &page.roles {
            l.structure(|x| write_role(x, v));
        }
    });
    r.list("Policies", |l| {
        for p in &page.policies {
            l.structure(|x| write_managed(x, p));
        }
    });
    r.bool("IsTruncated", page.marker.is_some())
        .opt_string("Marker", page.marker.clone());
    r
}

/// `<UserDetail>`'s members.
fn write_user(r: &mut XmlResponse, u: &UserRecord) {
    r.string("Path", u.path.as_str())
        .string("UserName", u.name.as_str())
        .string("UserId", u.id.as_str())
        .string("Arn", u.arn.as_str())
        .timestamp("CreateDate", secs(u.create_date.as_unix_secs()));
    write_inline(r, "UserPolicyList", &u.inline_policies);
    r.list("GroupList", |l| {
        for g in &u.groups {
            l.string(g.as_str());
        }
    });
    write_attached(r, &u.attached_policies);
    write_boundary(r, u.permissions_boundary.as_ref());
    if !u.tags.is_empty() {
        write_tags(r, &u.tags);
    }
}

/// `<GroupDetail>`'s members.
fn write_group(r: &mut XmlResponse, g: &GroupRecord) {
    r.string("Path", g.path.as_str())
        .string("GroupName", g.name.as_str())
        .string("GroupId", g.id.as_str())
        .string("Arn", g.arn.as_str())
        .timestamp("CreateDate", secs(g.create_date.as_unix_secs()));
    write_inline(r, "GroupPolicyList", &g.inline_policies);
    write_attached(r, &g.attached_policies);
}

/// `<RoleDetail>`'s members: no instance profiles (stsd has none).
fn write_role(r: &mut XmlResponse, view: &RoleView) {
    let role = &view.role;
    r.string("Path", role.path.as_str())
        .string("RoleName", role.name.as_str())
        .string("RoleId", role.id.as_str())
        .string("Arn", role.arn.as_str())
        .timestamp("CreateDate", secs(role.create_date.as_unix_secs()))
        .string(
            "AssumeRolePolicyDocument",
            url_encode(&role.assume_role_policy),
        )
        .list("InstanceProfileList", |_| {});
    write_inline(r, "RolePolicyList", &role.inline_policies);
    write_attached(r, &role.attached_policies);
    write_boundary(r, role.permissions_boundary.as_ref());
    if !role.tags.is_empty() {
        write_tags(r, &role.tags);
    }
    write_last_used(r, view);
}

/// `<ManagedPolicyDetail>`'s members, with every version's document.
fn write_managed(r: &mut XmlResponse, p: &ManagedPolicyRecord) {
    write_policy(r, p, false);
    r.list("PolicyVersionList", |l| {
        for v in &p.versions {
            l.structure(|x| write_version(x, v, true));
        }
    });
}

/// A `PolicyDetail` list: names and URL-encoded documents.
fn write_inline(r: &mut XmlResponse, name: &'static str, policies: &BTreeMap<PolicyName, String>) {
    r.list(name, |l| {
        for (policy, doc) in policies {
            l.structure(|x| {
                x.string("PolicyName", policy.as_str())
                    .string("PolicyDocument", url_encode(doc));
            });
        }
    });
}

/// `AttachedManagedPolicies`.
fn write_attached(r: &mut XmlResponse, arns: &[Arn]) {
    r.list("AttachedManagedPolicies", |l| {
        for arn in arns {
            l.structure(|x| {
                x.opt_string("PolicyName", policy_name_of(arn).map(|n| n.to_string()))
                    .string("PolicyArn", arn.as_str());
            });
        }
    });
}

/// `PermissionsBoundary`, when set.
fn write_boundary(r: &mut XmlResponse, boundary: Option<&Arn>) {
    if let Some(b) = boundary {
        r.structure("PermissionsBoundary", |p| {
            p.string("PermissionsBoundaryType", "Policy")
                .string("PermissionsBoundaryArn", b.as_str());
        });
    }
}
