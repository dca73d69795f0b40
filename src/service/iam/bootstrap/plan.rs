//! The changes that bring the store to what the documents ask for.
//!
//! Owns: [`Step`] and [`Change`] (one IAM operation each), and the pure
//! diff of each kind — [`policies`], [`groups`], [`users`], [`roles`] —
//! between the desired state and the records as stored. Nothing that is
//! already as asked produces a step, so applying the same documents again
//! writes nothing. Documents are compared as JSON values; tags, attached
//! policies and groups as sets; names as IAM compares them (ignoring
//! case). A desired entity only adds and removes what hangs off it:
//! entities the documents do not name are left alone, and so are a
//! managed policy's description (immutable in IAM), a role's description
//! and session length when the document does not give them, and access
//! keys and MFA devices (not in the shape).
//!
//! A default document that differs becomes the default again when a
//! stored version already has it (`SetDefaultPolicyVersion`), else a new
//! default version; with five versions stored the oldest non-default one
//! is deleted first.
//!
//! Pure. May import `domain`, `service::store` records and the IAM input
//! types.

mod change;

pub use change::Change;

use std::collections::{BTreeMap, HashMap};

use crate::domain::ids::{Arn, GroupName, PolicyName, TagKey, UserName};
use crate::service::iam::bootstrap::document::{
    DesiredGroup, DesiredPolicy, DesiredRole, DesiredUser, Inline, Source, Target, same,
};
use crate::service::iam::holder::Holder;
use crate::service::iam::policies::CreatePolicy;
use crate::service::iam::policies::versions::MAX_VERSIONS;
use crate::service::iam::roles::CreateRole;
use crate::service::iam::trust::aws_principals;
use crate::service::iam::users::CreateUser;
use crate::service::store::Tag;
use crate::service::store::model::{GroupRecord, ManagedPolicyRecord, RoleRecord, UserRecord};

/// One change, with the entity and field it is for (for errors).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The file and entity that ask for it.
    pub source: Source,
    /// The field of the entity it follows from.
    pub field: String,
    /// The change.
    pub change: Change,
}

/// Collects the steps of one entity.
struct Steps<'a> {
    source: &'a Source,
    out: &'a mut Vec<Step>,
}

// === impl Steps ===

impl Steps<'_> {
    fn push(&mut self, field: impl Into<String>, change: Change) {
        self.out.push(Step {
            source: self.source.clone(),
            field: field.into(),
            change,
        });
    }
}

/// The managed-policy steps; `notes` gets what is left as it is.
pub fn policies(
    desired: &[DesiredPolicy],
    current: &[ManagedPolicyRecord],
    target: &Target,
    notes: &mut Vec<String>,
) -> Vec<Step> {
    let mut out = Vec::new();
    for want in desired {
        let mut s = Steps {
            source: &want.source,
            out: &mut out,
        };
        let Some(have) = current
            .iter()
            .find(|p| same(p.name.as_str(), want.name.as_str()))
        else {
            let input = CreatePolicy {
                name: want.name.clone(),
                path: Some(want.path.clone()),
                document: want.document.text.clone(),
                description: want.description.clone(),
                tags: vec![],
            };
            s.push("PolicyName", Change::CreatePolicy(input));
            continue;
        };
        if have.path != want.path {
            let (from, path) = (have.arn.clone(), want.path.clone());
            s.push("Path", Change::MovePolicy { from, path });
        }
        if want.description.is_some() && want.description != have.description {
            let why = "differs from the stored description, which IAM never changes; kept";
            notes.push(format!(
                "bootstrap file {}: {}: Description: {why}",
                want.source.file, want.source.entity
            ));
        }
        let arn = Arn::iam_policy(&target.partition, target.account, &want.path, &have.name);
        let default = have.versions.iter().find(|v| v.is_default);
        if default.is_some_and(|v| want.document.same_as(&v.document)) {
            continue;
        }
        let field = "PolicyVersionList";
        if let Some(v) = have
            .versions
            .iter()
            .find(|v| want.document.same_as(&v.document))
        {
            let version = v.version_id;
            s.push(field, Change::SetDefaultVersion { arn, version });
            continue;
        }
        let evict = (have.versions.len() >= MAX_VERSIONS)
            .then(|| {
                let old = have.versions.iter().filter(|v| !v.is_default);
                old.map(|v| v.version_id).min()
            })
            .flatten();
        let document = want.document.text.clone();
        s.push(
            field,
            Change::NewDefaultVersion {
                arn,
                document,
                evict,
            },
        );
    }
    out
}

