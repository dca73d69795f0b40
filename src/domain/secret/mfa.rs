//! The secrets of virtual MFA devices.
//!
//! Owns: [`TotpSeed`], the shared key of a TOTP device (RFC 6238 `K`), and
//! [`TotpCode`], a six-digit one-time code as a caller sent it. Both follow
//! the rules of [`crate::domain::secret`]: a placeholder `Debug`, no
//! `Display` or `Serialize`, zeroized on drop, one `expose_secret()`, and
//! constant-time equality. A code is short-lived, but while it is current
//! it is as good as the device, so it is handled like one.
//!
//! Pure: std, subtle, zeroize, data-encoding and the identifier errors.
//! Spec: reference section 10; RFC 4648 (Base32), RFC 6238.

use std::str::FromStr;

use data_encoding::BASE32_NOPAD;
use zeroize::Zeroizing;

use super::SecretError;
use crate::domain::ids::{Constraint, IdError};

/// Digits in a code (`authenticationCodeType`: exactly 6 of `[\d]+`).
pub const TOTP_CODE_LEN: usize = 6;

/// The model's pattern for codes, quoted in errors.
const CODE_PATTERN: &str = r"[\d]+";

/// The shared key of a TOTP device: the bytes HMAC-SHA1 is keyed with.
/// Shown to a caller once, as Base32 text, when the device is created;
/// stored only sealed.
pub struct TotpSeed(Vec<u8>);

/// A six-digit code from an authenticator (`AuthenticationCode1`/`2`,
/// STS `TokenCode`).
///
/// INVARIANT: exactly [`TOTP_CODE_LEN`] ASCII digits.
pub struct TotpCode(String);

// === impl TotpSeed ===

impl TotpSeed {
    /// A seed from raw key bytes (copied; zeroize your buffer).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// A seed from its unpadded RFC 4648 Base32 text (upper case), the form
    /// the store seals and authenticator apps read.
    ///
    /// # Errors
    ///
    /// [`SecretError::SeedEncoding`] when the text is not such Base32.
    pub fn from_base32(text: &[u8]) -> Result<Self, SecretError> {
        let len = BASE32_NOPAD
            .decode_len(text.len())
            .map_err(|_| SecretError::SeedEncoding)?;
        let mut buf = Zeroizing::new(vec![0_u8; len]);
        let written = BASE32_NOPAD
            .decode_mut(text, &mut buf)
            .map_err(|_| SecretError::SeedEncoding)?;
        Ok(Self::from_bytes(buf.get(..written).unwrap_or_default()))
    }

    /// The seed as unpadded Base32 text.
    pub fn to_base32(&self) -> Zeroizing<String> {
        // Reserved up front so encoding never reallocates and leaves a
        // copy behind in freed memory.
        let mut out = Zeroizing::new(String::with_capacity(BASE32_NOPAD.encode_len(self.0.len())));
        BASE32_NOPAD.encode_append(&self.0, &mut out);
        out
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

secret_type!(TotpSeed);

// === impl TotpCode ===

impl TotpCode {
    /// The six digits.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl FromStr for TotpCode {
    type Err = IdError;

    /// Checks the model's constraints (pattern first, then length, as
    /// [`IdError`] lists them); the member defaults to `authenticationCode`
    /// and is renamed by the caller with [`IdError::at`].
    fn from_str(value: &str) -> Result<Self, IdError> {
        let mut broken = Vec::new();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            broken.push(Constraint::Pattern(CODE_PATTERN));
        }
        let len = value.chars().count();
        if len < TOTP_CODE_LEN {
            broken.push(Constraint::MinLength(TOTP_CODE_LEN));
        }
        if len > TOTP_CODE_LEN {
            broken.push(Constraint::MaxLength(TOTP_CODE_LEN));
        }
        if broken.is_empty() {
            Ok(Self(value.to_owned()))
        } else {
            Err(IdError::Constraint {
                member: "authenticationCode".into(),
                value: value.to_owned(),
                broken,
            })
        }
    }
}

secret_type!(TotpCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_round_trips_through_base32() {
        let seed = TotpSeed::from_bytes(b"12345678901234567890");
        let text = seed.to_base32();
        assert_eq!(text.as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSeed::from_base32(text.as_bytes()).unwrap(), seed);
        assert_eq!(
            TotpSeed::from_base32(b"not base32!").unwrap_err(),
            SecretError::SeedEncoding
        );
        assert!(TotpSeed::from_base32(b"gezdgnbv").is_err(), "lower case");
    }

    #[test]
    fn debug_never_shows_seeds_or_codes() {
        let seed = TotpSeed::from_bytes(b"12345678901234567890");
        let code: TotpCode = "287082".parse().unwrap();
        let all = format!("{seed:?} {code:?} {:#?}", (Some(&seed), Some(&code)));
        assert!(!all.contains("GEZD") && !all.contains("1234"), "{all}");
        assert!(!all.contains("287082"), "{all}");
        assert_eq!(code.expose_secret(), "287082");
    }

    #[test]
    fn codes_are_six_digits() {
        for ok in ["000000", "123456"] {
            assert!(ok.parse::<TotpCode>().is_ok(), "{ok}");
        }
        let err = "12345a".parse::<TotpCode>().unwrap_err();
        assert_eq!(
            err.at("authenticationCode1").aws_message(),
            r"1 validation error detected: Value '12345a' at 'authenticationCode1' failed to satisfy constraint: Member must satisfy regular expression pattern: [\d]+"
        );
        let err = "1234567".parse::<TotpCode>().unwrap_err();
        assert_eq!(err.count(), 1);
        assert!(err.aws_message().contains("less than or equal to 6"));
        assert_eq!("".parse::<TotpCode>().unwrap_err().count(), 2);
        assert!("١٢٣٤٥٦".parse::<TotpCode>().is_err(), "ASCII digits only");
    }
}
