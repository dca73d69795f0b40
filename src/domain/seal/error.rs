//! Errors of sealing and opening secrets at rest.
//!
//! Owns: [`SealError`]. Messages are lowercase and never contain key
//! material or plaintext. Pure.

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The master key text is not base64 of exactly 32 bytes.
    #[error("the master key must be base64 of exactly 32 bytes")]
    MasterKeyFormat,
    /// A sealing key id is empty, too long or has characters outside `[A-Za-z0-9._-]`.
    #[error("a sealing key id must be 1 to 32 characters of letters, digits, '.', '_' or '-'")]
    KeyIdFormat,
    /// A sealed blob is truncated, has an unknown version or is not base64.
    #[error("the sealed blob is malformed")]
    MalformedBlob,
    /// The blob was sealed under another key id than the key offered.
    #[error("the sealed blob names key id '{blob}', not '{offered}'")]
    KeyIdMismatch {
        /// The key id recorded in the blob.
        blob: String,
        /// The key id the caller opened it with.
        offered: String,
    },
    /// Authentication failed: the blob was altered, sealed under another key,
    /// or sealed for another purpose.
    #[error("the sealed blob failed authentication")]
    Authentication,
    /// The cipher refused to seal (the plaintext is too long).
    #[error("the secret could not be sealed")]
    Seal,
}