/// The group steps.
pub fn groups(desired: &[DesiredGroup], current: &[GroupRecord]) -> Vec<Step> {
    let mut out = Vec::new();
    for want in desired {
        let mut s = Steps {
            source: &want.source,
            out: &mut out,
        };
        let have = current
            .iter()
            .find(|g| same(g.name.as_str(), want.name.as_str()));
        let holder = Holder::Group(have.map_or_else(|| want.name.clone(), |g| g.name.clone()));
        let empty = BTreeMap::new();
        let (inline, attached): (_, &[Arn]) = match have {
            None => {
                let (name, path) = (want.name.clone(), want.path.clone());
                s.push("GroupName", Change::CreateGroup { name, path });
                (&empty, &[])
            }
            Some(g) => {
                if g.path != want.path {
                    let (name, path) = (g.name.clone(), want.path.clone());
                    s.push("Path", Change::MoveGroup { name, path });
                }
                (&g.inline_policies, &g.attached_policies)
            }
        };
        inline_steps(&mut s, "GroupPolicyList", &holder, &want.inline, inline);
        attach_steps(&mut s, &holder, &want.attached, attached);
    }
    out
}

/// The user steps.
pub fn users(desired: &[DesiredUser], current: &[UserRecord]) -> Vec<Step> {
    let mut out = Vec::new();
    for want in desired {
        let mut s = Steps {
            source: &want.source,
            out: &mut out,
        };
        let Some(have) = current
            .iter()
            .find(|u| same(u.name.as_str(), want.name.as_str()))
        else {
            let input = CreateUser {
                name: want.name.clone(),
                path: Some(want.path.clone()),
                tags: want.tags.clone(),
                permissions_boundary: want.boundary.clone(),
            };
            s.push("UserName", Change::CreateUser(input));
            let holder = Holder::User(want.name.clone());
            inline_steps(
                &mut s,
                "UserPolicyList",
                &holder,
                &want.inline,
                &BTreeMap::new(),
            );
            attach_steps(&mut s, &holder, &want.attached, &[]);
            group_steps(&mut s, &want.name, &want.groups, &[]);
            continue;
        };
        let holder = Holder::User(have.name.clone());
        if have.path != want.path {
            let (name, path) = (have.name.clone(), want.path.clone());
            s.push("Path", Change::MoveUser { name, path });
        }
        boundary_steps(
            &mut s,
            &holder,
            want.boundary.as_ref(),
            have.permissions_boundary.as_ref(),
        );
        tag_steps(&mut s, &holder, &want.tags, &have.tags);
        inline_steps(
            &mut s,
            "UserPolicyList",
            &holder,
            &want.inline,
            &have.inline_policies,
        );
        attach_steps(&mut s, &holder, &want.attached, &have.attached_policies);
        group_steps(&mut s, &have.name, &want.groups, &have.groups);
    }
    out
}

/// The role steps, roles trusted by other roles of the documents first;
/// `current` holds trust policies rendered with ARNs.
pub fn roles(desired: &[DesiredRole], current: &[RoleRecord], target: &Target) -> Vec<Step> {
    let mut out = Vec::new();
    for want in trust_order(desired, target) {
        let mut s = Steps {
            source: &want.source,
            out: &mut out,
        };
        let Some(have) = current
            .iter()
            .find(|r| same(r.name.as_str(), want.name.as_str()))
        else {
            let input = CreateRole {
                name: want.name.clone(),
                path: Some(want.path.clone()),
                trust_policy: want.trust.text.clone(),
                description: want.description.clone(),
                max_session_duration: want.max_session.map(i64::from),
                tags: want.tags.clone(),
                permissions_boundary: want.boundary.clone(),
            };
            s.push("RoleName", Change::CreateRole(input));
            let holder = Holder::Role(want.name.clone());
            inline_steps(
                &mut s,
                "RolePolicyList",
                &holder,
                &want.inline,
                &BTreeMap::new(),
            );
            attach_steps(&mut s, &holder, &want.attached, &[]);
            continue;
        };
        let (name, holder) = (have.name.clone(), Holder::Role(have.name.clone()));
        if have.path != want.path {
            let path = want.path.clone();
            s.push(
                "Path",
                Change::MoveRole {
                    name: name.clone(),
                    path,
                },
            );
        }
        if !want.trust.same_as(&have.assume_role_policy) {
            let document = want.trust.text.clone();
            let change = Change::Trust {
                name: name.clone(),
                document,
            };
            s.push("AssumeRolePolicyDocument", change);
        }
        let description = want
            .description
            .clone()
            .filter(|d| have.description.as_ref() != Some(d));
        let max_session = want
            .max_session
            .filter(|m| *m != have.max_session_duration_secs);
        if description.is_some() || max_session.is_some() {
            let field = if description.is_some() {
                "Description"
            } else {
                "MaxSessionDuration"
            };
            s.push(
                field,
                Change::UpdateRole {
                    name,
                    description,
                    max_session,
                },
            );
        }
        boundary_steps(
            &mut s,
            &holder,
            want.boundary.as_ref(),
            have.permissions_boundary.as_ref(),
        );
        tag_steps(&mut s, &holder, &want.tags, &have.tags);
        inline_steps(
            &mut s,
            "RolePolicyList",
            &holder,
            &want.inline,
            &have.inline_policies,
        );
        attach_steps(&mut s, &holder, &want.attached, &have.attached_policies);
    }
    out
}

