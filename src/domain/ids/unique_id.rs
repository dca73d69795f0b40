//! Access key IDs and IAM unique IDs.
//!
//! Owns: [`UniqueIdPrefix`], [`AccessKeyId`] and [`UniqueId`], and the
//! 20-character layout of reference 3.2 that both are minted in: a 4-char
//! prefix, then 16 RFC 4648 base32 characters carrying 80 bits — a flag
//! bit set to 1, the 40-bit account ID, and 39 random bits. Parsing accepts
//! any 16–128 `\w` ID (old-generation and unfamiliar prefixes included,
//! reference 3.1); the account is decoded only when the layout fits.
//! Randomness comes in through [`RandomSource`]. Pure.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE32_NOPAD;

use super::account::AccountId;
use super::error::IdError;
use super::random::RandomSource;
use super::spec::{Spec, all, all_nonempty, is_word, string_newtype};

/// The first four characters of an IAM unique ID or access key ID, naming
/// what it identifies (reference 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UniqueIdPrefix {
    /// `AKIA`: a long-term access key of a user or root.
    LongTermKey,
    /// `ASIA`: a temporary (STS session) access key.
    TemporaryKey,
    /// `AIDA`: an IAM user.
    User,
    /// `AROA`: an IAM role.
    Role,
    /// `AGPA`: an IAM group.
    Group,
    /// `AIPA`: an EC2 instance profile.
    InstanceProfile,
    /// `ANPA`: a managed policy.
    ManagedPolicy,
    /// `ANVA`: a managed-policy version.
    PolicyVersion,
    /// `APKA`: a public key.
    PublicKey,
    /// `ASCA`: a certificate.
    Certificate,
    /// `ABIA`: an STS service bearer token.
    BearerToken,
    /// `ACCA`: a context-specific credential.
    ContextCredential,
}

// === impl UniqueIdPrefix ===

impl UniqueIdPrefix {
    /// Every known prefix.
    pub const ALL: [Self; 12] = [
        Self::LongTermKey,
        Self::TemporaryKey,
        Self::User,
        Self::Role,
        Self::Group,
        Self::InstanceProfile,
        Self::ManagedPolicy,
        Self::PolicyVersion,
        Self::PublicKey,
        Self::Certificate,
        Self::BearerToken,
        Self::ContextCredential,
    ];

    /// The four characters (`AKIA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LongTermKey => "AKIA",
            Self::TemporaryKey => "ASIA",
            Self::User => "AIDA",
            Self::Role => "AROA",
            Self::Group => "AGPA",
            Self::InstanceProfile => "AIPA",
            Self::ManagedPolicy => "ANPA",
            Self::PolicyVersion => "ANVA",
            Self::PublicKey => "APKA",
            Self::Certificate => "ASCA",
            Self::BearerToken => "ABIA",
            Self::ContextCredential => "ACCA",
        }
    }

    /// The known prefix `id` starts with, if any.
    pub fn of(id: &str) -> Option<Self> {
        let head = id.get(..4)?;
        Self::ALL.into_iter().find(|p| p.as_str() == head)
    }
}

impl fmt::Display for UniqueIdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UniqueIdPrefix {
    type Err = IdError;

    fn from_str(value: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == value)
            .ok_or_else(|| IdError::Format {
                member: "prefix".into(),
                value: value.to_owned(),
                expected: "a known unique-ID prefix such as AKIA, ASIA, AIDA or AROA",
            })
    }
}

/// Bits of the account field.
const ACCOUNT_BITS: u32 = 40;
/// Bits of the random field, the lowest.
const RANDOM_BITS: u32 = 39;
/// The generation flag, the top bit of the 80.
const FLAG: u128 = 1 << (ACCOUNT_BITS + RANDOM_BITS);
/// Characters of a minted ID: 4 of prefix, 16 of base32.
const MINTED_LEN: usize = 20;

