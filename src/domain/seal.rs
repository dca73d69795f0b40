//! Sealing long-term secrets at rest.
//!
//! Owns: the [`MasterKey`] the store's secrets (secret access keys, TOTP
//! seeds) and the records of encoded `AccessDenied` messages are sealed
//! under, the [`SealPurpose`] each sealed value is bound
//! to, and the [`SealedBlob`] format. AES-256-GCM from `ring`; the nonce
//! comes from an injected [`RandomSource`] (house style 3).
//!
//! Pure: may import std, serde, thiserror, ring, zeroize and data-encoding
//! only. Reading the master key from the environment or a 0600 file is the
//! composition root's job (DESIGN "Identifiers and credentials").
//!
//! # Blob layout
//!
//! `version (1) | key-id length (1) | key id | nonce (12) | ciphertext | tag (16)`.
//! The associated data is `stsd-seal-v1 \0 key id \0 purpose`, so a blob
//! cannot be moved to another record ("access-key:AKIA…" vs
//! "access-key:AKIB…"), re-labelled with another key id, or opened for
//! another kind of secret.

mod error;

#[cfg(test)]
mod tests;

use std::fmt;

use data_encoding::BASE64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use error::SealError;

use crate::domain::ids::{AccessKeyId, AccountId, RandomSource};

/// The blob format version this module writes and reads.
const VERSION: u8 = 1;
/// Prefix of every associated-data string.
const AAD_DOMAIN: &[u8] = b"stsd-seal-v1\0";
/// Length of an AES-256 key.
const KEY_LEN: usize = 32;
/// Length of the GCM tag.
const TAG_LEN: usize = 16;
/// Longest key id.
const MAX_KEY_ID_LEN: usize = 32;

/// The name of a master key, recorded in every blob it seals so that keys
/// can be rotated: 1–32 characters of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SealKeyId(String);

// === impl SealKeyId ===

impl SealKeyId {
    /// Validates `id`.
    pub fn new(id: &str) -> Result<Self, SealError> {
        let well_formed = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if well_formed {
            Ok(Self(id.to_owned()))
        } else {
            Err(SealError::KeyIdFormat)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SealKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit master key and its id. Zeroized on drop; `Debug` prints a
/// placeholder; deliberately not `Clone`, `Serialize` or `Display`.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    #[zeroize(skip)]
    id: SealKeyId,
    bytes: [u8; KEY_LEN],
}

// === impl MasterKey ===

impl MasterKey {
    /// The key `id` from standard base64 text of exactly 32 bytes
    /// (surrounding whitespace, such as a file's trailing newline, ignored).
    pub fn from_base64(id: SealKeyId, text: &str) -> Result<Self, SealError> {
        let decoded = Zeroizing::new(
            BASE64
                .decode(text.trim().as_bytes())
                .map_err(|_| SealError::MasterKeyFormat)?,
        );
        let bytes: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| SealError::MasterKeyFormat)?;
        Ok(Self { id, bytes })
    }

    /// The key `id` from raw bytes.
    pub fn from_bytes(id: SealKeyId, bytes: [u8; KEY_LEN]) -> Self {
        Self { id, bytes }
    }

    /// The key's id, recorded in each blob it seals.
    pub fn id(&self) -> &SealKeyId {
        &self.id
    }

    /// The key bytes, for deriving subkeys (the session sealing keys of
    /// `domain::credential`). Crate-visible only.
    pub(crate) fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    fn aead_key(&self) -> Result<LessSafeKey, SealError> {
        UnboundKey::new(&AES_256_GCM, &self.bytes)
            .map(LessSafeKey::new)
            .map_err(|_| SealError::Seal)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("bytes", &"<redacted>")
            .finish()
    }
}

/// What a sealed secret is for, bound into the blob as associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealPurpose(String);

// === impl SealPurpose ===

impl SealPurpose {
    /// The secret access key of `id`: `access-key:AKIA…`.
    pub fn access_key_secret(id: &AccessKeyId) -> Self {
        Self(format!("access-key:{id}"))
    }

    /// The TOTP seed of the MFA device with serial number `serial` (the
    /// device ARN): `mfa-seed:arn:…`.
    pub fn mfa_seed(serial: &str) -> Self {
        Self(format!("mfa-seed:{serial}"))
    }

    /// The authorization record of an `AccessDenied` message about a
    /// principal of `account` (`authz-message:111122223333`): only a caller
    /// of that account can have it decoded.
    pub fn authorization_message(account: &AccountId) -> Self {
        Self(format!("authz-message:{account}"))
    }

    /// The purpose as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A sealed secret: safe to store and to print (it is ciphertext), and
/// serialized as standard base64 text.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedBlob(
    // INVARIANT: parses as the layout in the module docs (see `split`).
    Vec<u8>,
);

/// The parts of a blob, borrowed.
struct Parts<'a> {
    key_id: &'a str,
    nonce: [u8; NONCE_LEN],
    sealed: &'a [u8],
}

