//! Inline-policy actions on the wire: Put/Get/Delete/List
//! {User,Group,Role}Policy(ies).
//!
//! Owns: decoding `UserName`/`GroupName`/`RoleName` into a [`Holder`] and
//! writing IAM's shapes (`PolicyDocument` URL-encoded, `PolicyNames` as
//! `member`s). Imports `service` and the api's own modules.

use std::sync::Arc;

use super::encode::url_encode;
use super::paging;
use super::route::route;
use super::write_page;
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::iam::holder::Holder;
use crate::service::iam::inline;

/// Which kind of entity an action names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HolderKind {
    /// `UserName`.
    User,
    /// `GroupName`.
    Group,
    /// `RoleName`.
    Role,
}

// === impl HolderKind ===

impl HolderKind {
    /// The name parameter (`UserName`).
    pub(crate) fn param(self) -> &'static str {
        match self {
            Self::User => "UserName",
            Self::Group => "GroupName",
            Self::Role => "RoleName",
        }
    }

    /// The entity the request names.
    pub(crate) fn decode(self, p: &Scope<'_>) -> Result<Holder, ServiceError> {
        Ok(match self {
            Self::User => Holder::User(p.parse_required("UserName")?),
            Self::Group => Holder::Group(p.parse_required("GroupName")?),
            Self::Role => Holder::Role(p.parse_required("RoleName")?),
        })
    }
}

/// The actions of one kind: `(Put, Get, Delete, List)` names.
const ACTIONS: [(HolderKind, [&str; 4]); 3] = [
    (
        HolderKind::User,
        [
            "PutUserPolicy",
            "GetUserPolicy",
            "DeleteUserPolicy",
            "ListUserPolicies",
        ],
    ),
    (
        HolderKind::Group,
        [
            "PutGroupPolicy",
            "GetGroupPolicy",
            "DeleteGroupPolicy",
            "ListGroupPolicies",
        ],
    ),
    (
        HolderKind::Role,
        [
            "PutRolePolicy",
            "GetRolePolicy",
            "DeleteRolePolicy",
            "ListRolePolicies",
        ],
    ),
];

/// Registers the inline-policy actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    for (kind, [put, get, delete, list]) in ACTIONS {
        route(d, iam, put, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let name = p.parse_required("PolicyName")?;
            let doc = p
                .string("PolicyDocument", 1, 131_072)?
                .ok_or_else(|| p.missing("PolicyDocument"))?
                .to_owned();
            inline::put_policy(&iam, &caller, holder, name, doc).await?;
            Ok(XmlResponse::no_result())
        });
        route(d, iam, get, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let name = p.parse_required::<crate::domain::ids::PolicyName>("PolicyName")?;
            let doc = inline::get_policy(&iam, &caller, holder.clone(), name.clone()).await?;
            let mut r = XmlResponse::new();
            r.string(kind.param(), holder.name())
                .string("PolicyName", name.as_str())
                .string("PolicyDocument", url_encode(&doc));
            Ok(r)
        });
        route(d, iam, delete, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let name = p.parse_required("PolicyName")?;
            inline::delete_policy(&iam, &caller, holder, name).await?;
            Ok(XmlResponse::no_result())
        });
        route(d, iam, list, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let page = inline::list_policies(&iam, &caller, holder, &paging(&p)?).await?;
            let mut r = XmlResponse::new();
            r.list("PolicyNames", |l| {
                for n in &page.items {
                    l.string(n.as_str());
                }
            });
            write_page(&mut r, &page);
            Ok(r)
        });
    }
}