/// `desired` ordered so that a role whose trust policy names another role
/// of `desired` comes after it (creating a role needs its principals to
/// exist). A cycle keeps document order, and its first role's trust
/// policy then fails with the principal it names.
fn trust_order<'a>(desired: &'a [DesiredRole], target: &Target) -> Vec<&'a DesiredRole> {
    let index: HashMap<String, usize> = desired
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let arn = Arn::iam_role(&target.partition, target.account, &r.path, &r.name);
            (arn.to_string(), i)
        })
        .collect();
    let needs: Vec<Vec<usize>> = desired
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let named = aws_principals(&r.trust.value);
            named
                .iter()
                .filter_map(|p| index.get(p).copied())
                .filter(|j| *j != i)
                .collect()
        })
        .collect();
    let mut placed = vec![false; desired.len()];
    let mut order = Vec::with_capacity(desired.len());
    while order.len() < desired.len() {
        let ready = (0..desired.len()).find(|&i| {
            !placed.get(i).copied().unwrap_or(true)
                && needs
                    .get(i)
                    .is_some_and(|n| n.iter().all(|j| placed.get(*j).copied().unwrap_or(true)))
        });
        let next =
            ready.or_else(|| (0..desired.len()).find(|&i| !placed.get(i).copied().unwrap_or(true)));
        let Some(i) = next else { break };
        if let (Some(p), Some(r)) = (placed.get_mut(i), desired.get(i)) {
            *p = true;
            order.push(r);
        }
    }
    order
}

/// Deletes inline policies not asked for (first: they count towards the
/// quota), then puts the new and changed ones.
fn inline_steps(
    s: &mut Steps<'_>,
    list: &str,
    holder: &Holder,
    want: &Inline,
    have: &BTreeMap<PolicyName, String>,
) {
    for name in have.keys().filter(|n| !want.contains_key(*n)) {
        let change = Change::DeleteInline {
            holder: holder.clone(),
            name: name.clone(),
        };
        s.push(format!("{list}[PolicyName={name}]"), change);
    }
    for (name, doc) in want {
        if have.get(name).is_none_or(|stored| !doc.same_as(stored)) {
            let change = Change::PutInline {
                holder: holder.clone(),
                name: name.clone(),
                document: doc.text.clone(),
            };
            s.push(format!("{list}[PolicyName={name}]"), change);
        }
    }
}

/// Detaches what is not asked for (first: ten at most), then attaches.
fn attach_steps(s: &mut Steps<'_>, holder: &Holder, want: &[Arn], have: &[Arn]) {
    let field = "AttachedManagedPolicies";
    for arn in have.iter().filter(|a| !want.contains(a)) {
        s.push(
            field,
            Change::Detach {
                holder: holder.clone(),
                arn: arn.clone(),
            },
        );
    }
    for arn in want.iter().filter(|a| !have.contains(a)) {
        s.push(
            field,
            Change::Attach {
                holder: holder.clone(),
                arn: arn.clone(),
            },
        );
    }
}

/// Sets the boundary when it differs.
fn boundary_steps(s: &mut Steps<'_>, holder: &Holder, want: Option<&Arn>, have: Option<&Arn>) {
    if want != have {
        let change = Change::Boundary {
            holder: holder.clone(),
            arn: want.cloned(),
        };
        s.push("PermissionsBoundary", change);
    }
}

/// Removes the keys not asked for, then tags what is new or changed.
fn tag_steps(s: &mut Steps<'_>, holder: &Holder, want: &[Tag], have: &[Tag]) {
    let keys: Vec<TagKey> = have
        .iter()
        .filter(|h| !want.iter().any(|w| w.key == h.key))
        .map(|h| h.key.clone())
        .collect();
    if !keys.is_empty() {
        s.push(
            "Tags",
            Change::Untag {
                holder: holder.clone(),
                keys,
            },
        );
    }
    let tags: Vec<Tag> = want.iter().filter(|w| !have.contains(w)).cloned().collect();
    if !tags.is_empty() {
        s.push(
            "Tags",
            Change::Tag {
                holder: holder.clone(),
                tags,
            },
        );
    }
}

/// Leaves the groups not asked for, then joins the new ones.
fn group_steps(s: &mut Steps<'_>, user: &UserName, want: &[GroupName], have: &[GroupName]) {
    let listed =
        |list: &[GroupName], g: &GroupName| list.iter().any(|x| same(x.as_str(), g.as_str()));
    for group in have.iter().filter(|g| !listed(want, g)) {
        let change = Change::Leave {
            group: group.clone(),
            user: user.clone(),
        };
        s.push("GroupList", change);
    }
    for group in want.iter().filter(|g| !listed(have, g)) {
        let change = Change::Join {
            group: group.clone(),
            user: user.clone(),
        };
        s.push("GroupList", change);
    }
}

#[cfg(test)]
mod tests;
