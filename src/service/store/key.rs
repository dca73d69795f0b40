//! Addressing records: kinds, keys, revisions, list queries and pages.
//!
//! Owns: [`Kind`], [`Key`] (account + kind + normalized name: the one place
//! IAM's case-insensitive uniqueness is decided), [`Revision`],
//! [`Versioned`], [`ListQuery`], [`Page`] and [`ReplayScope`]. May import
//! `domain::ids` only.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::ids::{
    AccessKeyId, AccountAlias, AccountId, GroupName, MfaDeviceName, OidcProviderUrl, PolicyName,
    RoleName, SamlProviderName, UserName,
};

/// The kinds of record the store holds, one table (or key space) each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An account: its alias and its root's keys and devices.
    Account,
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role.
    Role,
    /// A customer managed policy with its versions.
    ManagedPolicy,
    /// A long-term access key of a user or root.
    AccessKey,
    /// A virtual MFA device.
    MfaDevice,
    /// A SAML identity provider.
    SamlProvider,
    /// An OIDC identity provider.
    OidcProvider,
    /// A user's console password (IAM's login profile), by user name.
    LoginProfile,
    /// The account's password policy (one per account).
    PasswordPolicy,
    /// The account's alias; unique across accounts.
    AccountAlias,
}

// === impl Kind ===

impl Kind {
    /// Every kind.
    pub const ALL: [Self; 12] = [
        Self::Account,
        Self::User,
        Self::Group,
        Self::Role,
        Self::ManagedPolicy,
        Self::AccessKey,
        Self::MfaDevice,
        Self::SamlProvider,
        Self::OidcProvider,
        Self::LoginProfile,
        Self::PasswordPolicy,
        Self::AccountAlias,
    ];

    /// Whether names of this kind are unique across accounts, not only
    /// within one: access key IDs and account aliases. For these a
    /// `Precondition::Absent` fails when any account holds the name, and a
    /// put of a name another account holds fails with
    /// [`crate::service::store::StoreError::DuplicateKey`]; adapters keep
    /// an index of name → account per kind.
    pub fn is_global(self) -> bool {
        matches!(self, Self::AccessKey | Self::AccountAlias)
    }

    /// A stable lowercase name, used in storage key names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
            Self::ManagedPolicy => "policy",
            Self::AccessKey => "access-key",
            Self::MfaDevice => "mfa-device",
            Self::SamlProvider => "saml-provider",
            Self::OidcProvider => "oidc-provider",
            Self::LoginProfile => "login-profile",
            Self::PasswordPolicy => "password-policy",
            Self::AccountAlias => "account-alias",
        }
    }

    /// The noun AWS's error messages use (`The user with name …`).
    pub fn noun(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
            Self::ManagedPolicy => "policy",
            Self::AccessKey => "access key",
            Self::MfaDevice => "MFA device",
            Self::SamlProvider => "SAML provider",
            Self::OidcProvider => "OpenIDConnect provider",
            Self::LoginProfile => "login profile",
            Self::PasswordPolicy => "password policy",
            Self::AccountAlias => "account alias",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The address of one record: its account, kind and normalized name.
///
/// Built only through the typed constructors, which fold IAM names to
/// lower case (IAM names are unique case-insensitively, reference 12), so
/// `Alice` and `alice` are one key while the record keeps the case it was
/// created with. Ordering is by account, kind, then name, which is the
/// listing order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    account: AccountId,
    kind: Kind,
    // INVARIANT: already normalized for `kind` (see the constructors); empty
    // only for `Kind::Account` and `Kind::PasswordPolicy`.
    name: String,
}

// === impl Key ===

impl Key {
    /// The record of the account itself.
    pub fn account(account: AccountId) -> Self {
        Self {
            account,
            kind: Kind::Account,
            name: String::new(),
        }
    }

    /// A user, by name (case-insensitive).
    pub fn user(account: AccountId, name: &UserName) -> Self {
        Self::folded(account, Kind::User, name.as_str())
    }

    /// A group, by name (case-insensitive).
    pub fn group(account: AccountId, name: &GroupName) -> Self {
        Self::folded(account, Kind::Group, name.as_str())
    }

    /// A role, by name (case-insensitive).
    pub fn role(account: AccountId, name: &RoleName) -> Self {
        Self::folded(account, Kind::Role, name.as_str())
    }

    /// A managed policy, by name (case-insensitive; unique in the account
    /// whatever its path).
    pub fn managed_policy(account: AccountId, name: &PolicyName) -> Self {
        Self::folded(account, Kind::ManagedPolicy, name.as_str())
    }

    /// An access key, by its exact ID. Key IDs are unique across accounts
    /// too (see [`crate::service::store::AccessKeyIndex`]).
    pub fn access_key(account: AccountId, id: &AccessKeyId) -> Self {
        Self {
            account,
            kind: Kind::AccessKey,
            name: id.as_str().to_owned(),
        }
    }

