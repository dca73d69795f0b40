//! The account password policy and the rules a new password must meet.
//!
//! Owns: [`PasswordPolicy`] (IAM's `PasswordPolicy`, with its ranges), the
//! [`Rule`]s it implies, AWS's default policy when an account has none,
//! and [`check_password`], which lists every rule a password breaks. The
//! reuse rule needs the stored hashes and lives with them
//! ([`super::LoginPassword::reused`]). Pure.
//!
//! Spec: reference section 12 (`UpdateAccountPasswordPolicy` ranges); IAM
//! User Guide "Set an account password policy for IAM users" (the symbol
//! set and the default policy: at least 8 characters, three of the four
//! character classes, not the account's name).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::PasswordError;
use crate::domain::secret::Password;

/// `MinimumPasswordLength`: 6–128.
pub const MIN_LENGTH_RANGE: (u32, u32) = (6, 128);
/// `MaxPasswordAge`, in days: 1–1095.
pub const MAX_AGE_RANGE: (u32, u32) = (1, 1095);
/// `PasswordReusePrevention`: 1–24 previous passwords.
pub const REUSE_RANGE: (u32, u32) = (1, 24);
/// The minimum length of AWS's default policy (no policy set).
pub const DEFAULT_MIN_LENGTH: u32 = 8;
/// Character classes AWS's default policy asks for, of four.
pub const DEFAULT_CLASSES: usize = 3;

/// What `RequireSymbols` counts as a symbol: exactly IAM's list,
/// `! @ # $ % ^ & * ( ) _ + - = [ ] { } | '`.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// An account's password policy, as `UpdateAccountPasswordPolicy` sets it.
/// Every setting left out of that call takes its default (`Default`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordPolicy {
    /// `MinimumPasswordLength` (6–128; default 6).
    pub minimum_length: u32,
    /// `RequireSymbols`: one of [`SYMBOLS`].
    pub require_symbols: bool,
    /// `RequireNumbers`: one of `0-9`.
    pub require_numbers: bool,
    /// `RequireUppercaseCharacters`: one of `A-Z`.
    pub require_uppercase: bool,
    /// `RequireLowercaseCharacters`: one of `a-z`.
    pub require_lowercase: bool,
    /// `AllowUsersToChangePassword`: every user may call `ChangePassword`
    /// on itself (and read this policy) without a policy granting it.
    pub allow_users_to_change: bool,
    /// `MaxPasswordAge` in days (1–1095); `None`: passwords never expire.
    pub max_age_days: Option<u32>,
    /// `PasswordReusePrevention` (1–24): how many of the latest passwords,
    /// the current one included, a new one may not repeat.
    pub reuse_prevention: Option<u32>,
    /// `HardExpiry`: a user whose password expired cannot set a new one;
    /// an administrator must. `None` when never given (AWS then omits it).
    pub hard_expiry: Option<bool>,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            minimum_length: MIN_LENGTH_RANGE.0,
            require_symbols: false,
            require_numbers: false,
            require_uppercase: false,
            require_lowercase: false,
            allow_users_to_change: false,
            max_age_days: None,
            reuse_prevention: None,
            hard_expiry: None,
        }
    }
}

// === impl PasswordPolicy ===

impl PasswordPolicy {
    /// Checks every range.
    ///
    /// # Errors
    ///
    /// [`PasswordError::PolicyRange`] naming the first setting out of range.
    pub fn validate(&self) -> Result<(), PasswordError> {
        let settings = [
            (
                "MinimumPasswordLength",
                Some(self.minimum_length),
                MIN_LENGTH_RANGE,
            ),
            ("MaxPasswordAge", self.max_age_days, MAX_AGE_RANGE),
            (
                "PasswordReusePrevention",
                self.reuse_prevention,
                REUSE_RANGE,
            ),
        ];
        for (field, value, (min, max)) in settings {
            if let Some(found) = value
                && !(min..=max).contains(&found)
            {
                return Err(PasswordError::PolicyRange {
                    field,
                    min,
                    max,
                    found,
                });
            }
        }
        Ok(())
    }

    /// `ExpirePasswords`: whether passwords expire.
    pub fn expire_passwords(&self) -> bool {
        self.max_age_days.is_some()
    }

    /// Whether an expired password can only be reset by an administrator.
    pub fn is_hard_expiry(&self) -> bool {
        self.hard_expiry == Some(true)
    }

