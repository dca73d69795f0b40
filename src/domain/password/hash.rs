//! Password hashes: argon2id in PHC string format.
//!
//! Owns: [`PasswordHash`], [`HashParams`] and the two operations on them,
//! [`hash_password`] (with a salt the caller draws from the injected CSPRNG)
//! and [`PasswordHash::matches`] (argon2's own verifier, which compares the
//! outputs in constant time). Pure: std, serde, argon2.
//!
//! Parameters: argon2id, version 0x13, m = 19 MiB, t = 2, p = 1, a 16-byte
//! salt and a 32-byte output — OWASP's Password Storage Cheat Sheet
//! minimum for argon2id (also the argon2 crate's defaults). The PHC string
//! carries them, so a hash made today stays verifiable after the defaults
//! change. A stored hash is accepted for verification only if it is
//! argon2id with parameters within [`MAX_MEMORY_KIB`], [`MAX_ITERATIONS`]
//! and [`MAX_PARALLELISM`]: a damaged record must not make one sign-in
//! allocate gigabytes.

use std::fmt;

use argon2::password_hash::phc;
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use zeroize::Zeroizing;

use super::error::PasswordError;
use crate::domain::secret::Password;

/// Bytes of salt per hash (the PHC recommendation).
pub const SALT_LEN: usize = 16;

/// The most memory a stored hash may ask for, in KiB (256 MiB).
pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
/// The most passes a stored hash may ask for.
pub const MAX_ITERATIONS: u32 = 16;
/// The most lanes a stored hash may ask for.
pub const MAX_PARALLELISM: u32 = 8;

/// The cost of an argon2id hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory, in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over the memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

// === impl HashParams ===

impl HashParams {
    /// What stsd hashes with: OWASP's argon2id minimum, m = 19 MiB, t = 2,
    /// p = 1.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The argon2 crate's form, with a 32-byte output.
    fn to_argon2(self) -> Result<Params, PasswordError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32)).map_err(|e| {
            PasswordError::Hashing {
                reason: e.to_string(),
            }
        })
    }

    /// Whether a stored hash with these parameters may be verified.
    fn acceptable(self) -> bool {
        self.memory_kib <= MAX_MEMORY_KIB
            && self.iterations <= MAX_ITERATIONS
            && (1..=MAX_PARALLELISM).contains(&self.parallelism)
    }
}

impl Default for HashParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// An argon2id password hash as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
///
/// Not a secret in the sense of [`crate::domain::secret`] — it is what is
/// stored — but it lets whoever holds it guess passwords offline, so its
/// `Debug` prints a placeholder, it has no `Display`, and nothing returns
/// it to a caller. Serde writes the PHC string (the store keeps it) and
/// checks it on the way back in.
///
/// INVARIANT: an argon2id, version 0x13 PHC string with a salt, an output
/// and parameters within the `MAX_*` bounds.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

// === impl PasswordHash ===

impl PasswordHash {
    /// Checks a stored PHC string.
    ///
    /// # Errors
    ///
    /// [`PasswordError::MalformedHash`] unless it is an argon2id (v=19) PHC
    /// string with a salt, an output and acceptable parameters.
    pub fn parse(text: &str) -> Result<Self, PasswordError> {
        let parsed = phc::PasswordHash::new(text).map_err(|_| malformed("not a phc string"))?;
        if parsed.algorithm.as_str() != Algorithm::Argon2id.as_str() {
            return Err(malformed("not an argon2id hash"));
        }
        if parsed.version != Some(Version::V0x13.into()) {
            return Err(malformed("not argon2 version 19"));
        }
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(malformed("no salt or no output"));
        }
        let params =
            Params::try_from(&parsed).map_err(|_| malformed("unreadable argon2 parameters"))?;
        let params = HashParams {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        };
        if !params.acceptable() {
            return Err(malformed("argon2 parameters out of bounds"));
        }
        Ok(Self(text.to_owned()))
    }

    /// The PHC string, for the store.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// The parameters it was made with.
    pub fn params(&self) -> Option<HashParams> {
        let parsed = phc::PasswordHash::new(&self.0).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        Some(HashParams {
            memory_kib: params.m_cost(),
            iterations: params.t_cost(),
            parallelism: params.p_cost(),
        })
    }

    /// Whether `candidate` is the password this hashes: argon2's verifier
    /// recomputes the hash with the stored salt and parameters and compares
    /// the outputs in constant time. False for any failure.
    pub fn matches(&self, candidate: &Password) -> bool {
        let Ok(parsed) = phc::PasswordHash::new(&self.0) else {
            return false;
        };
        Argon2::default()
            .verify_password(candidate.expose_secret().as_bytes(), &parsed)
            .is_ok()
    }
}

fn malformed(reason: &'static str) -> PasswordError {
    PasswordError::MalformedHash { reason }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

impl serde::Serialize for PasswordHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PasswordHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Hashes `password` with argon2id, [`HashParams::OWASP`] and `salt` (from
/// the injected CSPRNG: a fresh salt per hash).
///
/// # Errors
///
/// [`PasswordError::Hashing`] if argon2 refuses (it does not for valid
/// passwords and these parameters).
pub fn hash_password(
    password: &Password,
    salt: &[u8; SALT_LEN],
) -> Result<PasswordHash, PasswordError> {
    hash_password_with(HashParams::OWASP, password, salt)
}

/// [`hash_password`] with other parameters: tests use cheap ones.
///
/// # Errors
///
/// [`PasswordError::Hashing`] for parameters argon2 refuses.
pub fn hash_password_with(
    params: HashParams,
    password: &Password,
    salt: &[u8; SALT_LEN],
) -> Result<PasswordHash, PasswordError> {
    let hashing = |e: &dyn fmt::Display| PasswordError::Hashing {
        reason: e.to_string(),
    };
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.to_argon2()?);
    let mut out = Zeroizing::new([0_u8; 32]);
    argon2
        .hash_password_into(password.expose_secret().as_bytes(), salt, &mut *out)
        .map_err(|e| hashing(&e))?;
    let salt = phc::Salt::new(salt).map_err(|e| hashing(&e))?;
    let output = phc::Output::new(&*out).map_err(|e| hashing(&e))?;
    let params_string =
        phc::ParamsString::try_from(&params.to_argon2()?).map_err(|e| hashing(&e))?;
    let phc = phc::PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params_string,
        salt: Some(salt),
        hash: Some(output),
    };
    Ok(PasswordHash(phc.to_string()))
}
