//! Records of console sign-in: login profiles, the account password policy
//! and the account alias.
//!
//! Owns: [`LoginProfileRecord`], [`PasswordPolicyRecord`] and
//! [`AccountAliasRecord`]. A login profile holds its password only as an
//! argon2id hash ([`LoginPassword`]), with the hashes of earlier passwords
//! for reuse prevention; nothing here is ever returned to a caller as it
//! is. The alias is also shown on [`super::AccountRecord::alias`]; this
//! record is what makes it unique across accounts ([`Kind::is_global`]).
//!
//! [`Kind::is_global`]: crate::service::store::Kind::is_global

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::domain::ids::{AccountAlias, AccountId, UserName};
use crate::domain::password::{LoginPassword, PasswordPolicy};

/// An IAM user's login profile: its console password. Stored under the
/// user's (lower-cased) name, so at most one per user; moves with the
/// user on a rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginProfileRecord {
    /// The owning account.
    pub account: AccountId,
    /// The user, case preserved.
    pub user: UserName,
    /// When the profile was created (the password's own date is
    /// [`LoginPassword::set_at`]).
    pub create_date: Timestamp,
    /// The password hash, its date, the reset flag and the history.
    pub password: LoginPassword,
}

/// The account's password policy, when one is set
/// (`UpdateAccountPasswordPolicy`); without it AWS's default rules apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordPolicyRecord {
    /// The owning account.
    pub account: AccountId,
    /// The settings.
    pub policy: PasswordPolicy,
}

/// The account's alias (at most one per account, unique across accounts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountAliasRecord {
    /// The owning account.
    pub account: AccountId,
    /// The alias.
    pub alias: AccountAlias,
    /// When it was created.
    pub create_date: Timestamp,
}
