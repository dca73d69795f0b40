//! Bootstrap documents read into the state they ask for.
//!
//! Owns: [`Desired`] — the managed policies, groups, users and roles a set
//! of documents describes, validated with IAM's rules (names, paths,
//! policy grammar and sizes, tags, attachment and group limits) — and
//! [`Desired::parse`], which reads one document in the JSON shape of
//! `aws iam get-account-authorization-details --output json`:
//! `UserDetailList`, `GroupDetailList`, `RoleDetailList` and `Policies`
//! with PascalCase keys. Pure: no store, no clock, no I/O, so
//! `stsd check-config` and unit tests call it directly.
//!
//! What the shape carries that stsd does not keep:
//! - IDs (`UserId`, `RoleId`, `GroupId`, `PolicyId`), `CreateDate`,
//!   `UpdateDate`, counts and `RoleLastUsed` are output only: stsd issues
//!   its own IDs and dates. `Arn`s are checked to belong to the target
//!   account and partition, and otherwise not used: an entity is
//!   identified by its name, its ARN follows from its path.
//! - Of a managed policy's `PolicyVersionList`, only the default
//!   version's document is applied (the one with `IsDefaultVersion`, or
//!   the `DefaultVersionId`); the history is not replayed.
//! - AWS managed policies (`arn:aws:iam::aws:policy/…`) do not exist in
//!   stsd: such `Policies` entries and attachments are skipped with a
//!   note; as a permissions boundary one is an error (leaving it out
//!   would widen access).
//! - `InstanceProfileList` is ignored with a note (no instance profiles).
//! - One page of a longer listing (`IsTruncated: true`) is refused: the
//!   AWS CLI fetches every page; a raw API page would be applied half.
//!
//! Accepted beyond the shape, as `GetRole` shows them: a role's
//! `Description` and `MaxSessionDuration`. Any other unknown key is an
//! error, so a misspelt field is never silently dropped.
//!
//! May import `domain`, `service::error`, `service::store` (value types)
//! and the pure validators of the IAM operations.

mod entities;
mod json;

use std::collections::BTreeMap;

use serde_json::Value;

pub use json::Source;

use super::BootstrapError;
use crate::domain::ids::{
    AccountId, Arn, GroupName, IamPath, Partition, PolicyName, RoleName, UserName,
};
use crate::service::store::Tag;
use json::Obj;

/// The account and partition documents apply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The default account (`accounts.default`).
    pub account: AccountId,
    /// The partition of every ARN.
    pub partition: Partition,
}

/// A policy document: the text to store and its JSON value, which is what
/// is compared (so key order and whitespace never count as a change).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The text, as given (or compact JSON for an object).
    pub text: String,
    /// The parsed value. For trust policies, bare account IDs among the
    /// `AWS` principals are already rewritten to root ARNs, as stored.
    pub value: Value,
}

/// Inline policies by name.
pub type Inline = BTreeMap<PolicyName, Document>;

/// A customer managed policy as a document wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPolicy {
    /// Where it is described.
    pub source: Source,
    /// `PolicyName`.
    pub name: PolicyName,
    /// `Path`.
    pub path: IamPath,
    /// `Description` (used when creating: IAM never changes it).
    pub description: Option<String>,
    /// The default version's document.
    pub document: Document,
}

/// A group as a document wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredGroup {
    /// Where it is described.
    pub source: Source,
    /// `GroupName`.
    pub name: GroupName,
    /// `Path`.
    pub path: IamPath,
    /// `GroupPolicyList`.
    pub inline: Inline,
    /// `AttachedManagedPolicies` (customer managed only).
    pub attached: Vec<Arn>,
}

/// A user as a document wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredUser {
    /// Where it is described.
    pub source: Source,
    /// `UserName`.
    pub name: UserName,
    /// `Path`.
    pub path: IamPath,
    /// `UserPolicyList`.
    pub inline: Inline,
    /// `AttachedManagedPolicies`.
    pub attached: Vec<Arn>,
    /// `GroupList`.
    pub groups: Vec<GroupName>,
    /// `PermissionsBoundary`.
    pub boundary: Option<Arn>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// A role as a document wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredRole {
    /// Where it is described.
    pub source: Source,
    /// `RoleName`.
    pub name: RoleName,
    /// `Path`.
    pub path: IamPath,
    /// `AssumeRolePolicyDocument`, principals as ARNs.
    pub trust: Document,
    /// `RolePolicyList`.
    pub inline: Inline,
    /// `AttachedManagedPolicies`.
    pub attached: Vec<Arn>,
    /// `PermissionsBoundary`.
    pub boundary: Option<Arn>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `Description`, when given (left alone otherwise).
    pub description: Option<String>,
    /// `MaxSessionDuration` in seconds, when given (3600 for a new role
    /// otherwise).
    pub max_session: Option<u32>,
}

