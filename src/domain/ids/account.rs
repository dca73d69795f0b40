//! Account IDs, partitions and regions.
//!
//! Owns: [`AccountId`] (12 digits), [`AccountAlias`] (the sign-in name an
//! account may take instead of its ID), [`Partition`] (`aws` by default,
//! and configurable for private deployments) and [`Region`]. Pure.

use std::fmt;
use std::str::FromStr;

use super::error::{Constraint, IdError};
use super::spec::{Spec, all_nonempty, string_newtype};

/// A 12-digit AWS account ID, such as `111122223333`.
///
/// `Copy`: it is stored as its 12 ASCII digits, not as a heap string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(
    // INVARIANT: exactly 12 ASCII digits.
    [u8; AccountId::LEN],
);

/// Pattern quoted when an account ID is rejected.
const ACCOUNT_PATTERN: &str = r"\d{12}";

// === impl AccountId ===

impl AccountId {
    /// Digits in an account ID.
    pub const LEN: usize = 12;

    /// The account for the number `n`, zero-padded to 12 digits; `None`
    /// when `n` has more than 12 digits.
    pub fn from_u64(n: u64) -> Option<Self> {
        if n >= 1_000_000_000_000 {
            return None;
        }
        let mut digits = [b'0'; Self::LEN];
        let mut rest = n;
        for d in digits.iter_mut().rev() {
            // `rest % 10` is below 10, so the cast cannot truncate.
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        Some(Self(digits))
    }

    /// The account as a number (leading zeros dropped).
    pub fn as_u64(&self) -> u64 {
        self.0.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'))
    }

    /// The 12 digits as text.
    pub fn as_str(&self) -> &str {
        // INVARIANT: ASCII digits are valid UTF-8, so the fallback is unreachable.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    fn invalid(value: &str) -> IdError {
        IdError::Constraint {
            member: "accountId".into(),
            value: value.to_owned(),
            broken: vec![Constraint::Pattern(ACCOUNT_PATTERN)],
        }
    }
}

impl FromStr for AccountId {
    type Err = IdError;

    fn from_str(value: &str) -> Result<Self, IdError> {
        let digits: [u8; Self::LEN] = value
            .as_bytes()
            .try_into()
            .map_err(|_| Self::invalid(value))?;
        if digits.iter().all(u8::is_ascii_digit) {
            Ok(Self(digits))
        } else {
            Err(Self::invalid(value))
        }
    }
}

impl TryFrom<String> for AccountId {
    type Error = IdError;

    fn try_from(value: String) -> Result<Self, IdError> {
        value.parse()
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.as_str())
    }
}

impl AsRef<str> for AccountId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.as_str().to_owned()
    }
}

impl serde::Serialize for AccountId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for AccountId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `[a-z0-9-]`: the characters of partitions and regions.
fn is_lower_dns_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// Partition names have no AWS model; the bound is ours.
const PARTITION: Spec = Spec {
    member: "partition",
    min: 1,
    max: 64,
    pattern: "[a-z0-9-]+",
    matches: |v| all_nonempty(v, is_lower_dns_char),
};

string_newtype! {
    /// The partition field of an ARN: `aws`, `aws-cn`, `aws-us-gov`, or a
    /// private deployment's own name. The default is `aws`.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Partition;
    spec = PARTITION;
}

// === impl Partition ===

impl Partition {
    /// The commercial partition, `aws`.
    pub const DEFAULT: &'static str = "aws";
}

impl Default for Partition {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

/// Region names have no AWS model; SigV4 scopes and ARNs use lowercase
/// letters, digits and hyphens. The bound is ours.
const REGION: Spec = Spec {
    member: "region",
    min: 1,
    max: 64,
    pattern: "[a-z0-9-]+",
    matches: |v| all_nonempty(v, is_lower_dns_char),
};

string_newtype! {
    /// A region name such as `us-east-1`, as used in SigV4 credential scopes
    /// and ARNs. Any `[a-z0-9-]+` name is accepted, so a private deployment
    /// may name its own regions.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct Region;
    spec = REGION;
}

/// `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`: lower-case letters,
/// digits and single dashes, neither first nor last, 3–63 characters.
fn is_account_alias(value: &str) -> bool {
    let bytes = value.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (3..=63).contains(&bytes.len())
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
        && !value.contains("--")
}

const ACCOUNT_ALIAS: Spec = Spec {
    member: "accountAlias",
    min: 3,
    max: 63,
    pattern: r"^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
    matches: is_account_alias,
};

string_newtype! {
    /// An account alias (`CreateAccountAlias`): 3–63 lower-case letters,
    /// digits and single inner dashes. Unique across the accounts of a
    /// store; a user signs in with it in place of the account ID.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct AccountAlias;
    spec = ACCOUNT_ALIAS;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_aliases_follow_the_model_pattern() {
        for ok in ["abc", "example-corp", "a1-b2-c3", "123", &"a".repeat(63)] {
            let alias: AccountAlias = ok.parse().unwrap();
            assert_eq!(alias.to_string(), ok, "display round trip");
            assert_eq!(alias.to_string().parse::<AccountAlias>().unwrap(), alias);
        }
        for bad in [
            "ab",
            "-abc",
            "abc-",
            "ab--cd",
            "Example",
            "with space",
            "dot.name",
            "under_score",
            &"a".repeat(64),
            "",
        ] {
            let err = bad.parse::<AccountAlias>().unwrap_err();
            assert_eq!(err.member(), "accountAlias", "{bad}");
        }
        let err = "ab".parse::<AccountAlias>().unwrap_err();
        assert_eq!(
            err.aws_message(),
            "2 validation errors detected: Value 'ab' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$; Value 'ab' at 'accountAlias' failed to satisfy constraint: Member must have length greater than or equal to 3"
        );
    }

    #[test]
    fn account_ids_are_twelve_ascii_digits() {
        let id: AccountId = "012345678901".parse().unwrap();
        assert_eq!(id.to_string(), "012345678901");
        assert_eq!(id.as_u64(), 12_345_678_901);
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            "١٢٣٤٥٦٧٨٩٠١٢",
        ] {
            let err = bad.parse::<AccountId>().unwrap_err();
            assert_eq!(err.member(), "accountId");
        }
    }

    #[test]
    fn account_numbers_are_zero_padded() {
        assert_eq!(AccountId::from_u64(42).unwrap().as_str(), "000000000042");
        assert_eq!(
            AccountId::from_u64(999_999_999_999).unwrap().as_u64(),
            999_999_999_999
        );
        assert_eq!(AccountId::from_u64(1_000_000_000_000), None);
    }

    #[test]
    fn partition_defaults_to_aws() {
        assert_eq!(Partition::default().as_str(), "aws");
        assert!("aws-us-gov".parse::<Partition>().is_ok());
        assert!("AWS".parse::<Partition>().is_err());
        assert!("".parse::<Partition>().is_err());
    }

    #[test]
    fn regions_are_lowercase_names() {
        assert!("us-east-1".parse::<Region>().is_ok());
        assert!("local".parse::<Region>().is_ok());
        assert!("us east".parse::<Region>().is_err());
    }

    #[test]
    fn serde_is_a_plain_string_and_validates() {
        let id: AccountId = serde_json::from_str("\"111122223333\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"111122223333\"");
        assert!(serde_json::from_str::<AccountId>("\"1111\"").is_err());
        assert!(serde_json::from_str::<Region>("\"Bad\"").is_err());
    }
}
