//! IAM users' console passwords: hashing, the account password policy and
//! signing in.
//!
//! Owns: [`PasswordHash`] (argon2id, PHC strings; see `hash` for the
//! parameters), [`PasswordPolicy`] and its [`Rule`]s ([`check_password`]),
//! [`LoginPassword`] (what the store keeps per user: the hash, when it was
//! set, the reset flag and the history for reuse prevention), and
//! [`verify_password`], what the sign-in page calls. The password itself
//! is [`crate::domain::secret::Password`].
//!
//! Pure: std, serde, thiserror, zeroize and argon2 (RustCrypto). Salts come
//! from the caller (the injected CSPRNG); time comes in as Unix seconds.
//! Hashing is deliberately slow (tens of milliseconds, 19 MiB): callers on
//! an async runtime run it on a blocking thread.
//!
//! Spec: reference section 12 (password policy and login profile rules);
//! OWASP Password Storage Cheat Sheet (argon2id parameters).

mod error;
mod hash;
mod login;
mod policy;

#[cfg(test)]
mod tests;

pub use error::{LoginError, PasswordError};
pub use hash::{
    HashParams, MAX_ITERATIONS, MAX_MEMORY_KIB, MAX_PARALLELISM, PasswordHash, SALT_LEN,
    hash_password, hash_password_with,
};
pub use login::{LoginPassword, REMEMBERED_PASSWORDS, verify_password, verify_without_profile};
pub use policy::{
    DEFAULT_CLASSES, DEFAULT_MIN_LENGTH, MAX_AGE_RANGE, MIN_LENGTH_RANGE, PasswordPolicy,
    REUSE_RANGE, Rule, SYMBOLS, Violations, check_password,
};