/// Mints `prefix` + base32(`1 | account | random39`).
fn mint(prefix: UniqueIdPrefix, account: AccountId, rng: &mut impl RandomSource) -> String {
    let mut random = [0_u8; 8];
    // Five bytes give 40 random bits, of which 39 are kept.
    if let Some(tail) = random.get_mut(3..) {
        rng.fill(tail);
    }
    let random = u64::from_be_bytes(random) & ((1 << RANDOM_BITS) - 1);
    let value = FLAG | u128::from(account.as_u64()) << RANDOM_BITS | u128::from(random);
    // The 80-bit value is the low 10 of the 16 big-endian bytes.
    let [_, _, _, _, _, _, payload @ ..] = value.to_be_bytes();
    format!("{prefix}{}", BASE32_NOPAD.encode(&payload))
}

/// The account of a new-generation ID; `None` when the layout does not fit
/// (wrong length, not base32, flag bit 0, or more than 12 digits).
fn decode_account(id: &str) -> Option<AccountId> {
    if id.len() != MINTED_LEN {
        return None;
    }
    let payload: [u8; 10] = BASE32_NOPAD
        .decode(id.get(4..)?.as_bytes())
        .ok()?
        .try_into()
        .ok()?;
    let mut wide = [0_u8; 16];
    if let Some(low) = wide.get_mut(6..) {
        low.copy_from_slice(&payload);
    }
    let value = u128::from_be_bytes(wide);
    if value & FLAG == 0 {
        return None;
    }
    let account = (value >> RANDOM_BITS) & ((1 << ACCOUNT_BITS) - 1);
    AccountId::from_u64(u64::try_from(account).ok()?)
}

const ACCESS_KEY_ID: Spec = Spec {
    member: "accessKeyId",
    min: 16,
    max: 128,
    pattern: r"[\w]*",
    matches: |v| all(v, is_word),
};

string_newtype! {
    /// An access key ID: 16–128 characters of `\w`. Those the broker mints
    /// are 20 characters (`AKIA…` long-term, `ASIA…` session keys) and carry
    /// their account (see [`AccessKeyId::account`]). Not a secret.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct AccessKeyId;
    spec = ACCESS_KEY_ID;
}

// === impl AccessKeyId ===

impl AccessKeyId {
    /// Mints a new-generation key ID for `account`, normally with prefix
    /// [`UniqueIdPrefix::LongTermKey`] or [`UniqueIdPrefix::TemporaryKey`].
    /// The 39 random bits come from `rng`.
    pub fn generate(
        prefix: UniqueIdPrefix,
        account: AccountId,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self(mint(prefix, account, rng))
    }

    /// The known prefix of this ID, if it has one.
    pub fn prefix(&self) -> Option<UniqueIdPrefix> {
        UniqueIdPrefix::of(&self.0)
    }

    /// The owning account, decoded as `GetAccessKeyInfo` does; `None` for
    /// old-generation keys (flag bit 0) and IDs not in the 20-character
    /// base32 layout.
    pub fn account(&self) -> Option<AccountId> {
        decode_account(&self.0)
    }

    /// Whether this is a session key (`ASIA…`), only valid with its token.
    pub fn is_temporary(&self) -> bool {
        self.prefix() == Some(UniqueIdPrefix::TemporaryKey)
    }
}

const UNIQUE_ID: Spec = Spec {
    member: "uniqueId",
    min: 16,
    max: 128,
    pattern: r"[\w]+",
    matches: |v| all_nonempty(v, is_word),
};

string_newtype! {
    /// The unique ID of an IAM entity (`AIDA…` user, `AROA…` role, `AGPA…`
    /// group, `ANPA…` policy): 16–128 characters of `\w`. It distinguishes
    /// an entity from a deleted one of the same name.
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub struct UniqueId;
    spec = UNIQUE_ID;
}

// === impl UniqueId ===

impl UniqueId {
    /// Mints a unique ID for an entity of `account`, in the same layout as
    /// access key IDs. (Whether AWS encodes the account in `AIDA`/`AROA`
    /// IDs is not known; doing so costs nothing and keeps one generator.)
    pub fn generate(
        prefix: UniqueIdPrefix,
        account: AccountId,
        rng: &mut impl RandomSource,
    ) -> Self {
        Self(mint(prefix, account, rng))
    }

    /// The known prefix of this ID, if it has one.
    pub fn prefix(&self) -> Option<UniqueIdPrefix> {
        UniqueIdPrefix::of(&self.0)
    }

