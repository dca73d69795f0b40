//! Console passwords of IAM users, as callers send them.
//!
//! Owns: [`Password`], a candidate or new password (`Password`,
//! `OldPassword`, `NewPassword` of the IAM API, later the sign-in form).
//! It follows the rules of [`crate::domain::secret`]: a placeholder
//! `Debug`, no `Display` or `Serialize`, zeroized on drop, one
//! `expose_secret()`, constant-time equality. Its errors never contain the
//! candidate. Stored passwords are hashes ([`crate::domain::password`]),
//! never this type. Pure: std, subtle, zeroize.
//!
//! Spec: botocore's `passwordType` (1–128 characters of
//! `[\u0009\u000A\u000D\u0020-\u00FF]+`), reference section 12.

use zeroize::Zeroize;

use super::SecretError;

/// The shortest password the API accepts (policies ask for more).
pub const PASSWORD_MIN_LEN: usize = 1;
/// The longest password the API accepts, in characters.
pub const PASSWORD_MAX_LEN: usize = 128;
/// The model's pattern for passwords, quoted in errors.
pub const PASSWORD_PATTERN: &str = r"[\u0009\u000A\u000D\u0020-\u00FF]+";

/// A password in the clear.
///
/// INVARIANT: 1–128 characters, each a tab, line feed, carriage return or
/// in U+0020–U+00FF (the model's pattern).
pub struct Password(String);

// === impl Password ===

impl Password {
    /// The password itself. Every use is a place where it leaves its
    /// wrapper: hashing, and the policy's character checks.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Its length in characters (what the policy's minimum counts).
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    /// Never true (the invariant asks for a character at least); here
    /// because `len` is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether `c` is allowed in a password by the model's pattern.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}')
}

impl TryFrom<String> for Password {
    type Error = SecretError;

    /// Checks the model's constraints; the candidate is zeroized when
    /// refused.
    fn try_from(mut value: String) -> Result<Self, Self::Error> {
        let found = value.chars().count();
        let check = if !(PASSWORD_MIN_LEN..=PASSWORD_MAX_LEN).contains(&found) {
            Err(SecretError::PasswordLength { found })
        } else if !value.chars().all(allowed) {
            Err(SecretError::PasswordCharacters)
        } else {
            Ok(())
        };
        match check {
            Ok(()) => Ok(Self(value)),
            Err(e) => {
                value.zeroize();
                Err(e)
            }
        }
    }
}

impl std::str::FromStr for Password {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

/// Every copy zeroizes on drop (a check on the blocking pool takes its
/// own).
impl Clone for Password {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

secret_type!(Password);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_never_show_the_password() {
        let p: Password = "Tr0ub4dor&3".parse().unwrap();
        let all = format!("{p:?} {:#?}", Some(&p));
        assert!(!all.contains("Tr0ub"), "{all}");
        let long = "Tr0ub4dor&3".repeat(20);
        let err = long.parse::<Password>().unwrap_err();
        assert_eq!(err, SecretError::PasswordLength { found: 220 });
        assert!(!err.to_string().contains("Tr0ub"), "{err}");
        let err = "Tr0ub4dor\u{263a}".parse::<Password>().unwrap_err();
        assert_eq!(err, SecretError::PasswordCharacters);
        assert!(!err.to_string().contains("Tr0ub"), "{err}");
    }

    #[test]
    fn the_model_pattern_and_lengths() {
        for ok in [
            "a",
            "tab\there",
            "line\r\nbreak",
            "caf\u{e9} \u{ff}",
            &"x".repeat(128),
        ] {
            assert_eq!(ok.parse::<Password>().unwrap().expose_secret(), ok);
        }
        assert_eq!(
            "".parse::<Password>().unwrap_err(),
            SecretError::PasswordLength { found: 0 }
        );
        assert_eq!(
            "x".repeat(129).parse::<Password>().unwrap_err(),
            SecretError::PasswordLength { found: 129 }
        );
        for bad in ["bell\u{7}", "nul\0", "euro\u{20ac}", "vt\u{b}"] {
            assert_eq!(
                bad.parse::<Password>().unwrap_err(),
                SecretError::PasswordCharacters,
                "{bad:?}"
            );
        }
        // Length counts characters, not bytes: é is two bytes.
        assert_eq!("\u{e9}".repeat(128).parse::<Password>().unwrap().len(), 128);
    }

    #[test]
    fn equality_is_by_value() {
        let a: Password = "same".parse().unwrap();
        assert_eq!(a, "same".parse().unwrap());
        assert_ne!(a, "Same".parse().unwrap());
    }
}
