//! IAM user actions on the wire: CreateUser, GetUser, UpdateUser,
//! DeleteUser, ListUsers, TagUser, UntagUser, ListUserTags.
//!
//! Owns: decoding their parameters into domain types and writing IAM's
//! `User` element. Imports `service` and the api's own modules.

use std::sync::Arc;

use super::route::{route, tag_keys, tag_page};
use super::{paging, tags, write_page, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::xml::XmlResponse;
use crate::service::iam::Iam;
use crate::service::iam::users::{self, CreateUser, GetUser, UpdateUser};
use crate::service::store::model::UserRecord;

/// Writes `<User>`'s members (also used by GetGroup's `Users`).
pub(crate) fn write_user(r: &mut XmlResponse, u: &UserRecord, with_tags: bool) {
    r.string("Path", u.path.as_str())
        .string("UserName", u.name.as_str())
        .string("UserId", u.id.as_str())
        .string("Arn", u.arn.as_str())
        .timestamp("CreateDate", secs(u.create_date.as_unix_secs()));
    if let Some(t) = u.password_last_used {
        r.timestamp("PasswordLastUsed", secs(t.as_unix_secs()));
    }
    if let Some(b) = &u.permissions_boundary {
        r.structure("PermissionsBoundary", |p| {
            p.string("PermissionsBoundaryType", "Policy")
                .string("PermissionsBoundaryArn", b.as_str());
        });
    }
    if with_tags && !u.tags.is_empty() {
        write_tags(r, &u.tags);
    }
}

/// Seconds as the XML writer takes them.
pub(crate) fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

/// Registers the user actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "CreateUser", |iam, caller, call| async move {
        let p = call.params.root();
        let input = CreateUser {
            name: p.parse_required("UserName")?,
            path: p.parse("Path")?,
            tags: tags(&p)?,
            permissions_boundary: p.parse("PermissionsBoundary")?,
        };
        let u = users::create_user(&iam, &caller, input).await?;
        let mut r = XmlResponse::new();
        r.structure("User", |x| write_user(x, &u, true));
        Ok(r)
    });
    route(d, iam, "GetUser", |iam, caller, call| async move {
        let name = call.params.root().parse("UserName")?;
        let mut r = XmlResponse::new();
        match users::get_user(&iam, &caller, name).await? {
            GetUser::User(u) => r.structure("User", |x| write_user(x, &u, true)),
            // AWS's root answer: no name or path, the account as its id.
            GetUser::Root(a) => r.structure("User", |x| {
                x.string("UserId", a.id.as_str())
                    .string("Arn", caller.arn())
                    .timestamp("CreateDate", secs(a.create_date.as_unix_secs()));
            }),
        };
        Ok(r)
    });
    route(d, iam, "UpdateUser", |iam, caller, call| async move {
        let p = call.params.root();
        let input = UpdateUser {
            name: p.parse_required("UserName")?,
            new_name: p.parse("NewUserName")?,
            new_path: p.parse("NewPath")?,
        };
        users::update_user(&iam, &caller, input).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "DeleteUser", |iam, caller, call| async move {
        let name = call.params.root().parse_required("UserName")?;
        users::delete_user(&iam, &caller, name).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListUsers", |iam, caller, call| async move {
        let page = users::list_users(&iam, &caller, &paging(&call.params.root())?).await?;
        let mut r = XmlResponse::new();
        r.list("Users", |l| {
            for u in &page.items {
                l.structure(|x| write_user(x, u, false));
            }
        });
        write_page(&mut r, &page);
        Ok(r)
    });
    register_tags(d, iam);
}

/// TagUser, UntagUser, ListUserTags.
fn register_tags(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "TagUser", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("UserName")?;
        users::tag_user(&iam, &caller, name, tags(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "UntagUser", |iam, caller, call| async move {
        let p = call.params.root();
        let name = p.parse_required("UserName")?;
        users::untag_user(&iam, &caller, name, tag_keys(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListUserTags", |iam, caller, call| async move {
        let name = call.params.root().parse_required("UserName")?;
        let tags = users::list_user_tags(&iam, &caller, name).await?;
        tag_page(&call.params.root(), tags)
    });
}
