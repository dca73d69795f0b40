//! Sealing session tokens.
//!
//! Owns: [`SealingKeyId`], [`SealingKey`] (derived from the master key with
//! HKDF-SHA256, so replicas sharing the master key agree on every sealing
//! key and no new secret is distributed) and [`KeyRing`] — one active key
//! that seals, older keys still accepted when opening until they are
//! retired — and the token layout.
//!
//! # Token layout
//!
//! The token is URL-safe base64 without padding of
//! `version (1) | key-id length (1) | key id | nonce (12) | ciphertext | tag (16)`,
//! AES-256-GCM (ring) over the compact encoding of `codec`. The nonce is
//! 96 random bits from the injected [`RandomSource`]; the associated data is
//! `stsd-session-token \0 version key-id`, so the key id a token names is
//! authenticated. Random nonces bound one key to about 2^32 tokens (NIST
//! SP 800-38D); rotating the sealing key resets the count.
//!
//! # Rotation
//!
//! Put a new id first (it seals from then on; the old one still opens),
//! then remove the old id once the longest session sealed under it has
//! expired (36 h for GetSessionToken / GetFederationToken, 12 h for
//! roles). A token naming a removed key fails with
//! [`CredentialError::UnknownKey`].
//!
//! Pure: std, ring, zeroize, data-encoding and the domain.

use std::fmt;
use std::str::FromStr;

use data_encoding::BASE64URL_NOPAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use zeroize::Zeroizing;

use super::codec;
use super::error::CredentialError;
use super::session::Session;
use crate::domain::ids::RandomSource;
use crate::domain::seal::MasterKey;
use crate::domain::secret::SessionToken;

/// The token layout version this module writes and reads.
const VERSION: u8 = 1;
/// Prefix of the associated data.
const AAD_DOMAIN: &[u8] = b"stsd-session-token\0";
/// HKDF `info` prefix; the key id follows.
const HKDF_INFO: &[u8] = b"stsd session sealing key";
/// AES-256 key length.
const KEY_LEN: usize = 32;
/// GCM tag length.
const TAG_LEN: usize = 16;
/// Longest key id.
const MAX_KEY_ID_LEN: usize = 32;

/// Longest session token, in characters, that is sealed or opened. AWS
/// tells clients not to assume a maximum; SDKs send it in one header.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The name of a sealing key, carried in every token it seals: 1–32
/// characters of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SealingKeyId(String);

/// One sealing key: its id and 32 secret bytes. Zeroizes its bytes on
/// drop; `Debug` shows the id only; not `Clone`.
pub struct SealingKey {
    id: SealingKeyId,
    bytes: Zeroizing<[u8; KEY_LEN]>,
    // ring's expanded key schedule, built once. `None` only if ring
    // refused the key (unreachable for 32 bytes); such a key seals and
    // opens nothing. ring does not zeroize its copy on drop.
    aead: Option<LessSafeKey>,
}

/// The active sealing key and the older keys still accepted.
pub struct KeyRing {
    active: SealingKey,
    accepted: Vec<SealingKey>,
}

// === impl SealingKeyId ===

