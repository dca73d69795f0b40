//! One entry of each list of a bootstrap document, read and validated.
//!
//! Owns: the mapping of a `Policies`, `GroupDetailList`, `UserDetailList`
//! and `RoleDetailList` entry to its `Desired…` value, with IAM's checks
//! (the same validators the operations use) and the rules for references
//! to managed policies. Pure.

use serde_json::Value;

use super::json::{Obj, Source, document};
use super::{
    DesiredGroup, DesiredPolicy, DesiredRole, DesiredUser, Document, Inline, Target, same,
};
use crate::domain::ids::{Arn, GroupName, IamPath, PolicyName, RoleName, UserName};
use crate::service::iam::bootstrap::BootstrapError;
use crate::service::iam::boundaries::policy_name_of;
use crate::service::iam::groups::MAX_GROUPS_PER_USER;
use crate::service::iam::holder::Holder;
use crate::service::iam::inline::{aggregate_limit, check_document, counted_size};
use crate::service::iam::policies::attach::MAX_ATTACHED;
use crate::service::iam::roles::{check_description, max_session};
use crate::service::iam::{check_tags, policies, trust};
use crate::service::store::Tag;

const POLICY_KEYS: [&str; 12] = [
    "PolicyName",
    "PolicyId",
    "Arn",
    "Path",
    "DefaultVersionId",
    "AttachmentCount",
    "PermissionsBoundaryUsageCount",
    "IsAttachable",
    "Description",
    "CreateDate",
    "UpdateDate",
    "PolicyVersionList",
];
const GROUP_KEYS: [&str; 7] = [
    "Path",
    "GroupName",
    "GroupId",
    "Arn",
    "CreateDate",
    "GroupPolicyList",
    "AttachedManagedPolicies",
];
const USER_KEYS: [&str; 10] = [
    "Path",
    "UserName",
    "UserId",
    "Arn",
    "CreateDate",
    "UserPolicyList",
    "GroupList",
    "AttachedManagedPolicies",
    "PermissionsBoundary",
    "Tags",
];
const ROLE_KEYS: [&str; 14] = [
    "Path",
    "RoleName",
    "RoleId",
    "Arn",
    "CreateDate",
    "AssumeRolePolicyDocument",
    "InstanceProfileList",
    "RolePolicyList",
    "AttachedManagedPolicies",
    "PermissionsBoundary",
    "Tags",
    "RoleLastUsed",
    "Description",
    "MaxSessionDuration",
];

/// A `Policies` entry; `None` for an AWS managed policy (noted).
pub(super) fn policy(
    file: &str,
    at: &str,
    value: &Value,
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<Option<DesiredPolicy>, BootstrapError> {
    let (o, name, src) = named::<PolicyName>(
        file,
        at,
        value,
        &POLICY_KEYS,
        "PolicyName",
        "managed policy",
    )?;
    if let Some(arn) = o.parse::<Arn>(&src, "Arn")? {
        if arn.account() == "aws" {
            notes.push(src.note("Arn", "AWS managed policies do not exist in stsd; skipped"));
            return Ok(None);
        }
        check_account(&src, "Arn", &arn, target)?;
    }
    let path = o
        .parse::<IamPath>(&src, "Path")?
        .unwrap_or_else(IamPath::root);
    let description = o.str(&src, "Description")?.map(str::to_owned);
    if let Some(d) = &description {
        check_description(d).map_err(|e| src.invalid("Description", e.message()))?;
    }
    let default_id = o.str(&src, "DefaultVersionId")?;
    let mut versions = Vec::new();
    for (at, v) in o.list(&src, "PolicyVersionList")? {
        let vo = Obj::new(
            &src,
            &at,
            v,
            &["Document", "VersionId", "IsDefaultVersion", "CreateDate"],
        )?;
        let flagged = match vo.get("IsDefaultVersion") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(src.invalid(&vo.field("IsDefaultVersion"), "must be true or false"));
            }
        };
        let named_default = default_id.is_some() && vo.str(&src, "VersionId")? == default_id;
        versions.push((flagged, named_default, vo));
    }
    let only = versions.len() == 1;
    let chosen = versions
        .iter()
        .position(|(flagged, _, _)| *flagged)
        .or_else(|| versions.iter().position(|(_, named, _)| *named))
        .or(only.then_some(0))
        .and_then(|i| versions.get(i))
        .map(|(_, _, vo)| vo)
        .ok_or_else(|| {
            src.invalid(
                "PolicyVersionList",
                "names no default version (IsDefaultVersion true, or the DefaultVersionId)",
            )
        })?;
    let field = chosen.field("Document");
    let text = chosen
        .get("Document")
        .ok_or_else(|| src.invalid(&field, "is required"))?;
    let doc = document(&src, &field, text)?;
    let arn = Arn::iam_policy(&target.partition, target.account, &path, &name);
    policies::check_document(&arn, &doc.text).map_err(|e| src.invalid(&field, e.message()))?;
    Ok(Some(DesiredPolicy {
        source: src,
        name,
        path,
        description,
        document: doc,
    }))
}

