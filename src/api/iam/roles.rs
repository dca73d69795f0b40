//! IAM role actions on the wire: CreateRole, GetRole, UpdateRole,
//! UpdateRoleDescription, UpdateAssumeRolePolicy, DeleteRole, ListRoles,
//! TagRole, UntagRole, ListRoleTags, and the role and user permissions
//! boundary actions.
//!
//! Owns: decoding their parameters into domain types and writing IAM's
//! `Role` element (trust policy URL-encoded, as IAM sends it). Imports
//! `service` and the api's own modules.

use std::sync::Arc;

use super::encode::url_encode;
use super::route::{route, tag_keys, tag_page};
use super::users::secs;
use super::{paging, tags, write_page, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::service::iam::Iam;
use crate::service::iam::boundaries::{set_role_boundary, set_user_boundary};
use crate::service::iam::roles::{self, CreateRole, RoleView};
use crate::service::store::model::RoleRecord;

/// Which optional members a `Role` element carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoleShape {
    /// GetRole, CreateRole: tags, boundary and last use too.
    Full,
    /// ListRoles members.
    Listed,
}

/// Writes `<Role>`'s members.
pub(crate) fn write_role(r: &mut XmlResponse, view: &RoleView, shape: RoleShape) {
    let role: &RoleRecord = &view.role;
    r.string("Path", role.path.as_str())
        .string("RoleName", role.name.as_str())
        .string("RoleId", role.id.as_str())
        .string("Arn", role.arn.as_str())
        .timestamp("CreateDate", secs(role.create_date.as_unix_secs()))
        .string(
            "AssumeRolePolicyDocument",
            url_encode(&role.assume_role_policy),
        )
        .opt_string("Description", role.description.clone())
        .int(
            "MaxSessionDuration",
            i64::from(role.max_session_duration_secs),
        );
    if shape == RoleShape::Listed {
        return;
    }
    if let Some(b) = &role.permissions_boundary {
        r.structure("PermissionsBoundary", |p| {
            p.string("PermissionsBoundaryType", "Policy")
                .string("PermissionsBoundaryArn", b.as_str());
        });
    }
    if !role.tags.is_empty() {
        write_tags(r, &role.tags);
    }
    write_last_used(r, view);
}

/// `<RoleLastUsed>`: empty when the role was never used.
pub(crate) fn write_last_used(r: &mut XmlResponse, view: &RoleView) {
    r.structure("RoleLastUsed", |l| {
        if let Some(used) = &view.last_used {
            l.timestamp("LastUsedDate", secs(used.date.as_unix_secs()))
                .opt_string(
                    "Region",
                    used.region.as_ref().map(|x| x.as_str().to_owned()),
                );
        }
    });
}

/// The `Role` element of a freshly written role (never used yet).
fn role_response(role: RoleRecord) -> XmlResponse {
    let view = RoleView {
        role,
        last_used: None,
    };
    let mut r = XmlResponse::new();
    r.structure("Role", |x| write_role(x, &view, RoleShape::Full));
    r
}

/// Registers the role actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "CreateRole", |iam, caller, call| async move {
        let p = call.params.root();
        let input = CreateRole {
            name: p.parse_required("RoleName")?,
            path: p.parse("Path")?,
            trust_policy: p
                .string("AssumeRolePolicyDocument", 1, 131_072)?
                .ok_or_else(|| p.missing("AssumeRolePolicyDocument"))?
                .to_owned(),
            description: p.string("Description", 0, 1000)?.map(str::to_owned),
            max_session_duration: p.integer("MaxSessionDuration", 3600, 43200)?,
            tags: tags(&p)?,
            permissions_boundary: p.parse("PermissionsBoundary")?,
        };
        Ok(role_response(
            roles::create_role(&iam, &caller, input).await?,
        ))
    });
    route(d, iam, "GetRole", |iam, caller, call| async move {
        let name = call.params.root().parse_required("RoleName")?;
        let view = roles::get_role(&iam, &caller, name).await?;
        let mut r = XmlResponse::new();
        r.structure("Role", |x| write_role(x, &view, RoleShape::Full));
        Ok(r)
    });
    route(d, iam, "UpdateRole", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("RoleName")?;
        let description = p.string("Description", 0, 1000)?.map(str::to_owned);
        let max = p.integer("MaxSessionDuration", 3600, 43200)?;
        roles::update_role(&iam, &caller, name, description, max).await?;
        Ok(XmlResponse::new())
    });
    route(
        d,
        iam,
        "UpdateRoleDescription",
        |iam, caller, call| async move {
            let p = call.params.root();
            let name = p.parse_required("RoleName")?;
            let description = p
                .string("Description", 0, 1000)?
                .ok_or_else(|| p.missing("Description"))?
                .to_owned();
            let role = roles::update_role_description(&iam, &caller, name, description).await?;
            Ok(role_response(role))
        },
    );
    route(
        d,
        iam,
        "UpdateAssumeRolePolicy",
        |iam, caller, call| async move {
            let p = call.params.root();
            let name = p.parse_required("RoleName")?;
            let doc = p
                .string("PolicyDocument", 1, 131_072)?
                .ok_or_else(|| p.missing("PolicyDocument"))?;
            roles::update_assume_role_policy(&iam, &caller, name, doc).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(d, iam, "DeleteRole", |iam, caller, call| async move {
        let name = call.params.root().parse_required("RoleName")?;
        roles::delete_role(&iam, &caller, name).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListRoles", |iam, caller, call| async move {
        let page = roles::list_roles(&iam, &caller, &paging(&call.params.root())?).await?;
        let mut r = XmlResponse::new();
        r.list("Roles", |l| {
            for role in &page.items {
                let view = RoleView {
                    role: role.clone(),
                    last_used: None,
                };
                l.structure(|x| write_role(x, &view, RoleShape::Listed));
            }
        });
        write_page(&mut r, &page);
        Ok(r)
    });
    register_tags(d, iam);
    register_boundaries(d, iam);
}

/// TagRole, UntagRole, ListRoleTags.
fn register_tags(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "TagRole", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("RoleName")?;
        roles::tag_role(&iam, &caller, name, tags(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "UntagRole", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("RoleName")?;
        roles::untag_role(&iam, &caller, name, tag_keys(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListRoleTags", |iam, caller, call| async move {
        let name = call.params.root().parse_required("RoleName")?;
        let tags = roles::list_role_tags(&iam, &caller, name).await?;
        tag_page(&call.params.root(), tags)
    });
}

/// Put/Delete User/Role PermissionsBoundary.
fn register_boundaries(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "PutRolePermissionsBoundary",
        |iam, caller, call| async move {
            let p = call.params.root();
            let name = p.parse_required("RoleName")?;
            let arn = p.parse_required("PermissionsBoundary")?;
            set_role_boundary(&iam, &caller, name, Some(arn)).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteRolePermissionsBoundary",
        |iam, caller, call| async move {
            let name = call.params.root().parse_required("RoleName")?;
            set_role_boundary(&iam, &caller, name, None).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "PutUserPermissionsBoundary",
        |iam, caller, call| async move {
            let p = call.params.root();
            let name = p.parse_required("UserName")?;
            let arn = p.parse_required("PermissionsBoundary")?;
            set_user_boundary(&iam, &caller, name, Some(arn)).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "DeleteUserPermissionsBoundary",
        |iam, caller, call| async move {
            let name = call.params.root().parse_required("UserName")?;
            set_user_boundary(&iam, &caller, name, None).await?;
            Ok(XmlResponse::no_result())
        },
    );
}
