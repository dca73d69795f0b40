//! Users, groups and roles as holders of policies.
//!
//! Owns: [`Holder`] (which user, group or role an inline-policy or
//! attachment action names) and uniform access to the policies a record
//! holds, so that the inline and managed-policy operations are written
//! once for the three kinds. May import `domain`, `service::authz`,
//! `service::error`, `service::store`. Spec: reference section 12.

use std::collections::BTreeMap;

use crate::domain::ids::{
    AccountId, Arn, GroupName, IamPath, Partition, PolicyName, RoleName, UserName,
};
use crate::service::authz::AuthzCaller;
use crate::service::error::ServiceError;
use crate::service::iam::Iam;
use crate::service::store::{EntityReader, Key, Record, Versioned};

/// The user, group or role an action names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// `UserName`.
    User(UserName),
    /// `GroupName`.
    Group(GroupName),
    /// `RoleName`.
    Role(RoleName),
}

// === impl Holder ===

impl Holder {
    /// The store key of the entity.
    pub fn key(&self, account: AccountId) -> Key {
        match self {
            Self::User(n) => Key::user(account, n),
            Self::Group(n) => Key::group(account, n),
            Self::Role(n) => Key::role(account, n),
        }
    }

    /// `user`, `group` or `role`, as in AWS's messages.
    pub fn noun(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Group(_) => "group",
            Self::Role(_) => "role",
        }
    }

    /// `User`, `Group` or `Role`, as in action names (`PutUserPolicy`).
    pub fn word(&self) -> &'static str {
        match self {
            Self::User(_) => "User",
            Self::Group(_) => "Group",
            Self::Role(_) => "Role",
        }
    }

    /// The entity's name.
    pub fn name(&self) -> &str {
        match self {
            Self::User(n) => n.as_str(),
            Self::Group(n) => n.as_str(),
            Self::Role(n) => n.as_str(),
        }
    }

    /// The ARN the entity would have at path `/`, to authorize against
    /// when it does not exist.
    fn root_arn(&self, partition: &Partition, account: AccountId) -> Arn {
        let root = IamPath::root();
        match self {
            Self::User(n) => Arn::iam_user(partition, account, &root, n),
            Self::Group(n) => Arn::iam_group(partition, account, &root, n),
            Self::Role(n) => Arn::iam_role(partition, account, &root, n),
        }
    }
}

/// The ARN of a user, group or role record.
pub fn arn_of(record: &Record) -> Option<&Arn> {
    match record {
        Record::User(r) => Some(&r.arn),
        Record::Group(r) => Some(&r.arn),
        Record::Role(r) => Some(&r.arn),
        _ => None,
    }
}

/// The inline policies of a user, group or role record.
pub fn inline_of(record: &Record) -> Option<&BTreeMap<PolicyName, String>> {
    match record {
        Record::User(r) => Some(&r.inline_policies),
        Record::Group(r) => Some(&r.inline_policies),
        Record::Role(r) => Some(&r.inline_policies),
        _ => None,
    }
}

/// The inline policies of a user, group or role record, to change.
pub fn inline_mut(record: &mut Record) -> Option<&mut BTreeMap<PolicyName, String>> {
    match record {
        Record::User(r) => Some(&mut r.inline_policies),
        Record::Group(r) => Some(&mut r.inline_policies),
        Record::Role(r) => Some(&mut r.inline_policies),
        _ => None,
    }
}

/// The attached managed policies of a user, group or role record.
pub fn attached_of(record: &Record) -> Option<&Vec<Arn>> {
    match record {
        Record::User(r) => Some(&r.attached_policies),
        Record::Group(r) => Some(&r.attached_policies),
        Record::Role(r) => Some(&r.attached_policies),
        _ => None,
    }
}

/// The attached managed policies of a user, group or role record, to
/// change.
pub fn attached_mut(record: &mut Record) -> Option<&mut Vec<Arn>> {
    match record {
        Record::User(r) => Some(&mut r.attached_policies),
        Record::Group(r) => Some(&mut r.attached_policies),
        Record::Role(r) => Some(&mut r.attached_policies),
        _ => None,
    }
}

/// The entity `holder` of the caller's account, or `NoSuchEntity`.
///
/// # Errors
///
/// `NoSuchEntity`, or the store's failure.
pub async fn load(
    store: &(impl EntityReader + ?Sized),
    account: AccountId,
    holder: &Holder,
) -> Result<Versioned<Record>, ServiceError> {
    store
        .get(&holder.key(account))
        .await?
        .filter(|v| arn_of(&v.record).is_some())
        .ok_or_else(|| ServiceError::no_such_entity(holder.noun(), holder.name()))
}

/// Authorizes `action` on the entity's ARN (the root-path ARN when it does
/// not exist: AWS authorizes first), with `extra` context keys, then
/// returns it.
///
/// # Errors
///
/// `AccessDenied`, `NoSuchEntity`.
pub async fn authorize_on(
    iam: &Iam,
    caller: &AuthzCaller,
    action: &str,
    holder: &Holder,
    extra: &[(&str, &str)],
) -> Result<Versioned<Record>, ServiceError> {
    let account = caller.account();
    let found = iam.store.get(&holder.key(account)).await?;
    let arn = match found.as_ref().and_then(|v| arn_of(&v.record)) {
        Some(arn) => arn.clone(),
        None => holder.root_arn(&iam.partition, account),
    };
    caller.authorize(action, arn.as_str(), extra)?;
    found
        .filter(|v| arn_of(&v.record).is_some())
        .ok_or_else(|| ServiceError::no_such_entity(holder.noun(), holder.name()))
}
