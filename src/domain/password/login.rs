//! A user's console password as stored, and signing in with it.
//!
//! Owns: [`LoginPassword`] (the current hash, when it was set, whether a
//! reset is required, and the hashes of earlier passwords for reuse
//! prevention), its expiry under a policy, the reuse check, and
//! [`verify_password`], the one decision the sign-in page calls. Pure:
//! time comes in as Unix seconds.

use serde::{Deserialize, Serialize};

use super::error::LoginError;
use super::hash::{PasswordHash, SALT_LEN, hash_password};
use super::policy::{PasswordPolicy, REUSE_RANGE};
use crate::domain::secret::Password;

/// How many passwords a user's history keeps, the current one included:
/// the largest `PasswordReusePrevention`, so that raising the setting
/// later covers passwords set before.
pub const REMEMBERED_PASSWORDS: usize = REUSE_RANGE.1 as usize;

/// A user's console password, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginPassword {
    /// The hash of the current password.
    pub hash: PasswordHash,
    /// When it was set (Unix seconds): `CreateDate` of the login profile,
    /// and where `MaxPasswordAge` counts from.
    pub set_at: u64,
    /// `PasswordResetRequired`: the user must set a new password at the
    /// next sign-in.
    pub reset_required: bool,
    /// Hashes of earlier passwords, newest first, at most
    /// [`REMEMBERED_PASSWORDS`] − 1.
    #[serde(default)]
    pub previous: Vec<PasswordHash>,
}

// === impl LoginPassword ===

impl LoginPassword {
    /// A first password, set at `now`.
    pub fn new(hash: PasswordHash, now: u64, reset_required: bool) -> Self {
        Self {
            hash,
            set_at: now,
            reset_required,
            previous: Vec::new(),
        }
    }

    /// This password replaced by `hash` at `now`: the current one joins
    /// the history (which keeps the latest [`REMEMBERED_PASSWORDS`]
    /// passwords in all).
    #[must_use]
    pub fn replaced(&self, hash: PasswordHash, now: u64, reset_required: bool) -> Self {
        let mut previous = Vec::with_capacity(REMEMBERED_PASSWORDS);
        previous.push(self.hash.clone());
        previous.extend(self.previous.iter().cloned());
        previous.truncate(REMEMBERED_PASSWORDS.saturating_sub(1));
        Self {
            hash,
            set_at: now,
            reset_required,
            previous,
        }
    }

    /// When the password expires under `policy` (Unix seconds); `None`
    /// when passwords do not expire.
    pub fn expires_at(&self, policy: Option<&PasswordPolicy>) -> Option<u64> {
        let age = policy?.max_age_secs()?;
        Some(self.set_at.saturating_add(age))
    }

    /// Whether the password has expired at `now`.
    pub fn is_expired(&self, policy: Option<&PasswordPolicy>, now: u64) -> bool {
        self.expires_at(policy).is_some_and(|at| now >= at)
    }

    /// Whether `candidate` is one of the latest `remembered` passwords,
    /// the current one first. Costs one hash per password compared.
    pub fn reused(&self, candidate: &Password, remembered: usize) -> bool {
        std::iter::once(&self.hash)
            .chain(&self.previous)
            .take(remembered)
            .any(|h| h.matches(candidate))
    }
}

/// Whether `candidate` signs the user in at `now` (Unix seconds).
///
/// The password is checked first, always with one full argon2
/// computation, so the answer for a wrong password reveals nothing about
/// the account's state; only then do a required reset and expiry under
/// `policy` (the account's, `None` when it has none) refuse.
///
/// # Errors
///
/// [`LoginError::WrongPassword`], or for the right password
/// [`LoginError::ResetRequired`], [`LoginError::ExpiredHard`] or
/// [`LoginError::Expired`].
pub fn verify_password(
    profile: &LoginPassword,
    policy: Option<&PasswordPolicy>,
    candidate: &Password,
    now: u64,
) -> Result<(), LoginError> {
    if !profile.hash.matches(candidate) {
        return Err(LoginError::WrongPassword);
    }
    if profile.is_expired(policy, now) {
        let hard = policy.is_some_and(PasswordPolicy::is_hard_expiry);
        return Err(if hard {
            LoginError::ExpiredHard
        } else {
            LoginError::Expired
        });
    }
    if profile.reset_required {
        return Err(LoginError::ResetRequired);
    }
    Ok(())
}

/// The refusal for a user without a login profile (or no such user),
/// after the same argon2 work as a real check, so the time taken does not
/// tell which user names exist.
pub fn verify_without_profile(candidate: &Password) -> LoginError {
    // A fixed salt is fine: the result is thrown away.
    let _ = hash_password(candidate, &[0; SALT_LEN]);
    LoginError::WrongPassword
}