    /// The account encoded in a broker-minted ID; `None` when the layout
    /// does not fit.
    pub fn account(&self) -> Option<AccountId> {
        decode_account(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> AccessKeyId {
        s.parse().unwrap()
    }

    fn account(s: &str) -> AccountId {
        s.parse().unwrap()
    }

    #[test]
    fn published_check_vector_decodes() {
        assert_eq!(
            key("ASIAY34FZKBOKMUTVV7A").account(),
            Some(account("609629065308"))
        );
    }

    #[test]
    fn reference_round_trip_vector() {
        let id = key("ASIARTX3GSDSRXX7C2ZC");
        assert_eq!(id.account(), Some(account("111122223333")));
        assert!(id.is_temporary());
        // Re-mint with the ID's own 39 random bits: the very same ID comes back.
        let mut wide = [0_u8; 16];
        wide[6..].copy_from_slice(&BASE32_NOPAD.decode(b"RTX3GSDSRXX7C2ZC").unwrap());
        let low = u128::from_be_bytes(wide) & ((1 << RANDOM_BITS) - 1);
        let bytes = u64::try_from(low).unwrap().to_be_bytes();
        let mut rng = |buf: &mut [u8]| buf.copy_from_slice(&bytes[3..]);
        let minted = AccessKeyId::generate(
            UniqueIdPrefix::TemporaryKey,
            account("111122223333"),
            &mut rng,
        );
        assert_eq!(minted, id);
    }

    #[test]
    fn old_generation_keys_have_no_account() {
        let doc_key = key("AKIAIOSFODNN7EXAMPLE");
        assert_eq!(doc_key.account(), None);
        assert_eq!(doc_key.prefix(), Some(UniqueIdPrefix::LongTermKey));
        assert!(!doc_key.is_temporary());
    }

    #[test]
    fn unfamiliar_and_long_ids_parse_but_do_not_decode() {
        let odd = key("AKIDEXAMPLE12345");
        assert_eq!(odd.prefix(), None);
        assert_eq!(odd.account(), None);
        assert_eq!(key(&"A".repeat(128)).account(), None);
        assert_eq!(
            key("asiay34fzkbokmutvv7a").account(),
            None,
            "base32 is upper case"
        );
        assert_eq!(
            key("ASIAY34FZKBOKMUTVV71").account(),
            None,
            "1 is not base32"
        );
    }

    #[test]
    fn key_ids_follow_the_model() {
        assert!("AKIDEXAMPLE".parse::<AccessKeyId>().is_err());
        assert!("AKIA-OSFODNN7EXAMPLE".parse::<AccessKeyId>().is_err());
        assert!("A".repeat(129).parse::<AccessKeyId>().is_err());
        let err = "short".parse::<AccessKeyId>().unwrap_err();
        assert_eq!(err.member(), "accessKeyId");
    }

    #[test]
    fn generated_ids_carry_prefix_flag_and_account() {
        let mut counter = 0_u8;
        let mut rng = |buf: &mut [u8]| {
            for b in buf {
                counter = counter.wrapping_add(97);
                *b = counter;
            }
        };
        for prefix in UniqueIdPrefix::ALL {
            let id = UniqueId::generate(prefix, account("000000000001"), &mut rng);
            assert_eq!(id.as_str().len(), 20);
            assert_eq!(id.prefix(), Some(prefix));
            assert_eq!(id.account(), Some(account("000000000001")));
        }
        let max = AccessKeyId::generate(
            UniqueIdPrefix::LongTermKey,
            account("999999999999"),
            &mut |b: &mut [u8]| b.fill(0xff),
        );
        assert_eq!(max.account(), Some(account("999999999999")));
    }

    #[test]
    fn prefixes_parse_and_print() {
        for prefix in UniqueIdPrefix::ALL {
            assert_eq!(prefix.as_str().parse::<UniqueIdPrefix>().unwrap(), prefix);
            assert_eq!(prefix.to_string().len(), 4);
        }
        assert!("AKIB".parse::<UniqueIdPrefix>().is_err());
        assert_eq!(UniqueIdPrefix::of("AR"), None);
        assert_eq!(UniqueIdPrefix::of("AROAXYZ"), Some(UniqueIdPrefix::Role));
    }
}
