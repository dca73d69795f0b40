//! Managed-policy actions on the wire: CreatePolicy, GetPolicy,
//! DeletePolicy, ListPolicies, the version actions, Attach/Detach and
//! ListAttached{User,Group,Role}Policies, ListEntitiesForPolicy, and
//! Tag/Untag/ListPolicyTags.
//!
//! Owns: decoding their parameters and writing IAM's `Policy`,
//! `PolicyVersion` (document URL-encoded), `AttachedPolicies` and
//! `Policy{Groups,Users,Roles}` shapes. Imports `service` and the api's own
//! modules.

use std::sync::Arc;

use super::encode::url_encode;
use super::inline::HolderKind;
use super::route::{route, tag_keys, tag_page};
use super::users::secs;
use super::{paging, tags, write_page, write_tags};
use crate::api::dispatch::Dispatcher;
use crate::api::query::Scope;
use crate::api::xml::XmlResponse;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::iam::policies::attach::{self, EntityFilter};
use crate::service::iam::policies::{self, CreatePolicy, PolicyFilter, versions};
use crate::service::store::model::{ManagedPolicyRecord, PolicyVersion, PolicyVersionId};

/// Writes `<Policy>`'s members.
pub(crate) fn write_policy(r: &mut XmlResponse, p: &ManagedPolicyRecord, with_tags: bool) {
    r.string("PolicyName", p.name.as_str())
        .string("PolicyId", p.id.as_str())
        .string("Arn", p.arn.as_str())
        .string("Path", p.path.as_str())
        .string("DefaultVersionId", p.default_version_id.to_string())
        .int("AttachmentCount", i64::from(p.attachment_count))
        .int(
            "PermissionsBoundaryUsageCount",
            i64::from(p.boundary_usage_count),
        )
        .bool("IsAttachable", true)
        .opt_string("Description", p.description.clone())
        .timestamp("CreateDate", secs(p.create_date.as_unix_secs()))
        .timestamp("UpdateDate", secs(p.update_date.as_unix_secs()));
    if with_tags && !p.tags.is_empty() {
        write_tags(r, &p.tags);
    }
}

/// Writes `<PolicyVersion>`'s members; the document only when asked.
pub(crate) fn write_version(r: &mut XmlResponse, v: &PolicyVersion, with_document: bool) {
    if with_document {
        r.string("Document", url_encode(&v.document));
    }
    r.string("VersionId", v.version_id.to_string())
        .bool("IsDefaultVersion", v.is_default)
        .timestamp("CreateDate", secs(v.create_date.as_unix_secs()));
}

/// `VersionId` (`v1`, `v2`, …).
fn version_id(p: &Scope<'_>) -> Result<PolicyVersionId, ServiceError> {
    let text = p.required("VersionId")?;
    text.parse().map_err(|_| {
        p.invalid(
            "VersionId",
            text,
            r"Member must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?",
        )
    })
}

/// `Scope` and `OnlyAttached` of ListPolicies.
fn policy_filter(p: &Scope<'_>) -> Result<PolicyFilter, ServiceError> {
    let aws_only = match p.optional("Scope") {
        None | Some("All" | "Local") => false,
        Some("AWS") => true,
        Some(other) => {
            return Err(p.invalid(
                "Scope",
                other,
                "Member must satisfy enum value set: [All, AWS, Local]",
            ));
        }
    };
    Ok(PolicyFilter {
        aws_only,
        only_attached: p.boolean("OnlyAttached")?.unwrap_or(false),
    })
}