/// Everything a set of documents asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Desired {
    /// `Policies`.
    pub policies: Vec<DesiredPolicy>,
    /// `GroupDetailList`.
    pub groups: Vec<DesiredGroup>,
    /// `UserDetailList`.
    pub users: Vec<DesiredUser>,
    /// `RoleDetailList`.
    pub roles: Vec<DesiredRole>,
    /// What was left out, one line each, for the log.
    pub notes: Vec<String>,
}

/// The top-level keys of a document.
const TOP: [&str; 6] = [
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
    "IsTruncated",
    "Marker",
];

// === impl Document ===

impl Document {
    /// Whether the stored text `stored` is the same document.
    pub fn same_as(&self, stored: &str) -> bool {
        serde_json::from_str::<Value>(stored).is_ok_and(|v| v == self.value)
    }
}

// === impl Desired ===

impl Desired {
    /// Reads the document `text` of `file`, for `target`.
    ///
    /// # Errors
    ///
    /// `Syntax` for text that is not JSON, `Invalid` naming the entity and
    /// field at fault, `Duplicate` for an entity described twice.
    pub fn parse(file: &str, text: &str, target: &Target) -> Result<Self, BootstrapError> {
        let value: Value = serde_json::from_str(text).map_err(|e| BootstrapError::Syntax {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
        let top_src = Source::new(file, "document");
        let top = Obj::new(&top_src, "", &value, &TOP)?;
        if top.get("IsTruncated") == Some(&Value::Bool(true)) {
            let note = "the document is one page of a longer listing; entities on other pages are not applied";
            return Err(top_src.invalid("IsTruncated", note));
        }
        let mut out = Self::default();
        let mut notes = Vec::new();
        for (at, v) in top.list(&top_src, "Policies")? {
            if let Some(p) = entities::policy(file, &at, v, target, &mut notes)? {
                out.add_policy(p)?;
            }
        }
        for (at, v) in top.list(&top_src, "GroupDetailList")? {
            out.add_group(entities::group(file, &at, v, target, &mut notes)?)?;
        }
        for (at, v) in top.list(&top_src, "UserDetailList")? {
            out.add_user(entities::user(file, &at, v, target, &mut notes)?)?;
        }
        for (at, v) in top.list(&top_src, "RoleDetailList")? {
            out.add_role(entities::role(file, &at, v, target, &mut notes)?)?;
        }
        out.notes = notes;
        Ok(out)
    }

    /// Adds the entities of a later document.
    ///
    /// # Errors
    ///
    /// `Duplicate` for an entity both describe (names compare as IAM
    /// compares them, ignoring case).
    pub fn merge(&mut self, other: Self) -> Result<(), BootstrapError> {
        for p in other.policies {
            self.add_policy(p)?;
        }
        for g in other.groups {
            self.add_group(g)?;
        }
        for u in other.users {
            self.add_user(u)?;
        }
        for r in other.roles {
            self.add_role(r)?;
        }
        self.notes.extend(other.notes);
        Ok(())
    }

    /// Whether the documents ask for nothing.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
            && self.groups.is_empty()
            && self.users.is_empty()
            && self.roles.is_empty()
    }

    fn add_policy(&mut self, p: DesiredPolicy) -> Result<(), BootstrapError> {
        let first = self
            .policies
            .iter()
            .find(|q| same(q.name.as_str(), p.name.as_str()));
        unique(first.map(|q| &q.source), &p.source)?;
        self.policies.push(p);
        Ok(())
    }

    fn add_group(&mut self, g: DesiredGroup) -> Result<(), BootstrapError> {
        let first = self
            .groups
            .iter()
            .find(|q| same(q.name.as_str(), g.name.as_str()));
        unique(first.map(|q| &q.source), &g.source)?;
        self.groups.push(g);
        Ok(())
    }

    fn add_user(&mut self, u: DesiredUser) -> Result<(), BootstrapError> {
        let first = self
            .users
            .iter()
            .find(|q| same(q.name.as_str(), u.name.as_str()));
        unique(first.map(|q| &q.source), &u.source)?;
        self.users.push(u);
        Ok(())
    }

    fn add_role(&mut self, r: DesiredRole) -> Result<(), BootstrapError> {
        let first = self
            .roles
            .iter()
            .find(|q| same(q.name.as_str(), r.name.as_str()));
        unique(first.map(|q| &q.source), &r.source)?;
        self.roles.push(r);
        Ok(())
    }
}

/// IAM's name equality: ASCII case ignored.
pub(super) fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `Duplicate` when `first` already describes the entity of `second`.
fn unique(first: Option<&Source>, second: &Source) -> Result<(), BootstrapError> {
    match first {
        Some(first) => Err(BootstrapError::Duplicate {
            file: second.file.clone(),
            entity: second.entity.clone(),
            first: first.file.clone(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
