//! Secret material as dedicated types.
//!
//! Owns: [`SecretAccessKey`] (the 40-character half of an access key pair),
//! [`SessionToken`] (the opaque token that travels in `X-Amz-Security-Token`),
//! [`SigningKey`] (the 32-byte SigV4 key derived from a secret for one
//! date, region and service; derived in [`crate::domain::sigv4`]), and the
//! MFA secrets [`TotpSeed`] and [`TotpCode`] (in `secret/mfa.rs`), and
//! [`SamlAssertion`] (in `secret/saml.rs`), [`BearerToken`] (a web-identity
//! JWT or endpoint token the agent holds, in `secret/bearer.rs`), [`SecretUrl`] (a connection
//! URL that may carry a password, in `secret/url.rs`), and [`Password`] (an
//! IAM user's console password in the clear, in `secret/password.rs`).
//!
//! Every type here:
//! - prints a placeholder from `Debug` and implements neither `Display` nor
//!   `Serialize`, so a secret cannot reach a log line or a response by accident;
//! - zeroizes its bytes on drop;
//! - has exactly one accessor, `expose_secret()`, which is easy to grep for;
//! - compares in constant time (`subtle::ConstantTimeEq`, and `PartialEq`
//!   built on it).
//!
//! Pure: std, subtle, thiserror, zeroize, data-encoding and the domain's
//! [`RandomSource`] only. Spec:
//! reference §3.3 and §10.

/// The rules above for a secret newtype over bytes (`String`, `Vec<u8>`,
/// `[u8; N]`): a placeholder `Debug` (`Name(<redacted>)`), constant-time
/// equality (`ConstantTimeEq`, and `PartialEq`/`Eq` on it), zeroized on
/// drop. Each type writes its own constructors and `expose_secret()`.
macro_rules! secret_type {
    ($name:ident) => {
        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl ::subtle::ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> ::subtle::Choice {
                let (a, b): (&[u8], &[u8]) = (self.0.as_ref(), other.0.as_ref());
                ::subtle::ConstantTimeEq::ct_eq(a, b)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ::subtle::ConstantTimeEq::ct_eq(self, other).into()
            }
        }

        impl Eq for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                ::zeroize::Zeroize::zeroize(&mut self.0);
            }
        }
    };
}

mod bearer;
mod mfa;
mod password;
mod saml;
mod url;

use data_encoding::BASE64;
use zeroize::{Zeroize, Zeroizing};

use crate::domain::ids::RandomSource;

pub use bearer::BearerToken;
pub use mfa::{TOTP_CODE_LEN, TotpCode, TotpSeed};
pub use password::{PASSWORD_MAX_LEN, PASSWORD_MIN_LEN, PASSWORD_PATTERN, Password};
pub use saml::SamlAssertion;
pub use url::SecretUrl;

/// Length of an AWS secret access key, in characters.
pub const SECRET_ACCESS_KEY_LEN: usize = 40;

/// The secret half of an access key pair.
///
/// INVARIANT: exactly [`SECRET_ACCESS_KEY_LEN`] characters from the base64
/// alphabet (`A–Z a–z 0–9 + /`), which is what AWS and stsd mint.
pub struct SecretAccessKey(String);

/// The opaque session token of temporary credentials.
///
/// Not validated beyond being a string: whether it is genuine and belongs to
/// the access key is decided by the session store, not by its shape.
pub struct SessionToken(String);

/// A derived SigV4 signing key (`k_signing`), valid for one access key, date,
/// region and service.
///
/// Cheap to clone, so the service layer can cache it per
/// (access key id, date, region, service); every copy zeroizes on drop.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