impl SealingKeyId {
    /// Validates `id`.
    ///
    /// # Errors
    ///
    /// [`CredentialError::KeyIdFormat`].
    pub fn new(id: &str) -> Result<Self, CredentialError> {
        let well_formed = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if well_formed {
            Ok(Self(id.to_owned()))
        } else {
            Err(CredentialError::KeyIdFormat)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for SealingKeyId {
    type Err = CredentialError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl fmt::Display for SealingKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// === impl SealingKey ===

impl SealingKey {
    /// The key `id`, derived from the master key bytes with HKDF-SHA256
    /// (no salt; info = `"stsd session sealing key"` ‖ id). The master
    /// key's own id plays no part, so renaming it changes nothing here.
    pub fn derive(master: &MasterKey, id: SealingKeyId) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(master.expose_secret());
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        let info = [HKDF_INFO, id.0.as_bytes()];
        let derived = prk
            .expand(&info, &AES_256_GCM)
            .and_then(|okm| okm.fill(bytes.as_mut_slice()));
        let aead = derived
            .ok()
            .and_then(|()| UnboundKey::new(&AES_256_GCM, bytes.as_slice()).ok())
            .map(LessSafeKey::new);
        Self { id, bytes, aead }
    }

    /// The key's id.
    pub fn id(&self) -> &SealingKeyId {
        &self.id
    }

    /// The key bytes.
    pub fn expose_secret(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    fn aead(&self) -> Result<&LessSafeKey, CredentialError> {
        self.aead.as_ref().ok_or(CredentialError::Key)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKey")
            .field("id", &self.id)
            .field("bytes", &"<redacted>")
            .finish()
    }
}

// === impl KeyRing ===

impl KeyRing {
    /// A ring sealing with `active` and also opening tokens of `accepted`.
    pub fn new(active: SealingKey, accepted: Vec<SealingKey>) -> Self {
        Self { active, accepted }
    }

    /// The id of the key that seals.
    pub fn active_id(&self) -> &SealingKeyId {
        &self.active.id
    }

    /// Every id the ring opens, the active one first.
    pub fn ids(&self) -> impl Iterator<Item = &SealingKeyId> {
        std::iter::once(&self.active.id).chain(self.accepted.iter().map(|k| &k.id))
    }

    /// The session token: URL-safe base64 (no padding) of version ‖ key id
    /// ‖ nonce ‖ AES-256-GCM(compact binary session), sealed under the
    /// active key with a fresh nonce from `rng` (a CSPRNG in production: a
    /// repeated nonce under one key breaks GCM).
    ///
    /// # Errors
    ///
    /// [`CredentialError::Invalid`] when the session fails
    /// [`Session::check`]; [`CredentialError::TooLarge`] past
    /// [`MAX_TOKEN_LEN`].
    pub fn seal(
        &self,
        session: &Session,
        rng: &mut impl RandomSource,
    ) -> Result<SessionToken, CredentialError> {
        session.check()?;
        let key = &self.active;
        let id = key.id.0.as_bytes();
        let id_len = u8::try_from(id.len()).map_err(|_| CredentialError::KeyIdFormat)?;
        let plaintext = codec::encode(session);
        let header_len = 2 + id.len() + NONCE_LEN;
        let total = header_len + plaintext.len() + TAG_LEN;
        if BASE64URL_NOPAD.encode_len(total) > MAX_TOKEN_LEN {
            return Err(CredentialError::TooLarge);
        }
        let mut nonce = [0_u8; NONCE_LEN];
        rng.fill(&mut nonce);

        // Sized up front so no reallocation leaves plaintext in freed
        // memory; zeroizing in case sealing fails half-way.
        let mut blob = Zeroizing::new(Vec::with_capacity(total));
        blob.push(VERSION);
        blob.push(id_len);
        blob.extend_from_slice(id);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&plaintext);
        let body = blob
            .get_mut(header_len..)
            .ok_or(CredentialError::Malformed)?;
        let tag = key
            .aead()?
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(id)),
                body,
            )
            .map_err(|_| CredentialError::Key)?;
        blob.extend_from_slice(tag.as_ref());
        Ok(SessionToken::new(BASE64URL_NOPAD.encode(&blob)))
    }

    /// Opens a token sealed under any key of the ring. Does NOT check
    /// expiry.
    ///
    /// # Errors
    ///
    /// [`CredentialError::TooLarge`], [`CredentialError::Malformed`],
    /// [`CredentialError::UnknownKey`], [`CredentialError::Tampered`], or
    /// the [`Session::check`] error of the plaintext.
    pub fn open(&self, token: &str) -> Result<Session, CredentialError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(CredentialError::TooLarge);
        }
        let mut blob = Zeroizing::new(
            BASE64URL_NOPAD
                .decode(token.as_bytes())
                .map_err(|_| CredentialError::Malformed)?,
        );
        let [version, id_len, rest @ ..] = blob.as_mut_slice() else {
            return Err(CredentialError::Malformed);
        };
        if *version != VERSION {
            return Err(CredentialError::Malformed);
        }
        let (id, rest) = rest
            .split_at_mut_checked(usize::from(*id_len))
            .ok_or(CredentialError::Malformed)?;
        let (nonce, sealed) = rest
            .split_at_mut_checked(NONCE_LEN)
            .ok_or(CredentialError::Malformed)?;
        if sealed.len() < TAG_LEN {
            return Err(CredentialError::Malformed);
        }
        let id_text = std::str::from_utf8(id).map_err(|_| CredentialError::Malformed)?;
        SealingKeyId::new(id_text).map_err(|_| CredentialError::Malformed)?;
        let key = self.find(id_text).ok_or(CredentialError::UnknownKey)?;
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| CredentialError::Malformed)?;
        let plaintext = key
            .aead()?
            .open_in_place(nonce, Aad::from(aad(id)), sealed)
            .map_err(|_| CredentialError::Tampered)?;
        codec::decode(plaintext)
    }

    fn find(&self, id: &str) -> Option<&SealingKey> {
        std::iter::once(&self.active)
            .chain(&self.accepted)
            .find(|k| k.id.0 == id)
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let accepted: Vec<&str> = self.accepted.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("KeyRing")
            .field("active", &self.active.id.as_str())
            .field("accepted", &accepted)
            .finish()
    }
}

/// The associated data for key `id`.
fn aad(id: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_DOMAIN.len() + 1 + id.len());
    aad.extend_from_slice(AAD_DOMAIN);
    aad.push(VERSION);
    aad.extend_from_slice(id);
    aad
}
