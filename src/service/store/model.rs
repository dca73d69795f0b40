//! The record model: what the store holds, as serde data.
//!
//! Owns: one record type per [`Kind`] (in [`identity`], [`credentials`]
//! and [`login`]), the [`Record`] sum of them, the [`Entity`] trait that
//! ties each type to its kind and key, and the shared value types
//! ([`Timestamp`], [`Tag`], [`LastUsed`]). Records are plain data: the IAM
//! layer enforces IAM's rules (limits, references) inside one commit; the
//! store only keeps them. May import `domain` only.
//!
//! Compatibility: records are stored as JSON. New fields get
//! `#[serde(default)]` so older files keep loading; unknown fields are
//! ignored rather than refused.

pub mod credentials;
pub mod identity;
pub mod login;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use credentials::{
    AccessKeyRecord, AccessKeyStatus, CredentialOwner, MfaAssignment, MfaDeviceRecord,
    OidcProviderRecord, SamlProviderRecord,
};
pub use identity::{
    AccountRecord, GroupRecord, ManagedPolicyRecord, PolicyVersion, PolicyVersionId, RoleRecord,
    UserRecord,
};
pub use login::{AccountAliasRecord, LoginProfileRecord, PasswordPolicyRecord};

use super::error::StoreError;
use super::key::{Key, Kind, Versioned};
use crate::domain::clock::Clock;
use crate::domain::ids::{Region, TagKey, TagValue};

/// A point in time, in milliseconds since the Unix epoch (serialized as
/// that number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(u64);

// === impl Timestamp ===

impl Timestamp {
    /// `millis` milliseconds after the epoch.
    pub fn from_unix_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// `secs` seconds after the epoch.
    pub fn from_unix_secs(secs: u64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// The clock's now.
    pub fn now(clock: &dyn Clock) -> Self {
        Self(u64::try_from(clock.now().as_millis()).unwrap_or(u64::MAX))
    }

    /// Milliseconds after the epoch.
    pub fn as_unix_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds after the epoch.
    pub fn as_unix_secs(self) -> u64 {
        self.0 / 1000
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

/// A tag on an IAM entity, in the order it was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key (case-preserving).
    pub key: TagKey,
    /// The value.
    pub value: TagValue,
}

/// When and where a credential or role was last used (IAM
/// `GetAccessKeyLastUsed`, `RoleLastUsed`). Kept apart from the records by
/// [`crate::service::store::UsageLog`], so that recording a use neither
/// bumps a revision nor invalidates caches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUsed {
    /// When.
    pub date: Timestamp,
    /// The service called (`sts`, `iam`, …), when known.
    #[serde(default)]
    pub service: Option<String>,
    /// The region called, when known.
    #[serde(default)]
    pub region: Option<Region>,
}

/// Any record, tagged with its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum Record {
    /// An account.
    Account(AccountRecord),
    /// A user.
    User(UserRecord),
    /// A group.
    Group(GroupRecord),
    /// A role.
    Role(RoleRecord),
    /// A managed policy.
    ManagedPolicy(ManagedPolicyRecord),
    /// An access key.
    AccessKey(AccessKeyRecord),
    /// A virtual MFA device.
    MfaDevice(MfaDeviceRecord),
    /// A SAML provider.
    SamlProvider(SamlProviderRecord),
    /// An OIDC provider.
    OidcProvider(OidcProviderRecord),
    /// A user's login profile.
    LoginProfile(LoginProfileRecord),
    /// The account's password policy.
    PasswordPolicy(PasswordPolicyRecord),
    /// The account's alias.
    AccountAlias(AccountAliasRecord),
}

// === impl Record ===