/// Registers the managed-policy actions.
pub fn register(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "CreatePolicy", |iam, caller, call| async move {
        let p = call.params.root();
        let input = CreatePolicy {
            name: p.parse_required("PolicyName")?,
            path: p.parse("Path")?,
            document: p
                .string("PolicyDocument", 1, 131_072)?
                .ok_or_else(|| p.missing("PolicyDocument"))?
                .to_owned(),
            description: p.string("Description", 0, 1000)?.map(str::to_owned),
            tags: tags(&p)?,
        };
        let policy = policies::create_policy(&iam, &caller, input).await?;
        let mut r = XmlResponse::new();
        r.structure("Policy", |x| write_policy(x, &policy, true));
        Ok(r)
    });
    route(d, iam, "GetPolicy", |iam, caller, call| async move {
        let arn = call.params.root().parse_required("PolicyArn")?;
        let policy = policies::get_policy(&iam, &caller, &arn).await?;
        let mut r = XmlResponse::new();
        r.structure("Policy", |x| write_policy(x, &policy, true));
        Ok(r)
    });
    route(d, iam, "DeletePolicy", |iam, caller, call| async move {
        let arn = call.params.root().parse_required("PolicyArn")?;
        policies::delete_policy(&iam, &caller, &arn).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListPolicies", |iam, caller, call| async move {
        let p = call.params.root();
        let filter = policy_filter(&p)?;
        let page = policies::list_policies(&iam, &caller, &filter, &paging(&p)?).await?;
        let mut r = XmlResponse::new();
        r.list("Policies", |l| {
            for policy in &page.items {
                l.structure(|x| write_policy(x, policy, false));
            }
        });
        write_page(&mut r, &page);
        Ok(r)
    });
    register_versions(d, iam);
    register_attachments(d, iam);
    register_tags(d, iam);
}

/// The version actions.
fn register_versions(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(
        d,
        iam,
        "CreatePolicyVersion",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("PolicyArn")?;
            let doc = p
                .string("PolicyDocument", 1, 131_072)?
                .ok_or_else(|| p.missing("PolicyDocument"))?
                .to_owned();
            let default = p.boolean("SetAsDefault")?.unwrap_or(false);
            let v = versions::create_policy_version(&iam, &caller, &arn, doc, default).await?;
            let mut r = XmlResponse::new();
            r.structure("PolicyVersion", |x| write_version(x, &v, false));
            Ok(r)
        },
    );
    route(d, iam, "GetPolicyVersion", |iam, caller, call| async move {
        let p = call.params.root();
        let arn = p.parse_required("PolicyArn")?;
        let v = versions::get_policy_version(&iam, &caller, &arn, version_id(&p)?).await?;
        let mut r = XmlResponse::new();
        r.structure("PolicyVersion", |x| write_version(x, &v, true));
        Ok(r)
    });
    route(
        d,
        iam,
        "ListPolicyVersions",
        |iam, caller, call| async move {
            let arn = call.params.root().parse_required("PolicyArn")?;
            let all = versions::list_policy_versions(&iam, &caller, &arn).await?;
            let mut r = XmlResponse::new();
            r.list("Versions", |l| {
                for v in &all {
                    l.structure(|x| write_version(x, v, false));
                }
            });
            r.bool("IsTruncated", false);
            Ok(r)
        },
    );
    route(
        d,
        iam,
        "DeletePolicyVersion",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("PolicyArn")?;
            versions::delete_policy_version(&iam, &caller, &arn, version_id(&p)?).await?;
            Ok(XmlResponse::no_result())
        },
    );
    route(
        d,
        iam,
        "SetDefaultPolicyVersion",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("PolicyArn")?;
            versions::set_default_policy_version(&iam, &caller, &arn, version_id(&p)?).await?;
            Ok(XmlResponse::no_result())
        },
    );
}

/// The attach, detach and list actions of one kind: `(Attach, Detach,
/// ListAttached)` names.
const ATTACH: [(HolderKind, [&str; 3]); 3] = [
    (
        HolderKind::User,
        [
            "AttachUserPolicy",
            "DetachUserPolicy",
            "ListAttachedUserPolicies",
        ],
    ),
    (
        HolderKind::Group,
        [
            "AttachGroupPolicy",
            "DetachGroupPolicy",
            "ListAttachedGroupPolicies",
        ],
    ),
    (
        HolderKind::Role,
        [
            "AttachRolePolicy",
            "DetachRolePolicy",
            "ListAttachedRolePolicies",
        ],
    ),
];

