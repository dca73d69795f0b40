//! Temporary credentials: minting and sealed session tokens.
//!
//! Owns: the [`Session`] a temporary credential stands for, minting its
//! `ASIA…` key id and 40-character secret ([`mint_keys`]), the compact
//! binary encoding of a session (`codec`), sealing it into a
//! self-contained session token under a [`KeyRing`] of [`SealingKey`]s
//! derived from the master key (`keyring`, which documents the token
//! layout and rotation), and [`packed_policy_size`]. Any replica holding
//! the master key and the configured sealing key ids opens a token
//! without a lookup (DESIGN "Identifiers and credentials").
//!
//! Pure: no async, no I/O; randomness comes in through [`RandomSource`],
//! and time as plain unix seconds. May import std, ring, zeroize,
//! data-encoding, thiserror and the rest of `domain`.
//! Spec: reference sections 1.3–1.6, 3 and 10.

#[doc(hidden)]
pub(crate) mod codec;
mod error;
mod keyring;
mod packed;
mod session;

#[cfg(test)]
mod tests;

pub use error::CredentialError;
pub use keyring::{KeyRing, MAX_TOKEN_LEN, SealingKey, SealingKeyId};
pub use packed::{PACKED_POLICY_LIMIT, packed_policy_size};
pub use session::{MfaInfo, Session, SessionPrincipal, SessionTag};

use crate::domain::ids::{AccessKeyId, AccountId, RandomSource, UniqueIdPrefix};
use crate::domain::secret::SecretAccessKey;

/// A fresh key pair for a session of `account`: an `ASIA…` id that
/// encodes the account (reference 3.2) and a 40-character secret, both
/// from `rng` (the system CSPRNG in production).
pub fn mint_keys(
    account: AccountId,
    rng: &mut impl RandomSource,
) -> (AccessKeyId, SecretAccessKey) {
    let id = AccessKeyId::generate(UniqueIdPrefix::TemporaryKey, account, rng);
    (id, SecretAccessKey::generate(rng))
}