    /// A virtual MFA device, by name (case-insensitive; unique in the
    /// account whatever its path).
    pub fn mfa_device(account: AccountId, name: &MfaDeviceName) -> Self {
        Self::folded(account, Kind::MfaDevice, name.as_str())
    }

    /// A SAML provider, by name (case-insensitive).
    pub fn saml_provider(account: AccountId, name: &SamlProviderName) -> Self {
        Self::folded(account, Kind::SamlProvider, name.as_str())
    }

    /// An OIDC provider, by the host and path of its URL (exact: the path
    /// of a URL is case-sensitive).
    pub fn oidc_provider(account: AccountId, url: &OidcProviderUrl) -> Self {
        Self {
            account,
            kind: Kind::OidcProvider,
            name: url.host_and_path().to_owned(),
        }
    }

    /// The login profile (console password) of user `name`
    /// (case-insensitive, as the user's own key).
    pub fn login_profile(account: AccountId, name: &UserName) -> Self {
        Self::folded(account, Kind::LoginProfile, name.as_str())
    }

    /// The account's password policy (one per account, no name).
    pub fn password_policy(account: AccountId) -> Self {
        Self {
            account,
            kind: Kind::PasswordPolicy,
            name: String::new(),
        }
    }

    /// The account's alias `alias` (already lower case). Aliases are
    /// unique across accounts ([`Kind::is_global`]).
    pub fn account_alias(account: AccountId, alias: &AccountAlias) -> Self {
        Self {
            account,
            kind: Kind::AccountAlias,
            name: alias.as_str().to_owned(),
        }
    }

    /// A key from its parts as adapters store them. `name` must already be
    /// normalized for `kind` (it came from [`Key::name`]).
    pub(crate) fn raw(account: AccountId, kind: Kind, name: &str) -> Self {
        Self {
            account,
            kind,
            name: name.to_owned(),
        }
    }

    fn folded(account: AccountId, kind: Kind, name: &str) -> Self {
        Self {
            account,
            kind,
            name: name.to_ascii_lowercase(),
        }
    }

    /// The owning account.
    pub fn account_id(&self) -> AccountId {
        self.account
    }

    /// The kind of record.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The normalized name: the listing order and the [`Page`] marker.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == Kind::Account {
            write!(f, "account {}", self.account)
        } else if self.kind == Kind::PasswordPolicy {
            write!(f, "password policy of account {}", self.account)
        } else {
            write!(
                f,
                "{} '{}' in account {}",
                self.kind, self.name, self.account
            )
        }
    }
}

/// The revision of a stored record. Assigned by the store on every write
/// of the record; strictly increasing per key and never reused, even after
/// the record is deleted and created again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(u64);

// === impl Revision ===

impl Revision {
    /// The revision numbered `n`.
    pub fn new(n: u64) -> Self {
        Self(n)
    }

    /// The number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A record as read, with the revision a later commit can require.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// The revision the record was read at.
    pub revision: Revision,
    /// The record.
    pub record: T,
}

/// The largest page a list returns (IAM's `MaxItems` maximum).
pub const MAX_PAGE: usize = 1000;

/// One page of a listing, IAM style.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Start after this normalized name ([`Page::next`] of the previous page).
    pub after: Option<String>,
    /// At most this many records, clamped to `1..=MAX_PAGE`.
    pub limit: usize,
    /// Only records whose path starts with this (IAM `PathPrefix`); kinds
    /// without a path count as path `/`.
    pub path_prefix: Option<String>,
}

// === impl ListQuery ===

impl ListQuery {
    /// The first `limit` records.
    pub fn first(limit: usize) -> Self {
        Self {
            after: None,
            limit,
            path_prefix: None,
        }
    }

    /// The limit, clamped to `1..=MAX_PAGE`.
    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE)
    }

    /// Whether a record with `path` is in the listing.
    pub fn matches_path(&self, path: Option<&str>) -> bool {
        self.path_prefix
            .as_deref()
            .is_none_or(|prefix| path.unwrap_or("/").starts_with(prefix))
    }
}

/// A page of records in name order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The records.
    pub items: Vec<Versioned<T>>,
    /// The marker of the next page (IAM `Marker`), `None` on the last page.
    pub next: Option<String>,
}

/// What a one-time identifier is unique within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReplayScope {
    /// A TOTP time step of one MFA device (id: `serial` and step).
    TotpStep,
    /// A SAML assertion ID (id: issuer and assertion ID).
    SamlAssertion,
    /// A JWT `jti` (id: issuer and `jti`).
    JwtId,
}

// === impl ReplayScope ===

impl ReplayScope {
    /// A stable name, used in storage key names.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TotpStep => "totp",
            Self::SamlAssertion => "saml",
            Self::JwtId => "jti",
        }
    }
}

/// The longest one-time identifier, in bytes.
pub const MAX_REPLAY_ID_LEN: usize = 1024;