/// Attachments and ListEntitiesForPolicy.
fn register_attachments(d: &mut Dispatcher, iam: &Arc<Iam>) {
    for (kind, [attach_action, detach_action, list_action]) in ATTACH {
        route(d, iam, attach_action, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let arn = p.parse_required("PolicyArn")?;
            attach::attach_policy(&iam, &caller, holder, arn).await?;
            Ok(XmlResponse::no_result())
        });
        route(d, iam, detach_action, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let arn = p.parse_required("PolicyArn")?;
            attach::detach_policy(&iam, &caller, holder, arn).await?;
            Ok(XmlResponse::no_result())
        });
        route(d, iam, list_action, move |iam, caller, call| async move {
            let p = call.params.root();
            let holder = kind.decode(&p)?;
            let page = attach::list_attached_policies(&iam, &caller, holder, &paging(&p)?).await?;
            let mut r = XmlResponse::new();
            r.list("AttachedPolicies", |l| {
                for a in &page.items {
                    l.structure(|x| {
                        x.string("PolicyName", a.name.clone())
                            .string("PolicyArn", a.arn.as_str());
                    });
                }
            });
            write_page(&mut r, &page);
            Ok(r)
        });
    }
    route(
        d,
        iam,
        "ListEntitiesForPolicy",
        |iam, caller, call| async move {
            let p = call.params.root();
            let arn = p.parse_required("PolicyArn")?;
            let filter = match p.optional("EntityFilter") {
                None | Some("LocalManagedPolicy" | "AWSManagedPolicy") => None,
                Some("User") => Some(EntityFilter::User),
                Some("Group") => Some(EntityFilter::Group),
                Some("Role") => Some(EntityFilter::Role),
                Some(other) => {
                    return Err(p.invalid(
                    "EntityFilter",
                    other,
                    "Member must satisfy enum value set: [LocalManagedPolicy, Role, Group, User, AWSManagedPolicy]",
                ));
                }
            };
            let (found, marker) =
                attach::list_entities_for_policy(&iam, &caller, &arn, filter, &paging(&p)?).await?;
            let mut r = XmlResponse::new();
            r.list("PolicyGroups", |l| {
                for (n, id) in &found.groups {
                    l.structure(|x| {
                        x.string("GroupName", n.as_str())
                            .string("GroupId", id.as_str());
                    });
                }
            });
            r.list("PolicyUsers", |l| {
                for (n, id) in &found.users {
                    l.structure(|x| {
                        x.string("UserName", n.as_str())
                            .string("UserId", id.as_str());
                    });
                }
            });
            r.list("PolicyRoles", |l| {
                for (n, id) in &found.roles {
                    l.structure(|x| {
                        x.string("RoleName", n.as_str())
                            .string("RoleId", id.as_str());
                    });
                }
            });
            r.bool("IsTruncated", marker.is_some())
                .opt_string("Marker", marker);
            Ok(r)
        },
    );
}

/// TagPolicy, UntagPolicy, ListPolicyTags.
fn register_tags(d: &mut Dispatcher, iam: &Arc<Iam>) {
    route(d, iam, "TagPolicy", |iam, caller, call| async move {
        let p = call.params.root();
        let arn = p.parse_required("PolicyArn")?;
        policies::tag_policy(&iam, &caller, &arn, tags(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "UntagPolicy", |iam, caller, call| async move {
        let p = call.params.root();
        let arn = p.parse_required("PolicyArn")?;
        policies::untag_policy(&iam, &caller, &arn, tag_keys(&p)?).await?;
        Ok(XmlResponse::no_result())
    });
    route(d, iam, "ListPolicyTags", |iam, caller, call| async move {
        let arn = call.params.root().parse_required("PolicyArn")?;
        let tags = policies::list_policy_tags(&iam, &caller, &arn).await?;
        tag_page(&call.params.root(), tags)
    });
}
