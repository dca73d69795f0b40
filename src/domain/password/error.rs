//! Errors of the password component.
//!
//! Owns: [`PasswordError`] (a policy setting out of range, a hash that
//! cannot be made or read) and [`LoginError`] (why a sign-in with a
//! password does not go through). No message contains a password or a
//! hash. Pure.

/// Why a policy, a hash or a password could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// A setting of the password policy is out of its range.
    #[error("{field} must be between {min} and {max}, found {found}")]
    PolicyRange {
        /// The setting, as the API names it (`MinimumPasswordLength`).
        field: &'static str,
        /// Its least value.
        min: u32,
        /// Its greatest value.
        max: u32,
        /// What was given.
        found: u32,
    },
    /// argon2 refused to hash (it does not for valid passwords and the
    /// parameters stsd uses).
    #[error("cannot hash the password: {reason}")]
    Hashing {
        /// argon2's reason; never the password.
        reason: String,
    },
    /// A stored hash is not one stsd can verify.
    #[error("malformed password hash: {reason}")]
    MalformedHash {
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Why a sign-in with a password is refused. Exhaustive: the sign-in page
/// must decide what to show for each.
///
/// Only [`LoginError::WrongPassword`] is returned for a wrong password;
/// the other variants mean the password was right, so the page may offer
/// to change it (or, for [`LoginError::ExpiredHard`], tell the user to ask
/// an administrator) without helping someone who does not know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// The password is wrong (or the user has no login profile).
    #[error("the user name or password is wrong")]
    WrongPassword,
    /// An administrator asked the user to set a new password at the next
    /// sign-in (`PasswordResetRequired`).
    #[error("the password must be changed before signing in")]
    ResetRequired,
    /// The password is older than the policy's `MaxPasswordAge`; the user
    /// must set a new one.
    #[error("the password has expired and must be changed")]
    Expired,
    /// The password expired and the policy's `HardExpiry` lets only an
    /// administrator set a new one.
    #[error("the password has expired and only an administrator can reset it")]
    ExpiredHard,
}

// === impl LoginError ===

impl LoginError {
    /// Whether the user may set a new password now (with the old one).
    pub fn may_change_password(self) -> bool {
        match self {
            Self::ResetRequired | Self::Expired => true,
            Self::WrongPassword | Self::ExpiredHard => false,
        }
    }
}