    /// How long a password lives, in seconds.
    pub fn max_age_secs(&self) -> Option<u64> {
        self.max_age_days.map(|d| u64::from(d) * 86_400)
    }

    /// How many of the latest passwords, the current one included, a new
    /// password may not repeat (0: any).
    pub fn remembered(&self) -> usize {
        self.reuse_prevention
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    }
}

/// One rule a new password must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// At least this many characters.
    MinimumLength(u32),
    /// A symbol of [`SYMBOLS`].
    Symbol,
    /// A digit.
    Number,
    /// An upper-case letter `A-Z`.
    Uppercase,
    /// A lower-case letter `a-z`.
    Lowercase,
    /// Characters of at least this many of the four classes (AWS's default
    /// policy).
    CharacterClasses(usize),
    /// Not the account's ID or alias (AWS's default policy: "not identical
    /// to your account name").
    NotAccountName,
    /// None of the latest this many passwords.
    NotReused(usize),
}

impl fmt::Display for Rule {
    /// AWS's `PasswordPolicyViolation` wording for the rule.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MinimumLength(n) => write!(f, "Password should have a minimum length of {n}"),
            Self::Symbol => f.write_str("Password should have at least one symbol"),
            Self::Number => f.write_str("Password should have at least one number"),
            Self::Uppercase => f.write_str("Password should have at least one uppercase letter"),
            Self::Lowercase => f.write_str("Password should have at least one lowercase letter"),
            Self::CharacterClasses(n) => write!(
                f,
                "Password should have characters of at least {n} of these types: uppercase letters, lowercase letters, numbers and symbols"
            ),
            Self::NotAccountName => {
                f.write_str("Password should not be identical to the account ID or alias")
            }
            Self::NotReused(1) => f.write_str("Password should not be the current password"),
            Self::NotReused(n) => write!(
                f,
                "Password should not be one of the {n} most recent passwords"
            ),
        }
    }
}

/// The rules a password broke, in the order [`check_password`] checks
/// them; the message of `PasswordPolicyViolation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violations(pub Vec<Rule>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rule) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{rule}")?;
        }
        f.write_str(".")
    }
}

/// The character classes present in `text`: upper, lower, digit, symbol.
fn classes(text: &str) -> [bool; 4] {
    [
        text.chars().any(|c| c.is_ascii_uppercase()),
        text.chars().any(|c| c.is_ascii_lowercase()),
        text.chars().any(|c| c.is_ascii_digit()),
        text.chars().any(|c| SYMBOLS.contains(c)),
    ]
}

/// Every rule of `policy` (AWS's default policy when `None`) that
/// `password` breaks, reuse aside. `account_names` are the account's ID
/// and alias, which the default policy refuses (compared ignoring case).
///
/// # Errors
///
/// The broken rules, when there are any.
pub fn check_password(
    policy: Option<&PasswordPolicy>,
    password: &Password,
    account_names: &[&str],
) -> Result<(), Violations> {
    let [upper, lower, digit, symbol] = classes(password.expose_secret());
    let len = u32::try_from(password.len()).unwrap_or(u32::MAX);
    let mut broken = Vec::new();
    match policy {
        Some(p) => {
            if len < p.minimum_length {
                broken.push(Rule::MinimumLength(p.minimum_length));
            }
            let required = [
                (p.require_symbols, symbol, Rule::Symbol),
                (p.require_numbers, digit, Rule::Number),
                (p.require_uppercase, upper, Rule::Uppercase),
                (p.require_lowercase, lower, Rule::Lowercase),
            ];
            broken.extend(
                required
                    .into_iter()
                    .filter(|(asked, present, _)| *asked && !present)
                    .map(|(_, _, rule)| rule),
            );
        }
        None => {
            if len < DEFAULT_MIN_LENGTH {
                broken.push(Rule::MinimumLength(DEFAULT_MIN_LENGTH));
            }
            let present = [upper, lower, digit, symbol].iter().filter(|c| **c).count();
            if present < DEFAULT_CLASSES {
                broken.push(Rule::CharacterClasses(DEFAULT_CLASSES));
            }
            let secret = password.expose_secret();
            if account_names
                .iter()
                .any(|name| name.eq_ignore_ascii_case(secret))
            {
                broken.push(Rule::NotAccountName);
            }
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(Violations(broken))
    }
}