/// Why a string was refused as a secret access key, a TOTP seed or a
/// password. The message never contains the candidate secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The candidate does not have the required length.
    #[error("the secret access key is {found} characters long, expected {SECRET_ACCESS_KEY_LEN}")]
    Length {
        /// Characters found.
        found: usize,
    },
    /// The candidate contains a character outside the base64 alphabet.
    #[error("the secret access key contains a character outside the base64 alphabet")]
    Charset,
    /// A TOTP seed is not unpadded upper-case Base32 text.
    #[error("the totp seed is not base32 text")]
    SeedEncoding,
    /// A password is shorter than 1 or longer than 128 characters.
    #[error("the password is {found} characters long, expected 1 to 128")]
    PasswordLength {
        /// Characters found.
        found: usize,
    },
    /// A password contains a character outside tab, line feed, carriage
    /// return and U+0020–U+00FF.
    #[error(
        "the password contains a character outside tab, line feed, carriage return and u+0020 to u+00ff"
    )]
    PasswordCharacters,
}

// === impl SecretAccessKey ===

impl SecretAccessKey {
    /// A new secret: 30 bytes from `rng` (a CSPRNG in production), base64
    /// encoded into exactly 40 characters (reference 3.3).
    pub fn generate(rng: &mut impl RandomSource) -> Self {
        let mut raw = Zeroizing::new([0_u8; 30]);
        rng.fill(raw.as_mut_slice());
        Self(BASE64.encode(raw.as_slice()))
    }

    /// The secret itself. Every use is a place where the secret leaves its
    /// wrapper; keep them few.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SecretAccessKey {
    type Error = SecretError;

    fn try_from(mut value: String) -> Result<Self, Self::Error> {
        let check = if value.len() != SECRET_ACCESS_KEY_LEN {
            Err(SecretError::Length {
                found: value.chars().count(),
            })
        } else if !value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        {
            Err(SecretError::Charset)
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

impl std::str::FromStr for SecretAccessKey {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_from(s.to_owned())
    }
}

/// Every copy zeroizes on drop (a session carries its secret, and the
/// authenticated caller carries the session).
impl Clone for SecretAccessKey {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

secret_type!(SecretAccessKey);

// === impl SessionToken ===

impl SessionToken {
    /// Wraps a token as received or minted.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

secret_type!(SessionToken);

// === impl SigningKey ===

impl SigningKey {
    /// Wraps derived key bytes. Only the SigV4 key derivation creates keys.
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.0
    }
}

secret_type!(SigningKey);

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn debug_never_shows_the_secret() {
        let key: SecretAccessKey = SECRET.parse().unwrap();
        let token = SessionToken::new("AQoDYXdzEPT//////////wEXAMPLE");
        let signing = SigningKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "SecretAccessKey(<redacted>)");
        assert_eq!(format!("{token:?}"), "SessionToken(<redacted>)");
        assert_eq!(format!("{signing:?}"), "SigningKey(<redacted>)");
        let all = format!("{key:#?} {token:#?} {signing:#?} {:?}", Some(&key));
        assert!(!all.contains("EXAMPLE"));
        assert!(!all.contains("ab"));
    }

    #[test]
    fn secret_access_key_is_validated() {
        assert_eq!(
            "short".parse::<SecretAccessKey>().unwrap_err(),
            SecretError::Length { found: 5 }
        );
        let bad = SECRET.replace('/', "-");
        assert_eq!(
            bad.parse::<SecretAccessKey>().unwrap_err(),
            SecretError::Charset
        );
        let err = bad.parse::<SecretAccessKey>().unwrap_err().to_string();
        assert!(!err.contains("EXAMPLE"), "{err}");
        assert_eq!(
            SECRET.parse::<SecretAccessKey>().unwrap().expose_secret(),
            SECRET
        );
    }

    #[test]
    fn equality_is_by_value() {
        let a: SecretAccessKey = SECRET.parse().unwrap();
        let b: SecretAccessKey = SECRET.parse().unwrap();
        let c: SecretAccessKey = SECRET.replace('w', "x").parse().unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(SessionToken::new("t"), SessionToken::new("t"));
        assert_ne!(SessionToken::new("t"), SessionToken::new("tt"));
        assert_eq!(
            SigningKey::from_bytes([1; 32]),
            SigningKey::from_bytes([1; 32])
        );
        assert_ne!(
            SigningKey::from_bytes([1; 32]),
            SigningKey::from_bytes([2; 32])
        );
    }
}