// === impl SealedBlob ===

impl SealedBlob {
    /// A blob from its bytes, checking the layout.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SealError> {
        split(&bytes)?;
        Ok(Self(bytes))
    }

    /// The blob's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id of the master key the blob was sealed under.
    pub fn key_id(&self) -> &str {
        split(&self.0).map(|p| p.key_id).unwrap_or_default()
    }
}

impl fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedBlob")
            .field("key_id", &self.key_id())
            .field("len", &self.0.len())
            .finish()
    }
}

impl serde::Serialize for SealedBlob {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(&self.0))
    }
}

impl<'de> serde::Deserialize<'de> for SealedBlob {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = BASE64
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom(SealError::MalformedBlob))?;
        Self::from_bytes(bytes).map_err(serde::de::Error::custom)
    }
}

/// A secret just opened: zeroized on drop, `Debug` prints a placeholder,
/// readable only through [`OpenedSecret::expose_secret`].
pub struct OpenedSecret(Zeroizing<Vec<u8>>);

// === impl OpenedSecret ===

impl OpenedSecret {
    /// The plaintext. Convert it into its dedicated secret type at once.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for OpenedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenedSecret(<redacted>)")
    }
}

/// Splits a blob into its parts, checking the layout.
fn split(bytes: &[u8]) -> Result<Parts<'_>, SealError> {
    let [version, id_len, rest @ ..] = bytes else {
        return Err(SealError::MalformedBlob);
    };
    if *version != VERSION {
        return Err(SealError::MalformedBlob);
    }
    let (id, rest) = rest
        .split_at_checked(usize::from(*id_len))
        .ok_or(SealError::MalformedBlob)?;
    let (nonce, sealed) = rest
        .split_at_checked(NONCE_LEN)
        .ok_or(SealError::MalformedBlob)?;
    let key_id = std::str::from_utf8(id).map_err(|_| SealError::MalformedBlob)?;
    SealKeyId::new(key_id).map_err(|_| SealError::MalformedBlob)?;
    if sealed.len() < TAG_LEN {
        return Err(SealError::MalformedBlob);
    }
    let nonce = nonce.try_into().map_err(|_| SealError::MalformedBlob)?;
    Ok(Parts {
        key_id,
        nonce,
        sealed,
    })
}

/// The associated data for `key_id` and `purpose`.
fn aad(key_id: &str, purpose: &SealPurpose) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + key_id.len() + 1 + purpose.0.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.extend_from_slice(key_id.as_bytes());
    aad.push(0);
    aad.extend_from_slice(purpose.0.as_bytes());
    aad
}

/// Seals `plaintext` for `purpose` under `key`, with a fresh 96-bit nonce
/// from `nonces` (a CSPRNG in production: a repeated nonce under one key
/// breaks GCM).
pub fn seal(
    key: &MasterKey,
    purpose: &SealPurpose,
    plaintext: &[u8],
    nonces: &mut impl RandomSource,
) -> Result<SealedBlob, SealError> {
    let key_id = key.id.as_str();
    let id_len = u8::try_from(key_id.len()).map_err(|_| SealError::KeyIdFormat)?;
    let mut nonce = [0_u8; NONCE_LEN];
    nonces.fill(&mut nonce);

    // Reserved up front so appending the tag never reallocates and leaves
    // a plaintext copy behind in freed memory.
    let mut in_out = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    in_out.extend_from_slice(plaintext);
    key.aead_key()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(key_id, purpose)),
            &mut *in_out,
        )
        .map_err(|_| SealError::Seal)?;

    let mut blob = Vec::with_capacity(2 + key_id.len() + NONCE_LEN + in_out.len());
    blob.push(VERSION);
    blob.push(id_len);
    blob.extend_from_slice(key_id.as_bytes());
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&in_out);
    Ok(SealedBlob(blob))
}

/// Opens `blob`, sealed for `purpose` under `key`. Fails with
/// [`SealError::KeyIdMismatch`] when the blob names another key (pick the
/// key by [`SealedBlob::key_id`]) and [`SealError::Authentication`] when it
/// was altered or sealed for another purpose.
pub fn open(
    key: &MasterKey,
    purpose: &SealPurpose,
    blob: &SealedBlob,
) -> Result<OpenedSecret, SealError> {
    let parts = split(&blob.0)?;
    if parts.key_id != key.id.as_str() {
        return Err(SealError::KeyIdMismatch {
            blob: parts.key_id.to_owned(),
            offered: key.id.as_str().to_owned(),
        });
    }
    let mut in_out = Zeroizing::new(parts.sealed.to_vec());
    let len = key
        .aead_key()?
        .open_in_place(
            Nonce::assume_unique_for_key(parts.nonce),
            Aad::from(aad(parts.key_id, purpose)),
            &mut in_out,
        )
        .map_err(|_| SealError::Authentication)?
        .len();
    in_out.truncate(len);
    Ok(OpenedSecret(in_out))
}