/// A `GroupDetailList` entry.
pub(super) fn group(
    file: &str,
    at: &str,
    value: &Value,
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<DesiredGroup, BootstrapError> {
    let (o, name, src) = named::<GroupName>(file, at, value, &GROUP_KEYS, "GroupName", "group")?;
    own_arn(&o, &src, target)?;
    let holder = Holder::Group(name.clone());
    Ok(DesiredGroup {
        path: o.parse(&src, "Path")?.unwrap_or_else(IamPath::root),
        inline: inline(&o, &src, "GroupPolicyList", &holder)?,
        attached: attached(&o, &src, target, notes)?,
        source: src,
        name,
    })
}

/// A `UserDetailList` entry.
pub(super) fn user(
    file: &str,
    at: &str,
    value: &Value,
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<DesiredUser, BootstrapError> {
    let (o, name, src) = named::<UserName>(file, at, value, &USER_KEYS, "UserName", "user")?;
    own_arn(&o, &src, target)?;
    let holder = Holder::User(name.clone());
    let mut groups: Vec<GroupName> = Vec::new();
    for (at, v) in o.list(&src, "GroupList")? {
        let g: GroupName = match v {
            Value::String(s) => s.parse().map_err(|e| src.invalid(&at, e))?,
            _ => return Err(src.invalid(&at, "must be a string")),
        };
        if !groups.iter().any(|x| same(x.as_str(), g.as_str())) {
            groups.push(g);
        }
    }
    if groups.len() > MAX_GROUPS_PER_USER {
        let message = format!("Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}");
        return Err(src.invalid("GroupList", message));
    }
    Ok(DesiredUser {
        path: o.parse(&src, "Path")?.unwrap_or_else(IamPath::root),
        inline: inline(&o, &src, "UserPolicyList", &holder)?,
        attached: attached(&o, &src, target, notes)?,
        groups,
        boundary: boundary(&o, &src, target)?,
        tags: tags(&o, &src)?,
        source: src,
        name,
    })
}

/// A `RoleDetailList` entry.
pub(super) fn role(
    file: &str,
    at: &str,
    value: &Value,
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<DesiredRole, BootstrapError> {
    let (o, name, src) = named::<RoleName>(file, at, value, &ROLE_KEYS, "RoleName", "role")?;
    own_arn(&o, &src, target)?;
    let holder = Holder::Role(name.clone());
    let field = "AssumeRolePolicyDocument";
    let given = o
        .get(field)
        .ok_or_else(|| src.invalid(field, "is required"))?;
    let Document { text, mut value } = document(&src, field, given)?;
    trust::check(&text).map_err(|e| src.invalid(field, e.message()))?;
    trust::normalize_accounts(&mut value, &target.partition);
    if !o.list(&src, "InstanceProfileList")?.is_empty() {
        notes.push(src.note(
            "InstanceProfileList",
            "stsd has no instance profiles; ignored",
        ));
    }
    let description = o.str(&src, "Description")?.map(str::to_owned);
    if let Some(d) = &description {
        check_description(d).map_err(|e| src.invalid("Description", e.message()))?;
    }
    let max_session = match o.int(&src, "MaxSessionDuration")? {
        Some(v) => {
            Some(max_session(Some(v)).map_err(|e| src.invalid("MaxSessionDuration", e.message()))?)
        }
        None => None,
    };
    Ok(DesiredRole {
        path: o.parse(&src, "Path")?.unwrap_or_else(IamPath::root),
        trust: Document { text, value },
        inline: inline(&o, &src, "RolePolicyList", &holder)?,
        attached: attached(&o, &src, target, notes)?,
        boundary: boundary(&o, &src, target)?,
        tags: tags(&o, &src)?,
        description,
        max_session,
        source: src,
        name,
    })
}

/// The entry's object, its name (member `key`) and its [`Source`]
/// (`{noun} "{name}"`).
fn named<'v, N>(
    file: &str,
    at: &str,
    value: &'v Value,
    keys: &[&str],
    key: &str,
    noun: &str,
) -> Result<(Obj<'v>, N, Source), BootstrapError>
where
    N: std::str::FromStr + std::fmt::Display,
    N::Err: std::fmt::Display,
{
    let by_position = Source::new(file, at);
    let o = Obj::new(&by_position, "", value, keys)?;
    let name: N = o
        .parse(&by_position, key)?
        .ok_or_else(|| by_position.invalid(key, "is required"))?;
    let src = Source::new(file, format!("{noun} \"{name}\""));
    Ok((o, name, src))
}

/// The entry's own `Arn`, when given, must be of the target account.
fn own_arn(o: &Obj<'_>, src: &Source, target: &Target) -> Result<(), BootstrapError> {
    match o.parse::<Arn>(src, "Arn")? {
        Some(arn) => check_account(src, "Arn", &arn, target),
        None => Ok(()),
    }
}

/// `arn` must be in the target's partition and account.
fn check_account(
    src: &Source,
    field: &str,
    arn: &Arn,
    target: &Target,
) -> Result<(), BootstrapError> {
    if arn.partition() != target.partition.as_str() {
        let message = format!(
            "{arn} is in partition {}; stsd serves partition {}",
            arn.partition(),
            target.partition
        );
        return Err(src.invalid(field, message));
    }
    if arn.account_id() != Some(target.account) {
        let message = format!(
            "{arn} belongs to account {}; bootstrap documents apply to the default account {} (set accounts.default to the account the document describes)",
            arn.account(),
            target.account
        );
        return Err(src.invalid(field, message));
    }
    Ok(())
}

/// A reference to a managed policy: the account's own (`Ok(Some)`), or an
/// AWS managed one (`Ok(None)`).
fn policy_ref(
    src: &Source,
    field: &str,
    arn: Arn,
    target: &Target,
) -> Result<Option<Arn>, BootstrapError> {
    if arn.service() != "iam" || policy_name_of(&arn).is_none() {
        return Err(src.invalid(field, format!("{arn} is not a managed policy ARN")));
    }
    if arn.account() == "aws" {
        return Ok(None);
    }
    check_account(src, field, &arn, target)?;
    Ok(Some(arn))
}

/// A `PolicyDetail` list (`UserPolicyList`, …), each document validated
/// and the entity's aggregate quota checked.
fn inline(
    o: &Obj<'_>,
    src: &Source,
    list: &str,
    holder: &Holder,
) -> Result<Inline, BootstrapError> {
    let mut out = Inline::new();
    for (at, v) in o.list(src, list)? {
        let po = Obj::new(src, &at, v, &["PolicyName", "PolicyDocument"])?;
        let name: PolicyName = po
            .parse(src, "PolicyName")?
            .ok_or_else(|| src.invalid(&po.field("PolicyName"), "is required"))?;
        let field = po.field("PolicyDocument");
        let given = po
            .get("PolicyDocument")
            .ok_or_else(|| src.invalid(&field, "is required"))?;
        let doc = document(src, &field, given)?;
        check_document(holder, &name, &doc.text).map_err(|e| src.invalid(&field, e.message()))?;
        if out.insert(name, doc).is_some() {
            return Err(src.invalid(&po.field("PolicyName"), "names a policy listed before"));
        }
    }
    let total: usize = out.values().map(|d| counted_size(&d.text)).sum();
    if total > aggregate_limit(holder) {
        let message = format!(
            "Maximum policy size of {} bytes exceeded for {} {}",
            aggregate_limit(holder),
            holder.noun(),
            holder.name()
        );
        return Err(src.invalid(list, message));
    }
    Ok(out)
}

/// `AttachedManagedPolicies`: the account's policies, in order, without
/// repeats; AWS managed ones are noted and left out.
fn attached(
    o: &Obj<'_>,
    src: &Source,
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<Vec<Arn>, BootstrapError> {
    let mut out: Vec<Arn> = Vec::new();
    for (at, v) in o.list(src, "AttachedManagedPolicies")? {
        let ao = Obj::new(src, &at, v, &["PolicyName", "PolicyArn"])?;
        let field = ao.field("PolicyArn");
        let arn: Arn = ao
            .parse(src, "PolicyArn")?
            .ok_or_else(|| src.invalid(&field, "is required"))?;
        match policy_ref(src, &field, arn.clone(), target)? {
            Some(local) if !out.contains(&local) => out.push(local),
            Some(_) => {}
            None => notes.push(src.note(
                &field,
                format!("{arn} is an AWS managed policy, which stsd does not have; not attached"),
            )),
        }
    }
    if out.len() > MAX_ATTACHED {
        let message =
            format!("Cannot exceed quota for managed policies per entity: {MAX_ATTACHED}");
        return Err(src.invalid("AttachedManagedPolicies", message));
    }
    Ok(out)
}

/// `PermissionsBoundary`, which must be one of the account's policies.
fn boundary(o: &Obj<'_>, src: &Source, target: &Target) -> Result<Option<Arn>, BootstrapError> {
    let Some(v) = o.get("PermissionsBoundary") else {
        return Ok(None);
    };
    let keys = ["PermissionsBoundaryType", "PermissionsBoundaryArn"];
    let bo = Obj::new(src, &o.field("PermissionsBoundary"), v, &keys)?;
    if let Some(t) = bo.str(src, "PermissionsBoundaryType")?
        && t != "Policy"
        && t != "PermissionsBoundaryPolicy"
    {
        return Err(src.invalid(&bo.field("PermissionsBoundaryType"), "must be Policy"));
    }
    let field = bo.field("PermissionsBoundaryArn");
    let arn: Arn = bo
        .parse(src, "PermissionsBoundaryArn")?
        .ok_or_else(|| src.invalid(&field, "is required"))?;
    match policy_ref(src, &field, arn.clone(), target)? {
        Some(local) => Ok(Some(local)),
        None => Err(src.invalid(&field, format!("{arn} is an AWS managed policy, which stsd does not have; leaving the boundary out would widen access"))),
    }
}

/// `Tags`, checked as TagUser checks them.
fn tags(o: &Obj<'_>, src: &Source) -> Result<Vec<Tag>, BootstrapError> {
    let mut out = Vec::new();
    for (at, v) in o.list(src, "Tags")? {
        let to = Obj::new(src, &at, v, &["Key", "Value"])?;
        let key = to
            .parse(src, "Key")?
            .ok_or_else(|| src.invalid(&to.field("Key"), "is required"))?;
        let value = to
            .parse(src, "Value")?
            .ok_or_else(|| src.invalid(&to.field("Value"), "is required"))?;
        out.push(Tag { key, value });
    }
    check_tags(&out).map_err(|e| src.invalid("Tags", e.message()))?;
    Ok(out)
}
