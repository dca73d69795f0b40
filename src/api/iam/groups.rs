//! IAM group actions on the wire: CreateGroup, GetGroup, UpdateGroup,
//! DeleteGroup, ListGroups, AddUserToGroup, RemoveUserFromGroup,
//! ListGroupsForUser.
//!
//! Owns: decoding their parameters and writing IAM's `Group` element.
//! Imports `service` and the api's own modules.

use std::sync::Arc;

use super::route::route;
use super::users::{secs, write_user};
use super::{paging, write_page};
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::service::iam::{Iam, groups};
use crate::service::store::model::GroupRecord;

/// Writes `<Group>`'s members.
fn write_group(r: &mut XmlResponse, g: &GroupRecord) {
    r.string("Path", g.path.as_str())
        .string("GroupName", g.name.as_str())
        .string("GroupId", g.id.as_str())
        .string("Arn", g.arn.as_str())
        .timestamp("CreateDate", secs(g.create_date.as_unix_secs()));
}

/// Registers the group actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "CreateGroup", |iam, caller, call| async move {
        let p = call.params.root();
        let (name, path) = (p.parse_required("GroupName")?, p.parse("Path")?);
        let g = groups::create_group(&iam, &caller, name, path).await?;
        let mut r = XmlResponse::new();
        r.structure("Group", |x| write_group(x, &g));
        Ok(r)
    });
    route(d, iam, "GetGroup", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("GroupName")?;
        let (g, users) = groups::get_group(&iam, &caller, name, &paging(&p)?).await?;
        let mut r = XmlResponse::new();
        r.structure("Group", |x| write_group(x, &g));
        r.list("Users", |l| {
            for u in &users.items {
                l.structure(|x| write_user(x, u, false));
            }
        });
        write_page(&mut r, &users);
        Ok(r)
    });
    route(d, iam, "UpdateGroup", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("GroupName")?;
        let (new_name, new_path) = (p.parse("NewGroupName")?, p.parse("NewPath")?);
        groups::update_group(&iam, &caller, name, new_name, new_path).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "DeleteGroup", |iam, caller, call| async move {
        let name = call.params.root().parse_required("GroupName")?;
        groups::delete_group(&iam, &caller, name).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListGroups", |iam, caller, call| async move {
        let page = groups::list_groups(&iam, &caller, &paging(&call.params.root())?).await?;
        let mut r = XmlResponse::new();
        r.list("Groups", |l| {
            for g in &page.items {
                l.structure(|x| write_group(x, g));
            }
        });
        write_page(&mut r, &page);
        Ok(r)
    });
    register_membership(d, iam);
}

/// AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser.
fn register_membership(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "AddUserToGroup", |iam, caller, call| async move {
        let p = call.params.root();
        let (g, u) = (
            p.parse_required("GroupName")?,
            p.parse_required("UserName")?,
        );
        groups::add_user_to_group(&iam, &caller, g, u).await?;
        Ok(XmlResponse::no_result())
    });
    route(
        d,
        iam,
        "RemoveUserFromGroup",
        |iam, caller, call| async move {
            let p = call.params.root();
            let (g, u) = (
                p.parse_required("GroupName")?,
                p.parse_required("UserName")?,
            );
            groups::remove_user_from_group(&iam, &caller, g, u).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "ListGroupsForUser",
        |iam, caller, call| async move {
            let u = call.params.root().parse_required("UserName")?;
            let list = groups::list_groups_for_user(&iam, &caller, u).await?;
            let mut r = XmlResponse::new();
            r.list("Groups", |l| {
                for g in &list {
                    l.structure(|x| write_group(x, g));
                }
            });
            r.bool("IsTruncated", false);
            Ok(r)
        },
    );
}
