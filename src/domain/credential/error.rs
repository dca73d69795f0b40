//! Why a session could not be sealed or a token could not be opened.
//!
//! Owns: [`CredentialError`]. Messages are lowercase, one line, and never
//! contain the token, the session's secret or a sealing key. The service
//! layer maps every variant of a failed `open` to `InvalidClientTokenId`
//! (reference 1.7); a failed `seal` is an internal failure. Pure.

/// A sealing or opening failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// The token is not in the sealed-token layout (not base64url, wrong
    /// version, truncated), or its plaintext is not a well-formed session.
    #[error("the session token is malformed")]
    Malformed,
    /// The token names a sealing key this ring does not hold (retired, or
    /// never known).
    #[error("the session token was sealed under an unknown key")]
    UnknownKey,
    /// The token failed authentication: altered, or sealed under another
    /// key of the same id.
    #[error("the session token failed authentication")]
    Tampered,
    /// The token, or the session to seal, exceeds
    /// [`super::MAX_TOKEN_LEN`] characters of token text.
    #[error("the session token exceeds the size limit")]
    TooLarge,
    /// A session to seal, or one just opened, breaks an invariant of
    /// [`super::Session`]; `field` names it.
    #[error("the session's {field} is invalid")]
    Invalid {
        /// The offending field.
        field: &'static str,
    },
    /// A sealing key id is not 1 to 32 characters of `[A-Za-z0-9._-]`.
    #[error("a sealing key id must be 1 to 32 characters of A-Z, a-z, 0-9, '.', '_' and '-'")]
    KeyIdFormat,
    /// The AEAD primitive refused the key (unreachable for keys made by
    /// [`super::SealingKey::derive`]).
    #[error("the sealing key is unusable")]
    Key,
}