impl Record {
    /// The record's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Account(_) => Kind::Account,
            Self::User(_) => Kind::User,
            Self::Group(_) => Kind::Group,
            Self::Role(_) => Kind::Role,
            Self::ManagedPolicy(_) => Kind::ManagedPolicy,
            Self::AccessKey(_) => Kind::AccessKey,
            Self::MfaDevice(_) => Kind::MfaDevice,
            Self::SamlProvider(_) => Kind::SamlProvider,
            Self::OidcProvider(_) => Kind::OidcProvider,
            Self::LoginProfile(_) => Kind::LoginProfile,
            Self::PasswordPolicy(_) => Kind::PasswordPolicy,
            Self::AccountAlias(_) => Kind::AccountAlias,
        }
    }

    /// The key the record is stored under.
    pub fn key(&self) -> Key {
        match self {
            Self::Account(r) => r.key(),
            Self::User(r) => r.key(),
            Self::Group(r) => r.key(),
            Self::Role(r) => r.key(),
            Self::ManagedPolicy(r) => r.key(),
            Self::AccessKey(r) => r.key(),
            Self::MfaDevice(r) => r.key(),
            Self::SamlProvider(r) => r.key(),
            Self::OidcProvider(r) => r.key(),
            Self::LoginProfile(r) => r.key(),
            Self::PasswordPolicy(r) => r.key(),
            Self::AccountAlias(r) => r.key(),
        }
    }

    /// The IAM path, for kinds that have one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Self::User(r) => Some(r.path.as_str()),
            Self::Group(r) => Some(r.path.as_str()),
            Self::Role(r) => Some(r.path.as_str()),
            Self::ManagedPolicy(r) => Some(r.path.as_str()),
            Self::MfaDevice(r) => Some(r.path.as_str()),
            Self::Account(_)
            | Self::AccessKey(_)
            | Self::SamlProvider(_)
            | Self::OidcProvider(_)
            | Self::LoginProfile(_)
            | Self::PasswordPolicy(_)
            | Self::AccountAlias(_) => None,
        }
    }
}

/// A record type of one kind.
pub trait Entity: Clone + Into<Record> + Sized {
    /// Its kind.
    const KIND: Kind;

    /// The key it is stored under.
    fn key(&self) -> Key;

    /// The record of this kind inside `record`, if it is one.
    fn from_record(record: Record) -> Option<Self>;
}

// === impl Versioned ===

impl Versioned<Record> {
    /// The typed record; [`StoreError::CorruptRecord`] when the record is
    /// of another kind (a key and its record always agree in kind).
    pub fn downcast<T: Entity>(self) -> Result<Versioned<T>, StoreError> {
        let found = self.record.kind();
        T::from_record(self.record)
            .map(|record| Versioned {
                revision: self.revision,
                record,
            })
            .ok_or_else(|| StoreError::CorruptRecord {
                detail: format!("expected a {} record, found a {found} record", T::KIND),
            })
    }
}

/// Implements [`Entity`] and `From<$ty> for Record`.
macro_rules! entity {
    ($ty:ident, $variant:ident, |$r:ident| $key:expr) => {
        impl Entity for $ty {
            const KIND: Kind = Kind::$variant;

            fn key(&self) -> Key {
                let $r = self;
                $key
            }

            fn from_record(record: Record) -> Option<Self> {
                match record {
                    Record::$variant(r) => Some(r),
                    _ => None,
                }
            }
        }

        impl From<$ty> for Record {
            fn from(r: $ty) -> Self {
                Record::$variant(r)
            }
        }
    };
}

entity!(AccountRecord, Account, |r| Key::account(r.id));
entity!(UserRecord, User, |r| Key::user(r.account, &r.name));
entity!(GroupRecord, Group, |r| Key::group(r.account, &r.name));
entity!(RoleRecord, Role, |r| Key::role(r.account, &r.name));
entity!(ManagedPolicyRecord, ManagedPolicy, |r| Key::managed_policy(
    r.account, &r.name
));
entity!(AccessKeyRecord, AccessKey, |r| Key::access_key(
    r.account, &r.id
));
entity!(MfaDeviceRecord, MfaDevice, |r| Key::mfa_device(
    r.account, &r.name
));
entity!(SamlProviderRecord, SamlProvider, |r| Key::saml_provider(
    r.account, &r.name
));
entity!(OidcProviderRecord, OidcProvider, |r| Key::oidc_provider(
    r.account, &r.url
));
entity!(LoginProfileRecord, LoginProfile, |r| Key::login_profile(
    r.account, &r.user
));
entity!(PasswordPolicyRecord, PasswordPolicy, |r| {
    Key::password_policy(r.account)
});
entity!(AccountAliasRecord, AccountAlias, |r| Key::account_alias(
    r.account, &r.alias
));
