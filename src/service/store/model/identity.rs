//! Records of identities and their policies: accounts, users, groups,
//! roles and managed policies.
//!
//! Owns: [`AccountRecord`], [`UserRecord`], [`GroupRecord`],
//! [`RoleRecord`], [`ManagedPolicyRecord`] with [`PolicyVersion`] and
//! [`PolicyVersionId`]. Policy documents are kept as the text they were
//! given (IAM returns them as given); parsing and validation happen in the
//! IAM layer. Relations are stored on both sides (a user's groups and a
//! group's members) and kept in step by the IAM layer in one commit.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Tag, Timestamp};
use crate::domain::ids::{
    AccessKeyId, AccountId, Arn, GroupName, IamPath, PolicyName, RoleName, UniqueId, UserName,
};

/// An account: its alias and its root identity's credentials. The root's
/// access keys are ordinary [`super::AccessKeyRecord`]s owned by
/// [`super::CredentialOwner::Root`]; they are listed here so the two-key
/// limit is checked against a revisioned record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountRecord {
    /// The account ID.
    pub id: AccountId,
    /// The account alias, if set.
    #[serde(default)]
    pub alias: Option<String>,
    /// The root's access keys (at most 2, enforced by the IAM layer).
    #[serde(default)]
    pub root_access_keys: Vec<AccessKeyId>,
    /// Serial numbers (device ARNs) of the MFA devices enabled for root.
    #[serde(default)]
    pub root_mfa_devices: Vec<Arn>,
    /// When the account was created in this store.
    pub create_date: Timestamp,
}

/// An IAM user. Its name keeps the case it was created with; its key is
/// the lower-cased name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The owning account.
    pub account: AccountId,
    /// The name, case preserved.
    pub name: UserName,
    /// The unique ID (`AIDA…`); tells this user from a deleted namesake.
    pub id: UniqueId,
    /// The path.
    pub path: IamPath,
    /// The ARN.
    pub arn: Arn,
    /// When it was created.
    pub create_date: Timestamp,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The ARN of the managed policy used as permissions boundary.
    #[serde(default)]
    pub permissions_boundary: Option<Arn>,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<PolicyName, String>,
    /// ARNs of attached managed policies, in attachment order.
    #[serde(default)]
    pub attached_policies: Vec<Arn>,
    /// Groups the user is in (mirrors [`GroupRecord::members`]).
    #[serde(default)]
    pub groups: Vec<GroupName>,
    /// The user's access keys (at most 2, enforced by the IAM layer).
    #[serde(default)]
    pub access_keys: Vec<AccessKeyId>,
    /// Serial numbers of the MFA devices enabled for the user.
    #[serde(default)]
    pub mfa_devices: Vec<Arn>,
    /// When the user's password was last used; stsd has no console
    /// passwords yet, so this stays `None` (IAM reports it in `GetUser`).
    #[serde(default)]
    pub password_last_used: Option<Timestamp>,
}

/// An IAM group. Groups are not principals and carry no tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// The owning account.
    pub account: AccountId,
    /// The name, case preserved.
    pub name: GroupName,
    /// The unique ID (`AGPA…`).
    pub id: UniqueId,
    /// The path.
    pub path: IamPath,
    /// The ARN.
    pub arn: Arn,
    /// When it was created.
    pub create_date: Timestamp,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<PolicyName, String>,
    /// ARNs of attached managed policies.
    #[serde(default)]
    pub attached_policies: Vec<Arn>,
    /// Member user names (mirrors [`UserRecord::groups`]).
    #[serde(default)]
    pub members: Vec<UserName>,
}

/// An IAM role. Role last-used data lives in
/// [`crate::service::store::UsageLog`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRecord {
    /// The owning account.
    pub account: AccountId,
    /// The name, case preserved.
    pub name: RoleName,
    /// The unique ID (`AROA…`).
    pub id: UniqueId,
    /// The path.
    pub path: IamPath,
    /// The ARN.
    pub arn: Arn,
    /// When it was created.
    pub create_date: Timestamp,
    /// The trust policy, stored as the IAM layer hands it over (principal
    /// ARNs already converted to unique IDs, as AWS stores them).
    pub assume_role_policy: String,
    /// The description.
    #[serde(default)]
    pub description: Option<String>,
    /// The longest session, in seconds (3600–43200).
    pub max_session_duration_secs: u32,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// The ARN of the permissions boundary policy.
    #[serde(default)]
    pub permissions_boundary: Option<Arn>,
    /// Inline policies: name → document.
    #[serde(default)]
    pub inline_policies: BTreeMap<PolicyName, String>,
    /// ARNs of attached managed policies.
    #[serde(default)]
    pub attached_policies: Vec<Arn>,
}

/// A policy version ID, `v1`, `v2`, … (IAM never reuses a number within a
/// policy, even after deleting the version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PolicyVersionId(
    // INVARIANT: at least 1.
    u32,
);

// === impl PolicyVersionId ===

impl PolicyVersionId {
    /// The first version, `v1`.
    pub const FIRST: Self = Self(1);

    /// Version `n`; `None` for 0.
    pub fn new(n: u32) -> Option<Self> {
        (n > 0).then_some(Self(n))
    }

    /// The number.
    pub fn number(self) -> u32 {
        self.0
    }

    /// The next version; `None` past `v4294967295`.
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl fmt::Display for PolicyVersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

impl FromStr for PolicyVersionId {
    type Err = &'static str;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a version ID such as v1";
        let digits = value.strip_prefix('v').ok_or(EXPECTED)?;
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(EXPECTED);
        }
        digits.parse().ok().and_then(Self::new).ok_or(EXPECTED)
    }
}

impl Serialize for PolicyVersionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyVersionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One stored version of a managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …
    pub version_id: PolicyVersionId,
    /// The document, as given.
    pub document: String,
    /// Whether this is the default version.
    // INVARIANT: true for exactly the version named by
    // `ManagedPolicyRecord::default_version_id`.
    pub is_default: bool,
    /// When the version was created.
    pub create_date: Timestamp,
}

/// A customer managed policy and its (at most 5, enforced by the IAM
/// layer) versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicyRecord {
    /// The owning account.
    pub account: AccountId,
    /// The name, case preserved.
    pub name: PolicyName,
    /// The unique ID (`ANPA…`).
    pub id: UniqueId,
    /// The path.
    pub path: IamPath,
    /// The ARN.
    pub arn: Arn,
    /// The description (immutable in IAM).
    #[serde(default)]
    pub description: Option<String>,
    /// The default version.
    pub default_version_id: PolicyVersionId,
    /// The stored versions, oldest first.
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets (IAM numbers never go back).
    pub next_version: PolicyVersionId,
    /// Users, groups and roles it is attached to.
    #[serde(default)]
    pub attachment_count: u32,
    /// Users and roles that use it as permissions boundary.
    #[serde(default)]
    pub boundary_usage_count: u32,
    /// Tags, in the order given.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// When it was created.
    pub create_date: Timestamp,
    /// When its default version last changed.
    pub update_date: Timestamp,
}
